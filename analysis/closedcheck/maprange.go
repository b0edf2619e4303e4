package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
)

// rangeStmt judges a range statement: over a channel, over a map, or over
// a map's iterator.
func (w *walker) rangeStmt(r *ast.RangeStmt) {
	t := w.typeOf(r.X)
	if t == nil {
		return
	}
	switch t.Underlying().(type) {
	case *types.Chan:
		w.problem(r.Pos(), "range over a channel", "orders events outside the log; use vows and futures", KindChannel)
		return
	case *types.Map:
	default:
		return // ranges over maps.Keys and friends are judged at the call
	}
	if w.orderFree(r) {
		return
	}
	s := w.problem(r.Pos(), "range over a map", "Go randomizes the iteration order; range over slices.Sorted(maps.Keys(m))", KindMap)
	s.fix = w.sortedRangeFix(r)
}

// mapsIterator judges a call of maps.Keys, maps.Values or maps.All, whose
// iteration order is random, by what consumes it.
func (w *walker) mapsIterator(call *ast.CallExpr, fn *types.Func) {
	switch parent := w.parent(0).(type) {
	case *ast.CallExpr:
		if fn := w.p.staticCallee(parent); fn != nil {
			switch fn.FullName() {
			case "slices.Sorted", "slices.SortedFunc", "slices.SortedStableFunc", "maps.Collect", "maps.Insert":
				return // sorted, or turned back into a map
			case "slices.Collect":
				if w.collectedThenSorted(parent) {
					return
				}
			}
		}
	case *ast.RangeStmt:
		if parent.X == call && w.orderFree(parent) {
			return
		}
	}
	name := stdName(fn)
	w.problem(call.Pos(), name, "yields in random order; sort first, as slices.Sorted("+name+"(m))", KindMap)
}

// collectedThenSorted recognises keys := slices.Collect(maps.Keys(m))
// followed by a sort of keys.
func (w *walker) collectedThenSorted(collect *ast.CallExpr) bool {
	assign, ok := w.parent(1).(*ast.AssignStmt)
	if !ok || len(assign.Lhs) != 1 || len(assign.Rhs) != 1 || assign.Rhs[0] != collect {
		return false
	}
	v := w.localVar(assign.Lhs[0])
	return v != nil && w.sortedNext(assign, v)
}

func (w *walker) localVar(e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	obj := w.p.pass.TypesInfo.Defs[id]
	if obj == nil {
		obj = w.p.pass.TypesInfo.Uses[id]
	}
	v, _ := obj.(*types.Var)
	return v
}

// sortedNext reports whether, in the block holding stmt, the first later
// statement that mentions v sorts it.
func (w *walker) sortedNext(stmt ast.Stmt, v *types.Var) bool {
	var list []ast.Stmt
	for i := len(w.stack) - 1; i >= 0; i-- {
		switch b := w.stack[i].(type) {
		case *ast.BlockStmt:
			list = b.List
		case *ast.CaseClause:
			list = b.Body
		case *ast.CommClause:
			list = b.Body
		default:
			continue
		}
		break
	}
	after := false
	for _, s := range list {
		if s == stmt {
			after = true
			continue
		}
		if !after || !w.mentions(s, v) {
			continue
		}
		es, ok := s.(*ast.ExprStmt)
		if !ok {
			return false
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return false
		}
		fn := w.p.staticCallee(call)
		if fn == nil {
			return false
		}
		switch fn.FullName() {
		case "sort.Strings", "sort.Ints", "sort.Float64s", "sort.Slice", "sort.SliceStable",
			"slices.Sort", "slices.SortFunc", "slices.SortStableFunc":
			return w.localVar(call.Args[0]) == v
		case "sort.Sort", "sort.Stable":
			// sort.Sort(byName(keys)), sort.Sort(sort.Reverse(sort.StringSlice(keys)))
			return w.mentions(call.Args[0], v)
		}
		return false
	}
	return false
}

func (w *walker) mentions(n ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && w.p.pass.TypesInfo.Uses[id] == v {
			found = true
		}
		return !found
	})
	return found
}

// orderFree reports whether a range's result cannot depend on the order of
// iteration: no key or value is used; or the body only appends to slices
// that are sorted right after the loop; or it only does order-independent
// updates (integer accumulation, writes keyed by the range key, constant
// writes, deletes), perhaps under side-effect-free conditions.
func (w *walker) orderFree(r *ast.RangeStmt) bool {
	if r.Key == nil && r.Value == nil {
		return true
	}
	if r.Tok != token.DEFINE {
		return false
	}
	key := w.localVar(r.Key)
	collected := map[*types.Var]bool{}
	if !w.commutative(r.Body.List, key, collected) {
		return false
	}
	for v := range collected {
		if !w.sortedNext(r, v) {
			return false
		}
	}
	return true
}

// commutative reports whether statements give the same result in any order;
// slices they append to are collected, to be sorted after the loop.
func (w *walker) commutative(body []ast.Stmt, key *types.Var, collected map[*types.Var]bool) bool {
	for _, s := range body {
		if !w.commutativeStmt(s, key, collected) {
			return false
		}
	}
	return true
}

// appendTo returns the slice a statement s = append(s, …) appends to.
func (w *walker) appendTo(a *ast.AssignStmt) *types.Var {
	if a.Tok != token.ASSIGN || len(a.Lhs) != 1 || len(a.Rhs) != 1 {
		return nil
	}
	call, ok := a.Rhs[0].(*ast.CallExpr)
	if !ok || len(call.Args) < 2 {
		return nil
	}
	if b, ok := w.p.pass.TypesInfo.Uses[identOf(call.Fun)].(*types.Builtin); !ok || b.Name() != "append" {
		return nil
	}
	v := w.localVar(a.Lhs[0])
	if v == nil || w.localVar(call.Args[0]) != v || !w.pure(call.Args[1:]...) {
		return nil
	}
	return v
}

func (w *walker) commutativeStmt(s ast.Stmt, key *types.Var, collected map[*types.Var]bool) bool {
	info := w.p.pass.TypesInfo
	isInt := func(e ast.Expr) bool {
		t := w.typeOf(e)
		if t == nil {
			return false
		}
		b, ok := t.Underlying().(*types.Basic)
		return ok && b.Info()&types.IsInteger != 0
	}
	switch s := s.(type) {
	case *ast.IncDecStmt:
		return isInt(s.X) && w.target(s.X)
	case *ast.AssignStmt:
		if v := w.appendTo(s); v != nil {
			collected[v] = true
			return true
		}
		if len(s.Lhs) != 1 || len(s.Rhs) != 1 || !w.pure(s.Rhs[0]) {
			return false
		}
		switch s.Tok {
		case token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.OR_ASSIGN, token.AND_ASSIGN, token.XOR_ASSIGN:
			return isInt(s.Lhs[0]) && w.target(s.Lhs[0])
		case token.ASSIGN:
			// x = max(x, e) and x = min(x, e) keep the extreme, in any order.
			if call, ok := s.Rhs[0].(*ast.CallExpr); ok && len(call.Args) == 2 {
				if b, ok := info.Uses[identOf(call.Fun)].(*types.Builtin); ok && (b.Name() == "max" || b.Name() == "min") {
					x := w.localVar(s.Lhs[0])
					return x != nil && w.localVar(call.Args[0]) == x && w.target(s.Lhs[0])
				}
			}
			ix, ok := s.Lhs[0].(*ast.IndexExpr)
			if !ok || !w.target(ix) {
				return false
			}
			if _, isMap := w.typeOf(ix.X).Underlying().(*types.Map); !isMap {
				return false
			}
			// Keyed by the range key, each write has its own key; a
			// constant written under any key gives the same map.
			if key != nil && w.localVar(ix.Index) == key {
				return true
			}
			tv, ok := info.Types[s.Rhs[0]]
			return ok && tv.Value != nil || isEmptyComposite(s.Rhs[0])
		}
		return false
	case *ast.ExprStmt:
		call, ok := s.X.(*ast.CallExpr)
		if !ok {
			return false
		}
		if b, ok := info.Uses[identOf(call.Fun)].(*types.Builtin); ok && b.Name() == "delete" {
			return w.pure(call.Args...)
		}
		return false
	case *ast.IfStmt:
		if w.extremeUpdate(s) {
			return true
		}
		if s.Init != nil || !w.pure(s.Cond) || !w.commutative(s.Body.List, key, collected) {
			return false
		}
		switch e := s.Else.(type) {
		case nil:
			return true
		case *ast.BlockStmt:
			return w.commutative(e.List, key, collected)
		case *ast.IfStmt:
			return w.commutativeStmt(e, key, collected)
		}
		return false
	case *ast.BranchStmt:
		return s.Tok == token.CONTINUE && s.Label == nil
	case *ast.BlockStmt:
		return w.commutative(s.List, key, collected)
	case *ast.EmptyStmt:
		return true
	}
	return false
}

// extremeUpdate recognises if v > best { best = v } (and <, >=, <=): the
// maximum or minimum of values is the same whatever their order, since equal
// values are equal. It must assign nothing else (an argmax is not order
// free: ties pick different keys).
func (w *walker) extremeUpdate(s *ast.IfStmt) bool {
	if s.Init != nil || s.Else != nil || len(s.Body.List) != 1 {
		return false
	}
	cond, ok := ast.Unparen(s.Cond).(*ast.BinaryExpr)
	if !ok {
		return false
	}
	switch cond.Op {
	case token.LSS, token.GTR, token.LEQ, token.GEQ:
	default:
		return false
	}
	a, ok := s.Body.List[0].(*ast.AssignStmt)
	if !ok || a.Tok != token.ASSIGN || len(a.Lhs) != 1 || len(a.Rhs) != 1 {
		return false
	}
	best := w.localVar(a.Lhs[0])
	if best == nil || !w.pure(cond.X, cond.Y) {
		return false
	}
	same := func(x, y ast.Expr) bool { return w.source(x) == w.source(y) }
	switch {
	case w.localVar(cond.X) == best && same(cond.Y, a.Rhs[0]):
	case w.localVar(cond.Y) == best && same(cond.X, a.Rhs[0]):
	default:
		return false
	}
	t, ok := w.typeOf(a.Lhs[0]).Underlying().(*types.Basic)
	return ok && t.Info()&(types.IsInteger|types.IsString) != 0
}

// target reports whether an lvalue is a local variable, or an element of a
// local map or slice — not package state, which is judged on its own.
func (w *walker) target(e ast.Expr) bool {
	v, _ := w.p.rootVar(e)
	return v == nil
}

func isEmptyComposite(e ast.Expr) bool {
	c, ok := e.(*ast.CompositeLit)
	return ok && len(c.Elts) == 0
}

// pure reports whether expressions have no effects: no calls but to
// builtins without effects, conversions and standard functions the table
// allows (strings.ToUpper, fmt.Sprintf, …), and no channel receives. A call
// of the package's own functions, or through an interface, could reach the
// world in the loop's random order.
func (w *walker) pure(es ...ast.Expr) bool {
	info := w.p.pass.TypesInfo
	ok := true
	for _, e := range es {
		ast.Inspect(e, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if tv, isType := info.Types[n.Fun]; isType && tv.IsType() {
					return true
				}
				if b, isB := info.Uses[identOf(n.Fun)].(*types.Builtin); isB {
					switch b.Name() {
					case "len", "cap", "min", "max", "real", "imag", "complex":
						return true
					}
				}
				if fn := w.p.staticCallee(n); fn != nil && fn.Pkg() != nil && isStd(fn.Pkg().Path()) {
					// The table alone: methods of local random sources are
					// allowed, but what they return depends on the order.
					if bad, _ := stdRule(fn.Pkg().Path(), fn.FullName(), false, false); !bad {
						return true
					}
				}
				ok = false
			case *ast.UnaryExpr:
				if n.Op == token.ARROW {
					ok = false
				}
			case *ast.FuncLit:
				ok = false
			}
			return ok
		})
	}
	return ok
}
