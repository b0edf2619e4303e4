package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// writeWalk finds what one function writes. Memory is named by the
// variable it is reached from: a package variable (its own storage and what
// it refers to), or a parameter (what it refers to: the caller's memory).
type writeWalk struct {
	p       *pkgState
	fi      *fnInfo
	params  []int
	aliases []string
	vars    []varWrite
	direct  map[*ast.Ident]bool // identifiers of package variables written directly
	seen    map[*types.Var]bool
	stack   []ast.Node
	deps    []*fnInfo // functions of this package whose writes or aliases were consulted
	later   []*ast.FuncLit
}

func (w *writeWalk) run() {
	w.direct = map[*ast.Ident]bool{}
	outer := w.stack
	ast.PreorderStack(w.fi.body, outer, func(n ast.Node, stack []ast.Node) bool {
		w.stack = stack
		w.visit(n)
		return true
	})
	w.stack = outer
	for i := range w.vars {
		for _, lit := range w.later {
			if lit.Pos() <= w.vars[i].pos && w.vars[i].pos < lit.End() {
				w.vars[i].later = true
			}
		}
	}
	slices.Sort(w.params)
	w.params = slices.Compact(w.params)
	slices.Sort(w.aliases)
	w.aliases = slices.Compact(w.aliases)
	w.fi.lvalues = w.direct
}

func (w *writeWalk) typeOf(e ast.Expr) types.Type { return w.p.pass.TypesInfo.TypeOf(e) }

func (w *writeWalk) visit(n ast.Node) {
	switch n := n.(type) {
	case *ast.AssignStmt:
		if n.Tok != token.DEFINE {
			for _, l := range n.Lhs {
				w.store(l, n.TokPos)
			}
		}
	case *ast.IncDecStmt:
		w.store(n.X, n.TokPos)
	case *ast.RangeStmt:
		if n.Tok == token.ASSIGN {
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if e != nil {
					w.store(e, n.TokPos)
				}
			}
		}
	case *ast.UnaryExpr:
		if n.Op == token.AND && w.escapes(n) {
			w.escape(n.X, "its address is taken")
		}
	case *ast.SliceExpr:
		// Slicing an array variable shares its storage.
		if t, ok := w.typeOf(n.X).Underlying().(*types.Array); ok && t != nil && w.escapes(n) {
			w.escape(n.X, "it is sliced")
		}
	case *ast.ReturnStmt:
		for _, r := range n.Results {
			for _, v := range w.memOf(r, 0) {
				if v.Parent() == v.Pkg().Scope() && !types.Implements(v.Type(), errorType) {
					w.aliases = append(w.aliases, varKey(v))
				}
			}
		}
	case *ast.CallExpr:
		w.call(n)
	case *ast.FuncLit:
		if call, ok := w.parentNode().(*ast.CallExpr); !ok || ast.Unparen(call.Fun) != n {
			w.later = append(w.later, n)
		}
	}
}

func (w *writeWalk) parentNode() ast.Node {
	for i := len(w.stack) - 1; i >= 0; i-- {
		if _, paren := w.stack[i].(*ast.ParenExpr); !paren {
			return w.stack[i]
		}
	}
	return nil
}

// escape records that the storage of x can be written where the walk does
// not follow: a package variable at its root is written directly.
func (w *writeWalk) escape(x ast.Expr, how string) {
	if v, id := w.p.rootVar(x); v != nil && id != nil {
		w.direct[id] = true
		w.vars = append(w.vars, varWrite{v: v, pos: id.Pos()})
	}
	w.write(w.storageOf(x, 0), x, how)
}

// store records a write of an lvalue.
func (w *writeWalk) store(lhs ast.Expr, pos token.Pos) {
	how := "through " + describe(lhs)
	if v, id := w.p.rootVar(lhs); v != nil {
		w.direct[id] = true
		w.vars = append(w.vars, varWrite{v: v, pos: id.Pos()})
		how = "through " + v.Name()
	}
	w.write(w.storageOf(lhs, 0), lhs, how)
}

// write records that memory reached from vars is written at e.
func (w *writeWalk) write(vars []*types.Var, e ast.Expr, how string) {
	root, id := w.p.rootVar(e)
	for _, v := range vars {
		if idx, ok := w.fi.params[v]; ok {
			w.params = append(w.params, idx)
			continue
		}
		if v.Parent() != v.Pkg().Scope() || v == root && w.direct[id] {
			continue // the direct write is recorded with its identifier
		}
		w.vars = append(w.vars, varWrite{v: v, pos: e.Pos(), how: how, rooted: v == root})
	}
}

// escapes reports whether an address taken (or an array sliced) can be
// written through where the walk cannot follow it: not a local's value,
// not an argument of a function whose writes are known, not returned.
func (w *writeWalk) escapes(n ast.Expr) bool {
	if len(w.stack) == 0 {
		return true
	}
	switch parent := w.stack[len(w.stack)-1].(type) {
	case *ast.AssignStmt:
		for _, l := range parent.Lhs {
			if v, _ := w.p.rootVar(l); v != nil {
				return true
			}
		}
		return false
	case *ast.ValueSpec, *ast.ReturnStmt:
		return false
	case *ast.CallExpr:
		if ast.Unparen(parent.Fun) == n {
			return true
		}
		fn := w.p.staticCallee(parent)
		return fn == nil || !w.modelled(fn)
	}
	return true
}

// modelled reports whether the writes of a function are known: its
// package's code or facts (the standard library only for its mutators).
func (w *writeWalk) modelled(fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	path := fn.Pkg().Path()
	switch {
	case isMembrane(path):
		return true // the membrane copies what crosses
	case isStd(path):
		return false
	case fn.Pkg() == w.p.pass.Pkg:
		return w.p.funcs[fn] != nil
	}
	return w.p.analysed(fn.Pkg())
}

// calleeWrites returns the parameters (-1: receiver) a callee writes.
func (w *writeWalk) calleeWrites(fn *types.Func) []int {
	if fn.Pkg() == w.p.pass.Pkg {
		if fi := w.p.funcs[fn]; fi != nil {
			w.deps = append(w.deps, fi)
			return fi.paramWrites
		}
		return nil
	}
	var ff funcFact
	if w.p.pass.ImportObjectFact(fn, &ff) {
		return ff.Writes
	}
	return nil
}

func (w *writeWalk) call(call *ast.CallExpr) {
	info := w.p.pass.TypesInfo
	if b, ok := info.Uses[identOf(call.Fun)].(*types.Builtin); ok && len(call.Args) > 0 {
		switch b.Name() {
		case "delete", "clear", "copy":
			w.write(w.memOf(call.Args[0], 0), call.Args[0], "by "+b.Name())
			if v, id := w.p.rootVar(call.Args[0]); v != nil && id != nil {
				w.direct[id] = true
				w.vars = append(w.vars, varWrite{v: v, pos: id.Pos()})
			}
		}
		return
	}
	fn := w.p.staticCallee(call)
	if fn == nil || fn.Pkg() == nil {
		return
	}
	if isStd(fn.Pkg().Path()) {
		full := w.p.full(fn)
		if stdMutators[full] && len(call.Args) > 0 {
			w.write(w.memOf(call.Args[0], 0), call.Args[0], "by "+stdName(fn))
			if v, id := w.p.rootVar(call.Args[0]); v != nil && id != nil {
				w.direct[id] = true
				w.vars = append(w.vars, varWrite{v: v, pos: id.Pos()})
			}
		}
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && pointerRecv(fn) && !readOnlyStd[recvTypeName(full)] {
			w.receiverWrite(sel.X, "by "+stdName(fn))
		}
		return
	}
	if !w.modelled(fn) {
		return
	}
	writes := w.calleeWrites(fn)
	if len(writes) == 0 {
		return
	}
	name := w.p.funcName(fn)
	sig := fn.Type().(*types.Signature)
	for _, idx := range writes {
		switch {
		case idx == -1:
			if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && info.Selections[sel] != nil {
				if pointerRecv(fn) {
					w.receiverWrite(sel.X, "by "+name)
				} else {
					w.argWrite(sel.X, "by "+name)
				}
			}
		case sig.Variadic() && idx == sig.Params().Len()-1:
			for _, a := range call.Args[min(idx, len(call.Args)):] {
				w.argWrite(a, "by "+name)
			}
		case idx < len(call.Args):
			w.argWrite(call.Args[idx], "by "+name)
		}
	}
}

// argWrite: a callee writes what an argument refers to. An argument that
// is a package variable itself is a direct write of it.
func (w *writeWalk) argWrite(a ast.Expr, how string) {
	if v, id := w.p.rootVar(a); v != nil && id != nil && shares(w.typeOf(a)) {
		w.direct[id] = true
		w.vars = append(w.vars, varWrite{v: v, pos: id.Pos()})
	}
	w.write(w.memOf(a, 0), a, how)
}

// receiverWrite: a method with a pointer receiver writes what its receiver
// expression is (its storage when the method takes its address).
func (w *writeWalk) receiverWrite(x ast.Expr, how string) {
	if t := w.typeOf(x); t != nil {
		if _, isPtr := t.Underlying().(*types.Pointer); !isPtr && !types.IsInterface(t) {
			if v, id := w.p.rootVar(x); v != nil && id != nil {
				w.direct[id] = true
				w.vars = append(w.vars, varWrite{v: v, pos: id.Pos()})
			}
			w.write(w.storageOf(x, 0), x, how)
			return
		}
	}
	w.write(w.memOf(x, 0), x, how)
}

// readOnlyStd are standard types whose pointer methods do not change what
// a flow reads of them: compiled values, and loggers (their effect is
// output).
var readOnlyStd = map[string]bool{
	"*regexp.Regexp": true, "*strings.Replacer": true, "*time.Location": true, "*net/url.URL": true,
	"*text/template.Template": true, "*html/template.Template": true, "*log.Logger": true, "*log/slog.Logger": true,
}

func pointerRecv(fn *types.Func) bool {
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return false
	}
	_, ok := recv.Type().(*types.Pointer)
	return ok
}

// storageOf: the variables whose memory an lvalue is in.
func (w *writeWalk) storageOf(e ast.Expr, depth int) []*types.Var {
	if depth > 8 {
		return nil
	}
	info := w.p.pass.TypesInfo
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		if v := w.p.packageVar(x); v != nil {
			return w.withAliases(v)
		}
	case *ast.SelectorExpr:
		if _, isPkg := info.Uses[identOf(x.X)].(*types.PkgName); isPkg {
			if v := w.p.packageVar(x.Sel); v != nil {
				return w.withAliases(v)
			}
			return nil
		}
		if t := w.typeOf(x.X); t != nil {
			if _, isPtr := t.Underlying().(*types.Pointer); isPtr {
				return w.memOf(x.X, depth+1)
			}
		}
		return w.storageOf(x.X, depth+1)
	case *ast.IndexExpr:
		if t := w.typeOf(x.X); t != nil {
			if _, isArray := t.Underlying().(*types.Array); isArray {
				return w.storageOf(x.X, depth+1)
			}
		}
		return w.memOf(x.X, depth+1)
	case *ast.StarExpr:
		return w.memOf(x.X, depth+1)
	case *ast.CallExpr:
		return w.memOf(x, depth+1)
	}
	return nil
}

// memOf: the variables whose memory the value of e can refer to.
func (w *writeWalk) memOf(e ast.Expr, depth int) []*types.Var {
	if depth > 8 {
		return nil
	}
	info := w.p.pass.TypesInfo
	e = ast.Unparen(e)
	if t := w.typeOf(e); t != nil && !shares(t) {
		return nil
	}
	switch x := e.(type) {
	case *ast.Ident:
		v, ok := info.Uses[x].(*types.Var)
		if !ok {
			return nil
		}
		if pv := w.p.packageVar(x); pv != nil {
			return w.withAliases(pv)
		}
		if _, isParam := w.fi.params[v]; isParam {
			return []*types.Var{v}
		}
		l := w.fi.locals[v]
		if l == nil || w.seen[v] {
			return nil
		}
		if w.seen == nil {
			w.seen = map[*types.Var]bool{}
		}
		w.seen[v] = true
		defer delete(w.seen, v)
		var out []*types.Var
		for _, s := range l.srcs {
			switch {
			case s.rangeOf != nil:
				if !s.rangeKey {
					out = append(out, w.memOf(s.rangeOf, depth+1)...)
				}
			default:
				out = append(out, w.memOf(s.expr, depth+1)...)
			}
		}
		return out
	case *ast.SelectorExpr:
		if _, isPkg := info.Uses[identOf(x.X)].(*types.PkgName); isPkg {
			if v := w.p.packageVar(x.Sel); v != nil {
				return w.withAliases(v)
			}
			return nil
		}
		if sel := info.Selections[x]; sel != nil && sel.Kind() != types.FieldVal {
			return nil // a method value
		}
		return append(w.memOf(x.X, depth+1), w.storageOf(x, depth+1)...)
	case *ast.IndexExpr:
		return append(w.memOf(x.X, depth+1), w.storageOf(x, depth+1)...)
	case *ast.StarExpr:
		return append(w.memOf(x.X, depth+1), w.storageOf(x, depth+1)...)
	case *ast.SliceExpr:
		out := w.memOf(x.X, depth+1)
		if t := w.typeOf(x.X); t != nil {
			if _, isArray := t.Underlying().(*types.Array); isArray {
				out = append(out, w.storageOf(x.X, depth+1)...)
			}
		}
		return out
	case *ast.UnaryExpr:
		if x.Op == token.AND {
			return append(w.storageOf(x.X, depth+1), w.memOf(x.X, depth+1)...)
		}
	case *ast.CompositeLit:
		var out []*types.Var
		for _, el := range x.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				el = kv.Value
			}
			out = append(out, w.memOf(el, depth+1)...)
		}
		return out
	case *ast.TypeAssertExpr:
		return w.memOf(x.X, depth+1)
	case *ast.CallExpr:
		if tv, ok := info.Types[x.Fun]; ok && tv.IsType() && len(x.Args) == 1 {
			return w.memOf(x.Args[0], depth+1)
		}
		if b, ok := info.Uses[identOf(x.Fun)].(*types.Builtin); ok {
			if b.Name() == "append" && len(x.Args) > 0 {
				return w.memOf(x.Args[0], depth+1)
			}
			return nil
		}
		fn := w.p.staticCallee(x)
		if fn == nil || fn.Pkg() == nil {
			return nil
		}
		if isStd(fn.Pkg().Path()) {
			// bytes.TrimSpace(b), slices.Clip(s): what is returned is (part
			// of) what is given.
			if len(x.Args) > 0 && stdReturnsFirst(fn.Origin(), w.p.full(fn.Origin())) {
				return w.memOf(x.Args[0], depth+1)
			}
			return nil
		}
		var keys []string
		if fn.Pkg() == w.p.pass.Pkg {
			if fi := w.p.funcs[fn]; fi != nil {
				w.deps = append(w.deps, fi)
				keys = fi.aliases
			}
		} else {
			var ff funcFact
			if w.p.pass.ImportObjectFact(fn, &ff) {
				keys = ff.Aliases
			}
		}
		var out []*types.Var
		for _, k := range keys {
			if v := w.p.lookupVar(k); v != nil {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}

// withAliases: a package variable and those its initializer aliases.
func (w *writeWalk) withAliases(v *types.Var) []*types.Var {
	out := []*types.Var{v}
	if vi := w.p.vars[v]; vi != nil {
		out = append(out, vi.aliases...)
	}
	return out
}
