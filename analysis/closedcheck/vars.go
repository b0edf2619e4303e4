package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// varInfo is what the package's own code does with a package variable.
type varInfo struct {
	obj      *types.Var
	init     ast.Expr  // its initializer, if any
	sentinel bool      // an error made by errors.New or fmt.Errorf
	written  token.Pos // the first write or escape of its address after initialisation
	// initFn judges the initializer as if it were a function; initWriters
	// are the init functions (and functions only they call) that write it.
	initFn      *fnInfo
	initWriters []*types.Func
}

// stdMutators write to the slice or map given as their first argument.
var stdMutators = map[string]bool{
	"sort.Strings": true, "sort.Ints": true, "sort.Float64s": true, "sort.Sort": true, "sort.Stable": true,
	"sort.Slice": true, "sort.SliceStable": true, "slices.Sort": true, "slices.SortFunc": true,
	"slices.SortStableFunc": true, "slices.Reverse": true, "maps.Copy": true, "maps.DeleteFunc": true,
	"maps.Insert": true, "slices.Delete": true, "slices.DeleteFunc": true, "slices.Replace": true,
	"slices.Insert": true, "slices.Compact": true, "slices.CompactFunc": true,
}

func (p *pkgState) collectVars() {
	scope := p.pass.Pkg.Scope()
	for _, name := range scope.Names() {
		if v, ok := scope.Lookup(name).(*types.Var); ok {
			p.vars[v] = &varInfo{obj: v}
		}
	}
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	for _, f := range p.pass.Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, n := range vs.Names {
					v, ok := p.pass.TypesInfo.Defs[n].(*types.Var)
					if !ok || p.vars[v] == nil {
						continue
					}
					p.vars[v].init = vs.Values[i]
					// An error variable is a sentinel (unless its package
					// writes it, which is checked separately): errors.New,
					// fmt.Errorf, or a value of an error type of its own.
					if types.Implements(v.Type(), errType) {
						p.vars[v].sentinel = true
					}
				}
			}
		}
	}
	initOnly := p.initOnlyFuncs()
	p.initOnly = initOnly
	for _, f := range p.pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, _ := p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if (fd.Recv == nil && fd.Name.Name == "init") || (fn != nil && initOnly[fn]) {
				// Initialisation: remember who writes what, so reading a
				// variable set from the environment at start-up is seen.
				p.walkWrites(fd.Body, func(v *types.Var, pos token.Pos) {
					if info := p.vars[v]; info != nil && fn != nil && !slices.Contains(info.initWriters, fn) {
						info.initWriters = append(info.initWriters, fn)
					}
				})
				continue
			}
			p.walkWrites(fd.Body, func(v *types.Var, pos token.Pos) {
				if info := p.vars[v]; info != nil && !info.written.IsValid() {
					info.written = pos
				}
			})
		}
	}
	for v, info := range p.vars {
		if v.Exported() && info.sentinel && !info.written.IsValid() {
			p.pass.ExportObjectFact(v, &varFact{})
		}
	}
}

// packageVar returns the package-level variable an identifier refers to.
func (p *pkgState) packageVar(id *ast.Ident) *types.Var {
	v, ok := p.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok || v.IsField() || v.Pkg() == nil || v.Parent() != v.Pkg().Scope() {
		return nil
	}
	return v
}

// rootVar returns the package-level variable at the root of an lvalue such
// as v, v.f, v[i], *v or v.f[i].g.
func (p *pkgState) rootVar(e ast.Expr) (*types.Var, *ast.Ident) {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return p.packageVar(x), x
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				if _, isPkg := p.pass.TypesInfo.Uses[id].(*types.PkgName); isPkg {
					return p.packageVar(x.Sel), x.Sel
				}
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		default:
			return nil, nil
		}
	}
}

// walkWrites calls found for every write to, or escape of, a package
// variable in body.
func (p *pkgState) walkWrites(body ast.Node, found func(*types.Var, token.Pos)) {
	note := func(e ast.Expr) {
		if v, id := p.rootVar(e); v != nil {
			found(v, id.Pos())
		}
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, l := range n.Lhs {
					note(l)
				}
			}
		case *ast.IncDecStmt:
			note(n.X)
		case *ast.RangeStmt:
			if n.Tok == token.ASSIGN {
				if n.Key != nil {
					note(n.Key)
				}
				if n.Value != nil {
					note(n.Value)
				}
			}
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				note(n.X)
			}
		case *ast.SliceExpr:
			if t, ok := p.pass.TypesInfo.Types[n.X]; ok {
				if _, isArray := t.Type.Underlying().(*types.Array); isArray {
					note(n.X)
				}
			}
		case *ast.SelectorExpr:
			// A method with a pointer receiver called on an addressable
			// value takes its address.
			if sel := p.pass.TypesInfo.Selections[n]; sel != nil && sel.Kind() != types.FieldVal {
				if fn, ok := sel.Obj().(*types.Func); ok {
					if recv := fn.Type().(*types.Signature).Recv(); recv != nil {
						if _, ptrRecv := recv.Type().(*types.Pointer); ptrRecv {
							if t, ok := p.pass.TypesInfo.Types[n.X]; ok {
								if _, isPtr := t.Type.Underlying().(*types.Pointer); !isPtr && !types.IsInterface(t.Type) {
									note(n.X)
								}
							}
						}
					}
				}
			}
		case *ast.CallExpr:
			if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok {
				if b, ok := p.pass.TypesInfo.Uses[id].(*types.Builtin); ok && len(n.Args) > 0 {
					switch b.Name() {
					case "delete", "clear", "copy":
						note(n.Args[0])
					}
				}
			}
			if fn := p.staticCallee(n); fn != nil && stdMutators[fn.FullName()] && len(n.Args) > 0 {
				note(n.Args[0])
			}
		}
		return true
	})
}

// initOnlyFuncs finds the package's functions called only during
// initialisation: from init, or from functions themselves init-only.
func (p *pkgState) initOnlyFuncs() map[*types.Func]bool {
	type ref struct {
		encl *types.Func // enclosing function declaration; nil at package level
		call bool        // the reference is the callee of a call
		init bool        // the enclosing declaration is an init function
	}
	refs := map[*types.Func][]ref{}
	for _, f := range p.pass.Files {
		for _, d := range f.Decls {
			var encl *types.Func
			isInit := false
			if fd, ok := d.(*ast.FuncDecl); ok {
				encl, _ = p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
				isInit = fd.Recv == nil && fd.Name.Name == "init"
			}
			callees := map[*ast.Ident]bool{}
			ast.Inspect(d, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
						callees[id] = true
					}
				}
				if id, ok := n.(*ast.Ident); ok {
					if fn, ok := p.pass.TypesInfo.Uses[id].(*types.Func); ok && fn.Pkg() == p.pass.Pkg {
						refs[fn] = append(refs[fn], ref{encl: encl, call: callees[id], init: isInit})
					}
				}
				return true
			})
		}
	}
	initOnly := map[*types.Func]bool{}
	for changed := true; changed; {
		changed = false
		for fn, rs := range refs {
			if initOnly[fn] {
				continue
			}
			ok := len(rs) > 0
			for _, r := range rs {
				if !r.call || !(r.init || (r.encl != nil && initOnly[r.encl])) {
					ok = false
					break
				}
			}
			if ok {
				initOnly[fn] = true
				changed = true
			}
		}
	}
	return initOnly
}
