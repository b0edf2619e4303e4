package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
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
