package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// Locals: every value a function gives its local variables and parameters.

// source is one value given to a local variable.
type source struct {
	expr     ast.Expr
	result   int      // the result of a call that has several; -1 when expr is the value
	rangeOf  ast.Expr // the value (or key, with rangeKey) of a range over rangeOf
	rangeKey bool
	path     []string // for x.f = e and x[k] = e: where in the variable e goes
}

// local is what a local variable (or a parameter) is given in its function.
type local struct {
	srcs      []source
	addressed bool // its address is taken: it can change through the pointer
	bumped    bool // incremented, or assigned by an operator
	litParam  bool // a parameter of a function literal: its arguments are not traced
	// uses are calls it is given to (as receiver: index -1): what their
	// callees store in it is a value it holds.
	uses      []use
	storeUses []use // the uses whose callees store into it
}

type use struct {
	call *ast.CallExpr
	arg  int
}

// assignedOnce returns the one value a local variable is ever given.
func (fi *fnInfo) assignedOnce(v *types.Var) ast.Expr {
	l := fi.locals[v]
	if l == nil || l.addressed || l.bumped || len(l.srcs) != 1 || l.srcs[0].path != nil || l.srcs[0].rangeOf != nil {
		return nil
	}
	return l.srcs[0].expr
}

// collectLocals records every value given to the function's locals and
// parameters.
func (p *pkgState) collectLocals(fi *fnInfo, body ast.Node) {
	info := p.pass.TypesInfo
	get := func(id *ast.Ident) *local {
		obj := info.Defs[id]
		if obj == nil {
			obj = info.Uses[id]
		}
		v, ok := obj.(*types.Var)
		if !ok || v.IsField() || v.Pkg() == nil || v.Parent() == v.Pkg().Scope() {
			return nil
		}
		l := fi.locals[v]
		if l == nil {
			l = &local{}
			fi.locals[v] = l
		}
		return l
	}
	assign := func(lhs, rhs ast.Expr, result int) {
		var path []string
		e := ast.Unparen(lhs)
		for {
			switch x := e.(type) {
			case *ast.SelectorExpr:
				if _, isPkg := info.Uses[identOf(x.X)].(*types.PkgName); isPkg {
					return
				}
				path = append([]string{x.Sel.Name}, path...)
				e = ast.Unparen(x.X)
				continue
			case *ast.IndexExpr:
				path = append([]string{"[]"}, path...)
				e = ast.Unparen(x.X)
				continue
			case *ast.StarExpr:
				e = ast.Unparen(x.X)
				continue
			case *ast.Ident:
				if l := get(x); l != nil {
					l.srcs = append(l.srcs, source{expr: rhs, result: result, path: path})
				}
			}
			return
		}
	}
	// Literals called where they are written, func(f func()) { f() }(g):
	// their parameters are given the call's arguments.
	invokedWith := map[*ast.FuncLit]*ast.CallExpr{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			call := invokedWith[n]
			i := 0
			for _, f := range n.Type.Params.List {
				_, variadic := f.Type.(*ast.Ellipsis)
				for _, id := range f.Names {
					if l := get(id); l != nil {
						if call != nil && !variadic && !call.Ellipsis.IsValid() && i < len(call.Args) {
							l.srcs = append(l.srcs, source{expr: call.Args[i], result: -1})
						} else {
							l.litParam = true
						}
					}
					i++
				}
				if len(f.Names) == 0 {
					i++
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				switch {
				case len(n.Values) == len(n.Names):
					assign(id, n.Values[i], -1)
				case len(n.Values) == 1:
					assign(id, n.Values[0], i)
				default:
					get(id) // the zero value
				}
			}
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				switch {
				case n.Tok != token.DEFINE && n.Tok != token.ASSIGN:
					if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
						if l := get(id); l != nil {
							l.bumped = true
						}
					}
				case len(n.Rhs) == len(n.Lhs):
					assign(lhs, n.Rhs[i], -1)
				case len(n.Rhs) == 1:
					assign(lhs, n.Rhs[0], i)
				}
			}
		case *ast.IncDecStmt:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok {
				if l := get(id); l != nil {
					l.bumped = true
				}
			}
		case *ast.RangeStmt:
			if id, ok := n.Key.(*ast.Ident); ok {
				if l := get(id); l != nil {
					l.srcs = append(l.srcs, source{rangeOf: n.X, rangeKey: true})
				}
			}
			if id, ok := n.Value.(*ast.Ident); ok {
				if l := get(id); l != nil {
					l.srcs = append(l.srcs, source{rangeOf: n.X})
				}
			}
		case *ast.UnaryExpr:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && n.Op == token.AND {
				if l := get(id); l != nil {
					l.addressed = true
				}
			}
		case *ast.CallExpr:
			if lit, ok := ast.Unparen(n.Fun).(*ast.FuncLit); ok {
				invokedWith[lit] = n
			}
			given := func(e ast.Expr) *local {
				e = ast.Unparen(e)
				if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
					e = ast.Unparen(u.X)
				}
				if id, ok := e.(*ast.Ident); ok {
					return get(id)
				}
				return nil
			}
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok && info.Selections[sel] != nil {
				if l := given(sel.X); l != nil {
					l.uses = append(l.uses, use{n, -1})
				}
			}
			for i, a := range n.Args {
				if l := given(a); l != nil {
					l.uses = append(l.uses, use{n, i})
				}
			}
		}
		return true
	})
}

// localVar: the values given to a local or parameter of frame fr's
// function, and what it holds as a parameter.
func (r *resolver) localVar(v *types.Var, fr *frame, path []string) []value {
	// What a local of the function judged holds is the same wherever it is
	// asked for: kept, when found without a cycle cut short.
	cacheable := fr.args == nil && fr.recv == nil && len(path) == 0 && r.p.storesDone
	if cacheable {
		if vals, ok := fr.fi.valCache[v]; ok {
			return vals
		}
		cuts := r.cuts
		vals := r.localVarUncached(v, fr, path)
		if r.cuts == cuts {
			if fr.fi.valCache == nil {
				fr.fi.valCache = map[*types.Var][]value{}
			}
			fr.fi.valCache[v] = vals
		}
		return vals
	}
	return r.localVarUncached(v, fr, path)
}

func (r *resolver) localVarUncached(v *types.Var, fr *frame, path []string) []value {
	var out []value
	if idx, ok := fr.fi.params[v]; ok {
		switch {
		case fr.args == nil && fr.recv == nil:
			out = append(out, value{kind: vParam, param: idx, path: slices.Clone(path)})
		case idx == -1 && fr.recv != nil:
			out = append(out, r.selectPaths(r.values(fr.recv, fr.caller), path)...)
		case idx >= 0 && idx < len(fr.args):
			sig := fr.fi.obj.Type().(*types.Signature)
			if sig.Variadic() && idx == sig.Params().Len()-1 {
				// The elements are the remaining arguments.
				for _, a := range fr.args[idx:] {
					out = append(out, r.selectPaths(r.values(a, fr.caller), trimElem(path))...)
				}
			} else {
				out = append(out, r.selectPaths(r.values(fr.args[idx], fr.caller), path)...)
			}
		default:
			out = append(out, unknown("is a parameter whose argument cannot be known")...)
		}
	} else if fr.fi.flow && isParamOf(fr.fi, v) {
		return unknown("is a parameter of the flow, whose value cannot be known")
	}
	l := fr.fi.locals[v]
	if l == nil || len(l.srcs) == 0 && !l.addressed && !l.litParam {
		if _, isParam := fr.fi.params[v]; isParam || isParamOf(fr.fi, v) {
			if len(out) == 0 {
				return unknown("is a parameter of a function literal, whose argument cannot be known")
			}
			return out
		}
		// Never assigned: its zero value, and what calls store in it.
		if _, isParam := fr.fi.params[v]; l != nil && !isParam {
			out = append(out, r.stored(l, v.Type(), fr, path)...)
		}
		if t := v.Type(); !types.IsInterface(t) {
			if _, isFunc := t.Underlying().(*types.Signature); !isFunc {
				return append(out, r.selectPaths([]value{{kind: vComposite, comp: &ast.CompositeLit{}, typ: t, fr: fr}}, path)...)
			}
		}
		return append(out, value{kind: vNil})
	}
	if _, isParam := fr.fi.params[v]; !isParam {
		// Stores into a parameter are its caller's to see.
		out = append(out, r.stored(l, v.Type(), fr, path)...)
	}
	if l.litParam {
		return append(out, unknown("is a parameter of a function literal, whose argument cannot be known")...)
	}
	if l.addressed {
		return append(out, unknown("has its address taken, and can change through it")...)
	}
	for _, s := range l.srcs {
		var vals []value
		switch {
		case s.rangeOf != nil:
			if s.rangeKey {
				if t := r.p.pass.TypesInfo.TypeOf(s.rangeOf); t != nil {
					if _, isFunc := t.Underlying().(*types.Signature); !isFunc {
						continue // keys of maps and indexes: not values that call
					}
				}
			}
			vals = r.selectPath(r.values(s.rangeOf, fr), "[]")
		case s.result >= 0:
			if call, ok := ast.Unparen(s.expr).(*ast.CallExpr); ok {
				vals = r.call(call, fr, s.result)
			} else {
				vals = unknown("cannot be traced") // v, ok := m[k] and the like
				if ix, ok := ast.Unparen(s.expr).(*ast.IndexExpr); ok && s.result == 0 {
					vals = r.values(ix, fr)
				} else if ta, ok := ast.Unparen(s.expr).(*ast.TypeAssertExpr); ok && s.result == 0 {
					vals = r.values(ta, fr)
				}
			}
		default:
			vals = r.values(s.expr, fr)
		}
		switch {
		case s.path == nil:
			out = append(out, r.selectPaths(vals, path)...)
		case hasPrefix(path, s.path):
			out = append(out, r.selectPaths(vals, path[len(s.path):])...)
		case hasPrefix(s.path, path):
			// x.f.g = e, asking for x.f: a composite holds e at .g; the value
			// asked for is a mix, so what is asked of it is traced via the
			// other sources and this one.
			out = append(out, value{kind: vComposite, comp: &ast.CompositeLit{Elts: []ast.Expr{nest(s.path[len(path):], &valueExpr{vals: vals})}}, typ: pathType(v.Type(), path), fr: fr})
		}
	}
	return out
}

func isParamOf(fi *fnInfo, v *types.Var) bool {
	if fi.decl == nil {
		return false
	}
	sig := fi.obj.Type().(*types.Signature)
	if sig.Recv() == v {
		return true
	}
	for i := range sig.Params().Len() {
		if sig.Params().At(i) == v {
			return true
		}
	}
	return false
}
