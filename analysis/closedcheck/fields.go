package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// Function values in fields of a value whose contents cannot be traced
// (one a constructor of another package made, say) are what the code of
// the type's package stores there: composite literals and assignments of
// the field. A function parameter stored there (an option's setter) is an
// obligation of the function storing it, as if it called it: its callers
// pass what ends up in the field. The verdicts of the rest travel in a
// typeFact on the type.

// typeFact says what calling the function values stored in fields of a
// struct type amounts to, by path; a path not listed is closed to call.
type typeFact struct {
	Fields []PathVerdict
}

func (*typeFact) AFact() {}

func (f *typeFact) String() string {
	out := "fields"
	for _, c := range f.Fields {
		out += " " + pathString(c.Path)
		if len(c.Reasons) > 0 {
			out += ": open"
		}
	}
	return out
}

// fieldStore is a value stored in a field of a struct type of the package.
type fieldStore struct {
	fi   *fnInfo
	expr ast.Expr
}

// structNamed returns the named struct type of t (or of what it points to).
func structNamed(t types.Type) *types.Named {
	if t == nil {
		return nil
	}
	if ptr, ok := t.Underlying().(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return nil
	}
	if _, ok := n.Underlying().(*types.Struct); !ok {
		return nil
	}
	return n
}

func fieldKey(n *types.Named, path []string) string {
	return typeKey(n) + pathString(path)
}

// collectFieldStores finds the function values the package's code stores
// in function-valued fields of its own struct types, and makes a site of
// each store, where a function parameter stored is an obligation.
func (p *pkgState) collectFieldStores() {
	p.fieldStores = map[string][]fieldStore{}
	info := p.pass.TypesInfo
	for _, fi := range p.allFuncs() {
		if fi.trusted || fi.denied || fi.body == nil {
			continue
		}
		record := func(n *types.Named, path []string, e ast.Expr) {
			if n.Obj().Pkg() != p.pass.Pkg || len(funcPaths(pathType(n, path), nil, 0)) == 0 {
				return
			}
			k := fieldKey(n, path)
			p.fieldStores[k] = append(p.fieldStores[k], fieldStore{fi, e})
			if fi.decl != nil {
				fi.sites = append(fi.sites, &site{pos: e.Pos(), call: true, stored: e})
			}
		}
		ast.Inspect(fi.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				sn := structNamed(info.TypeOf(n))
				if sn == nil {
					return true
				}
				st := sn.Underlying().(*types.Struct)
				for i, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok {
							record(sn, []string{id.Name}, kv.Value)
						}
					} else if i < st.NumFields() {
						record(sn, []string{st.Field(i).Name()}, el)
					}
				}
			case *ast.AssignStmt:
				if n.Tok != token.ASSIGN || len(n.Lhs) != len(n.Rhs) {
					return true
				}
				for i, lhs := range n.Lhs {
					path, x := fieldPath(info, lhs)
					if x == nil {
						continue
					}
					sn := structNamed(info.TypeOf(x))
					if sn == nil {
						continue
					}
					rhs := ast.Unparen(n.Rhs[i])
					if call, ok := rhs.(*ast.CallExpr); ok {
						if b, ok := info.Uses[identOf(call.Fun)].(*types.Builtin); ok && b.Name() == "append" {
							for _, a := range call.Args[1:] {
								record(sn, append(slices.Clone(path), "[]"), a)
							}
							continue
						}
					}
					record(sn, path, rhs)
				}
			}
			return true
		})
	}
}

// fieldPath splits an lvalue x.f[k].g into the struct value x and the path
// f [] g from it (the outermost selection of a struct field).
func fieldPath(info *types.Info, e ast.Expr) ([]string, ast.Expr) {
	var path []string
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.SelectorExpr:
			sel := info.Selections[x]
			if sel == nil || sel.Kind() != types.FieldVal {
				return nil, nil
			}
			path = append([]string{x.Sel.Name}, path...)
			if structNamed(info.TypeOf(x.X)) != nil {
				return path, x.X
			}
			e = x.X
		case *ast.IndexExpr:
			path = append([]string{"[]"}, path...)
			e = x.X
		default:
			return nil, nil
		}
	}
}

// fieldCall judges a call of a function value held at a path of a value
// of a struct type whose contents cannot be traced.
func (j *judge) fieldCall(v value, depth int) {
	p := j.p
	n := v.typ.(*types.Named)
	subject := "field " + lastField(v.path)
	if n.Obj().Pkg() == p.pass.Pkg {
		for _, fs := range p.fieldStores[fieldKey(n, v.path)] {
			var vals []value
			for _, sv := range j.r0().values(fs.expr, &frame{fi: fs.fi}) {
				if sv.kind != vParam { // a parameter: its callers' obligation
					vals = append(vals, sv)
				}
			}
			j.callValue(&ast.SelectorExpr{X: ast.NewIdent("_"), Sel: ast.NewIdent(lastField(v.path))}, vals, argsInfo{}, false, depth+1)
		}
		return
	}
	if !p.analysed(n.Obj().Pkg()) {
		j.missingProblem(subject, "holds a function of a package closedcheck did not analyse: cannot prove closed", n.Obj().Pkg().Path())
		return
	}
	var tf typeFact
	if !p.pass.ImportObjectFact(n.Obj(), &tf) {
		return // its package stores nothing there that is not closed
	}
	for _, c := range tf.Fields {
		if !slices.Equal(c.Path, v.path) {
			continue
		}
		for _, r := range c.Reasons {
			j.s.results = append(j.s.results, result{foreign: r, subject: subject})
			p.blame(j.fi, r)
		}
		for _, o := range c.Obligations {
			if o.Iface != "" {
				j.unknownIfaceKey(o, depth+1)
			}
		}
	}
}

// exportFieldFacts exports the verdicts of the function values the
// package stores in fields of its types.
func (p *pkgState) exportFieldFacts() {
	scope := p.pass.Pkg.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		n := structNamed(tn.Type())
		if n == nil || n.Obj() != tn {
			continue
		}
		var fields []PathVerdict
		for _, path := range funcPaths(n.Underlying(), nil, 0) {
			if len(p.fieldStores[fieldKey(n, path)]) == 0 {
				continue
			}
			acc := &fnInfo{params: map[*types.Var]int{}, tparams: map[*types.TypeParam]int{}, state: visited}
			j := &judge{p: p, fi: acc, s: &site{pos: tn.Pos()}, summ: true}
			j.fieldCall(value{kind: vField, typ: n, path: path}, 0)
			if len(acc.v.reasons) > 0 || len(acc.v.obligations) > 0 {
				fields = append(fields, PathVerdict{Path: path, Reasons: acc.v.reasons, Obligations: acc.v.obligations})
			}
		}
		if len(fields) > 0 {
			p.pass.ExportObjectFact(tn, &typeFact{Fields: fields})
		}
	}
}
