package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
)

// rangeStmt judges a range statement: over a channel, over a map, or over
// a function (an iterator).
func (w *walker) rangeStmt(r *ast.RangeStmt) {
	t := w.typeOf(r.X)
	if t == nil {
		return
	}
	switch u := t.Underlying().(type) {
	case *types.Chan:
		w.problem(r.Pos(), "range over a channel", "orders events outside the log; use vows and futures", KindChannel)
		return
	case *types.Map:
	case *types.Signature:
		// A range over a function calls it with the loop body as yield. A
		// call is judged as a call (with what consumes it); anything else
		// is a function value called here.
		if _, isCall := ast.Unparen(r.X).(*ast.CallExpr); !isCall && u.Params().Len() == 1 {
			w.callSite(&site{pos: r.X.Pos(), fnExpr: r.X, yield: true, ordered: !w.orderFree(r, nil)})
		}
		return
	default:
		return
	}
	if w.orderFree(r, nil) {
		return
	}
	if lit, yield := w.iteratorLit(); lit != nil && w.orderFree(r, yield) && w.iteratorLeaves(lit) {
		return // the order is its consumers' to keep or erase
	}
	why := "Go randomizes the iteration order; range over slices.Sorted(maps.Keys(m))"
	if w.partialSort(r) {
		why = "Go randomizes the iteration order, and the sort after the loop compares only part of each element: elements it cannot tell apart keep the random order; compare the whole element (or the key) too"
	}
	s := w.problem(r.Pos(), "range over a map", why, KindMap)
	s.fix = w.sortedRangeFix(r)
}

// partialSort reports whether a range only collects into slices, one of
// which a sort right after the loop sorts with a comparator that can tie.
func (w *walker) partialSort(r *ast.RangeStmt) bool {
	if r.Tok != token.DEFINE || r.Key == nil && r.Value == nil {
		return false
	}
	c := &commuter{w: w, key: w.localVar(r.Key), collected: map[*types.Var][]ast.Expr{}}
	if !c.list(r.Body.List) || !c.indexed(r.Body) {
		return false
	}
	for v := range c.collected {
		after := false
		for _, s := range w.block() {
			if s == ast.Stmt(r) {
				after = true
				continue
			}
			if !after || !w.mentions(s, v) {
				continue
			}
			if es, ok := s.(*ast.ExprStmt); ok {
				if call, ok := es.X.(*ast.CallExpr); ok {
					if fn := w.p.staticCallee(call); fn != nil && sortFuncs[fn.FullName()] {
						return true
					}
				}
			}
			break
		}
	}
	return false
}

// sortFuncs are the standard sorts.
var sortFuncs = map[string]bool{
	"sort.Strings": true, "sort.Ints": true, "sort.Float64s": true, "sort.Sort": true, "sort.Stable": true,
	"sort.Slice": true, "sort.SliceStable": true, "slices.Sort": true, "slices.SortFunc": true, "slices.SortStableFunc": true,
}

// localVar returns the variable an identifier names.
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

// block returns the statements of the innermost block holding the node on
// top of the stack.
func (w *walker) block() []ast.Stmt {
	for i := len(w.stack) - 1; i >= 0; i-- {
		switch b := w.stack[i].(type) {
		case *ast.BlockStmt:
			return b.List
		case *ast.CaseClause:
			return b.Body
		case *ast.CommClause:
			return b.Body
		}
	}
	return nil
}

// sortedNext reports whether, in the block holding stmt, the first later
// statement that mentions v sorts it in a way that erases the order it was
// filled in: elems are what was stored in it.
func (w *walker) sortedNext(stmt ast.Stmt, v *types.Var, elems []ast.Expr, key *types.Var) bool {
	after := false
	for _, s := range w.block() {
		if s == stmt {
			after = true
			continue
		}
		if !after || !w.mentions(s, v) {
			continue
		}
		if as, ok := s.(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 && w.localVar(as.Lhs[0]) == v {
			// keys = keys[:n] before sorting
			if sl, ok := ast.Unparen(as.Rhs[0]).(*ast.SliceExpr); ok && w.localVar(sl.X) == v {
				continue
			}
		}
		es, ok := s.(*ast.ExprStmt)
		if !ok {
			return false
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return false
		}
		return w.sortErases(call, v, elems, key)
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
// (or fills them by index) that are sorted right after the loop; or it only
// does order-independent updates (integer accumulation, writes keyed by the
// range key, constant writes, deletes), perhaps under side-effect-free
// conditions. Calls of yield (of an iterator being written) are allowed.
func (w *walker) orderFree(r *ast.RangeStmt, yield *types.Var) bool {
	if r.Key == nil && r.Value == nil {
		return true
	}
	if r.Tok != token.DEFINE {
		return false
	}
	c := &commuter{w: w, key: w.localVar(r.Key), yield: yield, collected: map[*types.Var][]ast.Expr{}}
	if !c.list(r.Body.List) || !c.indexed(r.Body) {
		return false
	}
	for v, elems := range c.collected {
		if !w.sortedNext(r, v, elems, c.key) {
			return false
		}
	}
	return true
}

// commuter checks that statements give the same result in any order.
type commuter struct {
	w     *walker
	key   *types.Var
	yield *types.Var
	// collected: slices appended to (or filled by index), with what is
	// stored, to be sorted after the loop.
	collected map[*types.Var][]ast.Expr
	// index form: the counter each slice is filled by, how often each
	// counter is bumped, and in which block (its first statement).
	indexBy map[*types.Var]*types.Var
	bumps   map[*types.Var]int
	bumpIn  map[*types.Var]ast.Stmt
	indexIn map[*types.Var]ast.Stmt
	cur     ast.Stmt
}

func (c *commuter) list(body []ast.Stmt) bool {
	saved := c.cur
	defer func() { c.cur = saved }()
	for _, s := range body {
		c.cur = body[0]
		if !c.stmt(s) {
			return false
		}
	}
	return true
}

// indexed: a slice filled as s[i] = e with i++ is a collection when both
// are in one block, i is bumped there once and used for nothing else.
func (c *commuter) indexed(body *ast.BlockStmt) bool {
	for _, i := range c.indexBy {
		if c.bumps[i] != 1 || c.bumpIn[i] != c.indexIn[i] {
			return false
		}
		uses := 0
		ast.Inspect(body, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && c.w.p.pass.TypesInfo.Uses[id] == i {
				uses++
			}
			return true
		})
		if uses != 2 {
			return false
		}
	}
	return true
}

// appendTo returns the slice a statement s = append(s, …) appends to.
func (c *commuter) appendTo(a *ast.AssignStmt) *types.Var {
	w := c.w
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
	c.collected[v] = append(c.collected[v], call.Args[1:]...)
	return v
}

func (c *commuter) isInt(e ast.Expr) bool {
	t := c.w.typeOf(e)
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

func (c *commuter) stmt(s ast.Stmt) bool {
	w := c.w
	info := w.p.pass.TypesInfo
	switch s := s.(type) {
	case *ast.IncDecStmt:
		if v := w.localVar(s.X); v != nil && s.Tok == token.INC {
			if c.bumps == nil {
				c.bumps, c.bumpIn = map[*types.Var]int{}, map[*types.Var]ast.Stmt{}
			}
			c.bumps[v]++
			c.bumpIn[v] = c.cur
		}
		return c.isInt(s.X) && w.target(s.X)
	case *ast.AssignStmt:
		if v := c.appendTo(s); v != nil {
			return true
		}
		if len(s.Lhs) != 1 || len(s.Rhs) != 1 || !w.pure(s.Rhs[0]) {
			return false
		}
		switch s.Tok {
		case token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.OR_ASSIGN, token.AND_ASSIGN, token.XOR_ASSIGN:
			return c.isInt(s.Lhs[0]) && w.target(s.Lhs[0])
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
			switch w.typeOf(ix.X).Underlying().(type) {
			case *types.Map:
				// Keyed by the range key, each write has its own key; a
				// constant written under any key gives the same map.
				if c.key != nil && w.localVar(ix.Index) == c.key {
					return true
				}
				tv, ok := info.Types[s.Rhs[0]]
				return ok && tv.Value != nil || isEmptyComposite(s.Rhs[0])
			case *types.Slice:
				// keys[i] = k; i++: filled in order, to be sorted after.
				sl, i := w.localVar(ix.X), w.localVar(ix.Index)
				if sl == nil || i == nil || i == c.key {
					return false
				}
				if c.indexBy == nil {
					c.indexBy, c.indexIn = map[*types.Var]*types.Var{}, map[*types.Var]ast.Stmt{}
				}
				if _, ok := c.indexBy[sl]; ok {
					return false
				}
				c.indexBy[sl] = i
				c.indexIn[i] = c.cur
				c.collected[sl] = append(c.collected[sl], s.Rhs[0])
				return !w.mentions(s.Rhs[0], i)
			}
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
		return c.yieldCall(call)
	case *ast.IfStmt:
		if w.extremeUpdate(s) {
			return true
		}
		// if !yield(k) { return }: what an iterator does.
		if c.yield != nil && s.Init == nil && s.Else == nil {
			if u, ok := ast.Unparen(s.Cond).(*ast.UnaryExpr); ok && u.Op == token.NOT {
				if call, ok := ast.Unparen(u.X).(*ast.CallExpr); ok && c.yieldCall(call) {
					return len(s.Body.List) == 1 && isBareReturn(s.Body.List[0])
				}
			}
		}
		if s.Init != nil || !w.pure(s.Cond) || !c.list(s.Body.List) {
			return false
		}
		switch e := s.Else.(type) {
		case nil:
			return true
		case *ast.BlockStmt:
			return c.list(e.List)
		case *ast.IfStmt:
			return c.stmt(e)
		}
		return false
	case *ast.BranchStmt:
		return s.Tok == token.CONTINUE && s.Label == nil
	case *ast.BlockStmt:
		return c.list(s.List)
	case *ast.EmptyStmt:
		return true
	}
	return false
}

// yieldCall: a call of the iterator's yield with pure arguments.
func (c *commuter) yieldCall(call *ast.CallExpr) bool {
	return c.yield != nil && c.w.localVar(call.Fun) == c.yield && c.w.pure(call.Args...)
}

func isBareReturn(s ast.Stmt) bool {
	r, ok := s.(*ast.ReturnStmt)
	return ok && len(r.Results) == 0
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
