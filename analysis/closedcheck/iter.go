package closedcheck

import (
	"go/ast"
	"go/types"
)

// Iterators (range over func): a range over a function is a call of it with
// the loop body as yield. An iterator written as a function literal that
// yields the entries of a map in map order leaves the order to whoever
// consumes it: a sort, a map, or an order-free loop erase it; anything else
// keeps it, and is reported where it does.

// iteratorSig reports whether a signature is that of an iterator:
// func(yield func(…) bool).
func iteratorSig(t types.Type) bool {
	sig, ok := t.Underlying().(*types.Signature)
	if !ok || sig.Params().Len() != 1 || sig.Results().Len() != 0 {
		return false
	}
	y, ok := sig.Params().At(0).Type().Underlying().(*types.Signature)
	if !ok || y.Results().Len() != 1 {
		return false
	}
	b, ok := y.Results().At(0).Type().Underlying().(*types.Basic)
	return ok && b.Kind() == types.Bool
}

// returnsIterator reports whether a function returns one iterator.
func returnsIterator(fn *types.Func) bool {
	sig := fn.Type().(*types.Signature)
	return sig.Results().Len() == 1 && iteratorSig(sig.Results().At(0).Type())
}

// iteratorLit returns the innermost function literal being walked if it is
// an iterator, and its yield parameter.
func (w *walker) iteratorLit() (*ast.FuncLit, *types.Var) {
	for i := len(w.stack) - 1; i >= 0; i-- {
		lit, ok := w.stack[i].(*ast.FuncLit)
		if !ok {
			continue
		}
		t := w.typeOf(lit)
		if t == nil || !iteratorSig(t) {
			return nil, nil
		}
		params := lit.Type.Params.List
		if len(params) != 1 || len(params[0].Names) != 1 {
			return nil, nil
		}
		v, _ := w.p.pass.TypesInfo.Defs[params[0].Names[0]].(*types.Var)
		return lit, v
	}
	return nil, nil
}

// yieldCall reports whether fun is the yield parameter of an iterator
// literal being walked: what it calls is the loop body of a range over the
// iterator, judged where that is written.
func (w *walker) yieldCall(fun ast.Expr) bool {
	v := w.localVar(fun)
	if v == nil {
		return false
	}
	for i := len(w.stack) - 1; i >= 0; i-- {
		lit, ok := w.stack[i].(*ast.FuncLit)
		if !ok {
			continue
		}
		if t := w.typeOf(lit); t == nil || !iteratorSig(t) {
			continue
		}
		if names := lit.Type.Params.List[0].Names; len(names) == 1 && w.p.pass.TypesInfo.Defs[names[0]] == v {
			return true
		}
	}
	return false
}

// iteratorLeaves reports whether an iterator literal that yields in map
// order is returned (its callers then consume it), or ranged over here only
// by order-free loops.
func (w *walker) iteratorLeaves(lit *ast.FuncLit) bool {
	var parent ast.Node
	for i := len(w.stack) - 1; i > 0; i-- {
		if w.stack[i] == lit {
			parent = w.stack[i-1]
			break
		}
	}
	switch parent := parent.(type) {
	case *ast.ReturnStmt:
		w.fi.mapOrder = true
		return true
	case *ast.AssignStmt:
		if len(parent.Lhs) == 1 && len(parent.Rhs) == 1 {
			if v := w.localVar(parent.Lhs[0]); v != nil && w.fi.locals[v] != nil && len(w.fi.locals[v].srcs) == 1 {
				return w.usesKeepNoOrder(v)
			}
		}
	case *ast.ValueSpec:
		if len(parent.Names) == 1 && len(parent.Values) == 1 {
			if v := w.localVar(parent.Names[0]); v != nil {
				return w.usesKeepNoOrder(v)
			}
		}
	}
	return false
}

// iteratorUses: whether every use of an iterator held in a local is an
// order-free range over it or a return of it, and whether it is returned.
func (w *walker) iteratorUses(v *types.Var) (ok, returned bool) {
	ok = true
	ast.PreorderStack(w.fi.body, nil, func(n ast.Node, stack []ast.Node) bool {
		if id, isID := n.(*ast.Ident); isID && w.p.pass.TypesInfo.Uses[id] == v && len(stack) > 0 {
			switch parent := stack[len(stack)-1].(type) {
			case *ast.RangeStmt:
				ok = ok && parent.X == id && w.orderFree(parent, nil)
			case *ast.ReturnStmt:
				returned = true
			default:
				ok = false
			}
		}
		return ok
	})
	return ok, returned
}

// usesKeepNoOrder: an iterator literal in a local is fine when its uses
// are; returned, the function's result yields in map order.
func (w *walker) usesKeepNoOrder(v *types.Var) bool {
	ok, returned := w.iteratorUses(v)
	if ok && returned {
		w.fi.mapOrder = true
	}
	return ok
}

// consumerOf says how the iterator a call returns is consumed: by an
// order-free loop, a sort or a map (its order erased), passed to another
// function (whose obligation then says), or otherwise (its order kept).
func (w *walker) consumerOf(call *ast.CallExpr, s *site) {
	s.consumeAt = call.Pos()
	switch parent := w.parent(0).(type) {
	case *ast.RangeStmt:
		if parent.X == call {
			s.consumeAt = parent.Pos()
			if w.orderFree(parent, nil) {
				s.consumer = consumeFree
			}
		}
	case *ast.CallExpr:
		idx := -1
		for i, a := range parent.Args {
			if a == call {
				idx = i
			}
		}
		if idx < 0 {
			return
		}
		fn := w.p.staticCallee(parent)
		if fn == nil {
			return
		}
		switch fn.FullName() {
		case "slices.Sorted", "maps.Collect", "maps.Insert":
			s.consumer = consumeFree
		case "slices.SortedFunc", "slices.SortedStableFunc":
			if len(parent.Args) == 2 && w.comparatorErases(parent.Args[1], nil, nil, nil, nil) {
				s.consumer = consumeFree
			} else {
				s.partialSort = true
			}
		case "slices.Collect":
			if w.collectedThenSorted(parent) {
				s.consumer = consumeFree
			}
		default:
			if fn.Pkg() != nil && !isStd(fn.Pkg().Path()) {
				s.consumer, s.argOf, s.argIndex = consumeArg, parent, idx
			}
		}
	case *ast.ReturnStmt:
		s.consumer = consumeFree
		s.returned = true
	case *ast.AssignStmt:
		if len(parent.Lhs) == 1 && len(parent.Rhs) == 1 {
			if v := w.localVar(parent.Lhs[0]); v != nil && w.fi.locals[v] != nil && len(w.fi.locals[v].srcs) == 1 {
				if ok, returned := w.iteratorUses(v); ok {
					s.consumer, s.returned = consumeFree, returned
				}
			}
		}
	}
}

// collectedThenSorted recognises keys := slices.Collect(maps.Keys(m))
// followed by a sort of keys that erases the order.
func (w *walker) collectedThenSorted(collect *ast.CallExpr) bool {
	assign, ok := w.parent(1).(*ast.AssignStmt)
	if !ok || len(assign.Lhs) != 1 || len(assign.Rhs) != 1 || assign.Rhs[0] != collect {
		return false
	}
	v := w.localVar(assign.Lhs[0])
	return v != nil && w.sortedNext(assign, v, nil, nil)
}
