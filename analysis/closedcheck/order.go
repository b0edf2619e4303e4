package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// A sort erases the order a slice was filled in only if equal elements are
// indistinguishable: it compares whole elements (strings, numbers), every
// field of a struct, or a field that holds the map key (which is unique). A
// comparator that compares part of each element can tie, and ties keep
// whatever order the slice was filled in — a map's, at random.

// sortErases reports whether a call sorts v so that its order is erased;
// elems are the values stored in v, key the range key they may hold.
func (w *walker) sortErases(call *ast.CallExpr, v *types.Var, elems []ast.Expr, key *types.Var) bool {
	fn := w.p.staticCallee(call)
	if fn == nil || len(call.Args) == 0 {
		return false
	}
	isV := func(e ast.Expr) bool {
		if sl, ok := ast.Unparen(e).(*ast.SliceExpr); ok {
			e = sl.X
		}
		return w.localVar(e) == v
	}
	switch fn.FullName() {
	case "sort.Strings", "sort.Ints", "sort.Float64s", "slices.Sort":
		return isV(call.Args[0])
	case "slices.SortFunc", "slices.SortStableFunc":
		return len(call.Args) == 2 && isV(call.Args[0]) && w.comparatorErases(call.Args[1], elems, key, nil, nil)
	case "sort.Slice", "sort.SliceStable":
		return len(call.Args) == 2 && isV(call.Args[0]) && w.comparatorErases(call.Args[1], elems, key, call.Args[0], nil)
	case "sort.Sort", "sort.Stable":
		return w.sortInterfaceErases(call.Args[0], v, elems, key)
	}
	return false
}

// sortInterfaceErases judges sort.Sort(x): sort.StringSlice and friends, a
// reversal, or a type of this package whose Less compares whole elements.
func (w *walker) sortInterfaceErases(e ast.Expr, v *types.Var, elems []ast.Expr, key *types.Var) bool {
	e = ast.Unparen(e)
	info := w.p.pass.TypesInfo
	call, ok := e.(*ast.CallExpr)
	if !ok {
		if w.localVar(e) != v {
			return false
		}
		return w.lessErases(info.TypeOf(e), elems, key)
	}
	if fn := w.p.staticCallee(call); fn != nil && fn.FullName() == "sort.Reverse" && len(call.Args) == 1 {
		return w.sortInterfaceErases(call.Args[0], v, elems, key)
	}
	tv, isConv := info.Types[call.Fun]
	if !isConv || !tv.IsType() || len(call.Args) != 1 || !w.mentions(call.Args[0], v) {
		return false
	}
	switch types.TypeString(tv.Type, nil) {
	case "sort.StringSlice", "sort.IntSlice", "sort.Float64Slice":
		return true
	}
	return w.lessErases(tv.Type, elems, key)
}

// lessErases judges the Less method of a type of this package.
func (w *walker) lessErases(t types.Type, elems []ast.Expr, key *types.Var) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, true, w.p.pass.Pkg, "Less")
	fn, ok := obj.(*types.Func)
	if !ok || fn.Pkg() != w.p.pass.Pkg {
		return false
	}
	fi := w.p.funcs[fn]
	if fi == nil || fi.decl == nil || fi.decl.Recv == nil || len(fi.decl.Recv.List[0].Names) == 0 {
		return false
	}
	recv, _ := w.p.pass.TypesInfo.Defs[fi.decl.Recv.List[0].Names[0]].(*types.Var)
	i, j := w.paramVars(fi.decl.Type)
	if recv == nil || i == nil || j == nil {
		return false
	}
	elem := elemType(t)
	cmp := &comparison{w: w, a: i, b: j, indexed: true, over: recv}
	return cmp.erases(fi.decl.Body, elem, elems, key)
}

// comparatorErases judges a comparator: a function literal, a function of
// this package, or a standard one that compares whole values. over is the
// slice a sort.Slice comparator indexes.
func (w *walker) comparatorErases(cmpFn ast.Expr, elems []ast.Expr, key *types.Var, over ast.Expr, _ *types.Var) bool {
	info := w.p.pass.TypesInfo
	switch f := ast.Unparen(cmpFn).(type) {
	case *ast.FuncLit:
		a, b := w.paramVars(f.Type)
		if a == nil || b == nil {
			return false
		}
		cmp := &comparison{w: w, a: a, b: b}
		var elem types.Type
		if over != nil {
			cmp.indexed = true
			elem = elemType(info.TypeOf(over))
		} else {
			elem = a.Type()
		}
		return cmp.erases(f.Body, elem, elems, key)
	case *ast.Ident, *ast.SelectorExpr, *ast.IndexExpr, *ast.IndexListExpr:
		id := identOf(f)
		if ix, ok := f.(*ast.IndexExpr); ok {
			id = identOf(ix.X)
		} else if ix, ok := f.(*ast.IndexListExpr); ok {
			id = identOf(ix.X)
		}
		fn, ok := info.Uses[id].(*types.Func)
		if !ok {
			return false
		}
		switch fn.Origin().FullName() {
		case "strings.Compare", "cmp.Compare", "cmp.Less", "bytes.Compare", "(time.Time).Compare":
			return over == nil
		}
		if fi := w.p.funcs[fn.Origin()]; fi != nil && fi.decl != nil && over == nil {
			a, b := w.paramVars(fi.decl.Type)
			if a == nil || b == nil {
				return false
			}
			cmp := &comparison{w: w, a: a, b: b}
			return cmp.erases(fi.decl.Body, a.Type(), elems, key)
		}
	}
	return false
}

// paramVars returns a function type's first two parameters.
func (w *walker) paramVars(ft *ast.FuncType) (*types.Var, *types.Var) {
	var vs []*types.Var
	for _, f := range ft.Params.List {
		for _, n := range f.Names {
			v, _ := w.p.pass.TypesInfo.Defs[n].(*types.Var)
			vs = append(vs, v)
		}
	}
	if len(vs) != 2 {
		return nil, nil
	}
	return vs[0], vs[1]
}

func elemType(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	switch u := t.Underlying().(type) {
	case *types.Slice:
		return u.Elem()
	case *types.Array:
		return u.Elem()
	case *types.Pointer:
		return elemType(u.Elem())
	}
	return nil
}

// comparison finds what a comparator compares: paths of fields (from a and
// b, or from over[a] and over[b] when indexed) compared with each other.
type comparison struct {
	w       *walker
	a, b    *types.Var
	indexed bool
	over    *types.Var // the receiver indexed by a Less method
	paths   [][]string
}

// path is the field path of e from the element named by v, if e is one.
func (c *comparison) path(e ast.Expr, v *types.Var) ([]string, bool) {
	info := c.w.p.pass.TypesInfo
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		return nil, !c.indexed && info.Uses[x] == v
	case *ast.IndexExpr:
		if c.indexed && info.Uses[identOf(x.Index)] == v {
			return nil, c.over == nil || info.Uses[identOf(x.X)] == c.over
		}
	case *ast.SelectorExpr:
		if sel := info.Selections[x]; sel == nil || sel.Kind() != types.FieldVal {
			return nil, false
		}
		p, ok := c.path(x.X, v)
		return append(p, x.Sel.Name), ok
	case *ast.StarExpr:
		return c.path(x.X, v)
	}
	return nil, false
}

// pair notes x and y compared with each other.
func (c *comparison) pair(x, y ast.Expr) {
	pa, okA := c.path(x, c.a)
	pb, okB := c.path(y, c.b)
	if !okA || !okB {
		pa, okA = c.path(x, c.b)
		pb, okB = c.path(y, c.a)
	}
	if okA && okB && slices.Equal(pa, pb) {
		c.paths = append(c.paths, pa)
	}
}

func (c *comparison) collect(body ast.Node) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			switch n.Op {
			case token.LSS, token.GTR, token.LEQ, token.GEQ, token.EQL, token.NEQ:
				c.pair(n.X, n.Y)
			}
		case *ast.CallExpr:
			if fn := c.w.p.staticCallee(n); fn != nil {
				switch fn.FullName() {
				case "cmp.Compare", "cmp.Less", "strings.Compare", "bytes.Compare":
					if len(n.Args) == 2 {
						c.pair(n.Args[0], n.Args[1])
					}
					return true
				}
				if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok && len(n.Args) == 1 {
					switch fn.Name() {
					case "Compare", "Before", "After", "Cmp", "Less", "Equal":
						c.pair(sel.X, n.Args[0])
					}
				}
			}
		}
		return true
	})
}

// erases: the comparator compares whole elements, every field, or the
// field holding the map key.
func (c *comparison) erases(body ast.Node, elem types.Type, elems []ast.Expr, key *types.Var) bool {
	c.collect(body)
	fields := map[string]bool{}
	for _, p := range c.paths {
		if len(p) == 0 {
			return true
		}
		if len(p) == 1 {
			fields[p[0]] = true
		}
	}
	if elem != nil {
		t := elem
		if ptr, ok := t.Underlying().(*types.Pointer); ok {
			t = ptr.Elem()
		}
		if st, ok := t.Underlying().(*types.Struct); ok && st.NumFields() > 0 {
			all := true
			for i := range st.NumFields() {
				all = all && fields[st.Field(i).Name()]
			}
			if all {
				return true
			}
		}
	}
	for f := range fields {
		if key != nil && len(elems) > 0 && c.allHoldKey(elems, f, key) {
			return true
		}
	}
	return false
}

// allHoldKey: every element stored is a struct literal whose field f is the
// range key.
func (c *comparison) allHoldKey(elems []ast.Expr, f string, key *types.Var) bool {
	for _, e := range elems {
		e = ast.Unparen(e)
		if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
			e = ast.Unparen(u.X)
		}
		lit, ok := e.(*ast.CompositeLit)
		if !ok {
			return false
		}
		found := false
		for _, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok && id.Name == f && c.w.localVar(kv.Value) == key {
					found = true
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}
