package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// What a function stores into the memory it is given (c.steps =
// append(c.steps, f), r.handlers[name] = h) is part of what that memory
// holds for its callers: a saga's compensations, a registry's handlers, a
// builder's steps. The stores of each function are found here, to a fixed
// point over the package's calls, and travel in facts.

func (v *valueExpr) Pos() token.Pos { return token.NoPos }
func (v *valueExpr) End() token.Pos { return token.NoPos }

// Bounds on what a function's stores say.
const (
	maxStorePath = 6
	maxStores    = 24
)

// storeUses are the uses of a local whose callees store into it (all of
// them while stores are being found).
func (p *pkgState) storeUses(l *local) []use {
	if !p.storesDone {
		return l.uses
	}
	if l.storeUses == nil {
		l.storeUses = []use{}
		for _, u := range l.uses {
			for _, st := range p.storesOf(u.call) {
				if st.Dst == u.arg {
					l.storeUses = append(l.storeUses, u)
					break
				}
			}
		}
	}
	return l.storeUses
}

// storesOf returns the stores of the function a call calls.
func (p *pkgState) storesOf(call *ast.CallExpr) []Store {
	if p.storesDone {
		if st, ok := p.storeCache[call]; ok {
			return st
		}
		st := p.storesOfUncached(call)
		if p.storeCache == nil {
			p.storeCache = map[*ast.CallExpr][]Store{}
		}
		p.storeCache[call] = st
		return st
	}
	return p.storesOfUncached(call)
}

func (p *pkgState) storesOfUncached(call *ast.CallExpr) []Store {
	fn := p.staticCallee(call)
	if fn == nil || fn.Pkg() == nil || isStd(fn.Pkg().Path()) {
		return nil
	}
	if fn.Pkg() == p.pass.Pkg {
		if fi := p.funcs[fn]; fi != nil {
			return fi.stores
		}
		return nil
	}
	var ff funcFact
	p.pass.ImportObjectFact(fn, &ff)
	return ff.Stores
}

// computeStores finds every function's stores.
func (p *pkgState) computeStores() {
	for range 4 {
		changed := false
		for _, fi := range p.allFuncs() {
			if fi.decl == nil || fi.trusted || fi.denied || len(fi.params) == 0 {
				continue
			}
			st := p.storesIn(fi)
			if !slices.EqualFunc(st, fi.stores, func(a, b Store) bool {
				return a.Dst == b.Dst && a.Src == b.Src && slices.Equal(a.DstPath, b.DstPath) && slices.Equal(a.SrcPath, b.SrcPath)
			}) {
				fi.stores, changed = st, true
			}
		}
		if !changed {
			return
		}
	}
}

// paramPath returns the parameter at the root of an lvalue and the path
// from it.
func (p *pkgState) paramPath(fi *fnInfo, e ast.Expr) (int, []string, bool) {
	root, path := lvalueRoot(p.pass.TypesInfo, e)
	id, ok := root.(*ast.Ident)
	if !ok {
		return 0, nil, false
	}
	v, ok := p.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok {
		return 0, nil, false
	}
	idx, ok := fi.params[v]
	return idx, path, ok
}

// storesIn finds what fi stores into its parameters.
func (p *pkgState) storesIn(fi *fnInfo) []Store {
	r := p.resolver(fi)
	root := &frame{fi: fi}
	var out []Store
	put := func(s Store) {
		// Paths are bounded (a recursive function storing into what it
		// passes itself would grow them), and so is the number of stores:
		// past either, a store of something that cannot be traced.
		if len(s.DstPath) > maxStorePath {
			s.DstPath, s.Src, s.SrcPath = s.DstPath[:maxStorePath], -2, nil
		}
		if len(s.SrcPath) > maxStorePath {
			s.Src, s.SrcPath = -2, nil
		}
		if slices.ContainsFunc(out, func(o Store) bool {
			return o.Dst == s.Dst && o.Src == s.Src && slices.Equal(o.DstPath, s.DstPath) && slices.Equal(o.SrcPath, s.SrcPath)
		}) {
			return
		}
		if len(out) >= maxStores {
			s.DstPath, s.Src, s.SrcPath = nil, -2, nil
			if slices.ContainsFunc(out, func(o Store) bool { return o.Dst == s.Dst && o.Src == -2 && len(o.DstPath) == 0 }) {
				return
			}
		}
		out = append(out, s)
	}
	add := func(dst int, dstPath []string, e ast.Expr, srcPath ...string) {
		for _, v := range r.selectPaths(r.values(e, root), srcPath) {
			s := Store{Dst: dst, DstPath: slices.Clone(dstPath), Src: -2}
			switch v.kind {
			case vParam:
				s.Src, s.SrcPath = v.param, v.path
			case vLit, vNil:
				continue // a literal's code is judged where the function is called
			}
			put(s)
		}
	}
	info := p.pass.TypesInfo
	ast.Inspect(fi.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.ASSIGN || len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, lhs := range n.Lhs {
				dst, path, ok := p.paramPath(fi, lhs)
				if !ok || !p.reachesCaller(fi, dst, path, lhs) {
					continue // a write into the function's own copy
				}
				rhs := ast.Unparen(n.Rhs[i])
				if call, ok := rhs.(*ast.CallExpr); ok {
					if b, ok := info.Uses[identOf(call.Fun)].(*types.Builtin); ok && b.Name() == "append" && len(call.Args) > 0 {
						elem := append(slices.Clone(path), "[]")
						for _, a := range call.Args[1:] {
							if call.Ellipsis.IsValid() && a == call.Args[len(call.Args)-1] {
								add(dst, path, a)
							} else {
								add(dst, elem, a)
							}
						}
						continue
					}
				}
				add(dst, path, rhs)
			}
		case *ast.CallExpr:
			// Stores of callees into what this function was given.
			for _, st := range p.storesOf(n) {
				var dstExpr ast.Expr
				switch {
				case st.Dst == -1:
					if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
						dstExpr = sel.X
					}
				case st.Dst < len(n.Args):
					dstExpr = n.Args[st.Dst]
				}
				if u, ok := ast.Unparen(dstExpr).(*ast.UnaryExpr); ok && u.Op == token.AND {
					dstExpr = u.X
				}
				if dstExpr == nil {
					continue
				}
				dst, path, ok := p.paramPath(fi, dstExpr)
				if !ok {
					continue
				}
				path = append(path, st.DstPath...)
				switch {
				case st.Src == -2:
					put(Store{Dst: dst, DstPath: path, Src: -2})
				case st.Src == -1:
					if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
						add(dst, path, sel.X, st.SrcPath...)
					}
				case st.Src < len(n.Args):
					add(dst, path, n.Args[st.Src], st.SrcPath...)
				}
			}
		}
		return true
	})
	return out
}

func isDeref(e ast.Expr) bool {
	_, ok := ast.Unparen(e).(*ast.StarExpr)
	return ok
}

// reachesCaller reports whether a write at path into parameter dst writes
// memory the caller shares: the path goes through a pointer, a slice or a
// map.
func (p *pkgState) reachesCaller(fi *fnInfo, dst int, path []string, lhs ast.Expr) bool {
	if isDeref(lhs) {
		return true
	}
	var t types.Type
	for v, idx := range fi.params {
		if idx == dst {
			t = v.Type()
		}
	}
	for _, step := range path {
		if t == nil {
			return false
		}
		switch t.Underlying().(type) {
		case *types.Pointer, *types.Slice, *types.Map:
			return true
		}
		t = pathType(t, []string{step})
	}
	return false
}

// stored: the values calls store in a local it is given to, at path.
func (r *resolver) stored(l *local, t types.Type, fr *frame, path []string) []value {
	var out []value
	for _, u := range r.p.storeUses(l) {
		for _, st := range r.p.storesOf(u.call) {
			if st.Dst != u.arg {
				continue
			}
			var vals []value
			switch {
			case st.Src == -2:
				vals = unknown("is stored by a call in a way that cannot be traced")
			case st.Src == -1:
				if sel, ok := ast.Unparen(u.call.Fun).(*ast.SelectorExpr); ok {
					vals = r.selectPaths(r.values(sel.X, fr), st.SrcPath)
				}
			case st.Src < len(u.call.Args):
				vals = r.selectPaths(r.values(u.call.Args[st.Src], fr), st.SrcPath)
			}
			switch {
			case hasPrefix(path, st.DstPath):
				out = append(out, r.selectPaths(vals, path[len(st.DstPath):])...)
			case hasPrefix(st.DstPath, path):
				out = append(out, value{kind: vComposite, comp: &ast.CompositeLit{Elts: []ast.Expr{nest(st.DstPath[len(path):], &valueExpr{vals: vals})}}, typ: pathType(t, path), fr: fr})
			}
		}
	}
	return out
}

// valueExpr stands in a synthetic composite for values already found.
type valueExpr struct {
	ast.Expr
	vals []value
}
