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
	// Impls are, for paths to interface values, the verdicts of the
	// methods over the types stored there.
	Impls []PathImpls
}

// PathImpls is what calling each method of an interface held at a path
// amounts to, over the types stored there; a method not listed is closed.
type PathImpls struct {
	Path    []string
	Methods []MethodVerdict
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
	for _, im := range f.Impls {
		out += " " + pathString(im.Path) + "("
		for i, m := range im.Methods {
			if i > 0 {
				out += " "
			}
			out += m.Name
			if len(m.Reasons) > 0 {
				out += ": open"
			}
		}
		out += ")"
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
			t := pathType(n, path)
			if n.Obj().Pkg() != p.pass.Pkg || len(funcPaths(t, nil, 0)) == 0 && len(p.ifacePaths(t, nil, 0)) == 0 {
				return
			}
			k := fieldKey(n, path)
			p.fieldStores[k] = append(p.fieldStores[k], fieldStore{fi, e})
			if fi.decl != nil {
				fi.sites = append(fi.sites, &site{pos: e.Pos(), call: true, stored: e, storedType: t})
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

// ifacePaths lists the paths of fields and elements of a type that lead to
// interface values whose calls need judging.
func (p *pkgState) ifacePaths(t types.Type, path []string, depth int) [][]string {
	if depth > 3 || t == nil {
		return nil
	}
	if types.IsInterface(t) {
		if isTypeParam(t) || p.isHost(t) || trustedInterface(t) {
			return nil
		}
		return [][]string{slices.Clone(path)}
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return p.ifacePaths(u.Elem(), path, depth+1)
	case *types.Slice:
		return p.ifacePaths(u.Elem(), append(path, "[]"), depth+1)
	case *types.Array:
		return p.ifacePaths(u.Elem(), append(path, "[]"), depth+1)
	case *types.Map:
		return p.ifacePaths(u.Elem(), append(path, "[]"), depth+1)
	case *types.Struct:
		var out [][]string
		for i := range u.NumFields() {
			out = append(out, p.ifacePaths(u.Field(i).Type(), append(slices.Clone(path), u.Field(i).Name()), depth+1)...)
		}
		return out
	}
	return nil
}

// storedValues are the values the package's code stores at a path of a
// value of its struct type n (parameters stored are their callers').
func (j *judge) storedValues(n *types.Named, path []string) []value {
	var vals []value
	// Stored at the path, or at a prefix of it (a whole map or slice).
	for i := 1; i <= len(path); i++ {
		for _, fs := range j.p.fieldStores[fieldKey(n, path[:i])] {
			for _, sv := range j.r0().selectPaths(j.r0().values(fs.expr, &frame{fi: fs.fi}), path[i:]) {
				if sv.kind != vParam {
					vals = append(vals, sv)
				}
			}
		}
	}
	return vals
}

// fieldMethod judges a call of method on an interface held at a path of a
// value of a struct type whose contents cannot be traced.
func (j *judge) fieldMethod(v value, method string, static types.Type, args argsInfo, depth int) {
	p := j.p
	n := v.typ.(*types.Named)
	if n.Obj().Pkg() == p.pass.Pkg {
		if vals := j.storedValues(n, v.path); len(vals) > 0 {
			j.callMethod(vals, method, static, args, depth+1)
		}
		return
	}
	if !p.analysed(n.Obj().Pkg()) {
		j.missingProblem(method, "is called on a value of "+p.unanalysedPkg(n.Obj().Pkg())+": cannot prove closed", n.Obj().Pkg().Path())
		return
	}
	var tf typeFact
	if !p.pass.ImportObjectFact(n.Obj(), &tf) {
		return
	}
	for _, im := range tf.Impls {
		if !slices.Equal(im.Path, v.path) {
			continue
		}
		for _, m := range im.Methods {
			if m.Name != method {
				continue
			}
			subject := typeName(n) + pathString(v.path) + "." + method
			j.foreign(subject, m.Reasons)
			j.foreignObligations(subject, m.Obligations, args, depth+1)
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
		j.callValue(&ast.SelectorExpr{X: ast.NewIdent("_"), Sel: ast.NewIdent(lastField(v.path))}, j.storedValues(n, v.path), argsInfo{}, false, depth+1)
		return
	}
	if !p.analysed(n.Obj().Pkg()) {
		j.missingProblem(subject, "holds a function of "+p.unanalysedPkg(n.Obj().Pkg())+": cannot prove closed", n.Obj().Pkg().Path())
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
		j.foreign(subject, c.Reasons)
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
		var impls []PathImpls
		for _, path := range p.ifacePaths(n.Underlying(), nil, 0) {
			if len(p.fieldStores[fieldKey(n, path)]) == 0 {
				continue
			}
			static := ifaceAt(pathType(n, path))
			if static == nil {
				continue // ifacePaths leads to interfaces only
			}
			pi := PathImpls{Path: path}
			for m := range static.Underlying().(*types.Interface).Methods() {
				if p.interfaceOK(static, m.Name()) {
					continue
				}
				acc := &fnInfo{params: map[*types.Var]int{}, tparams: map[*types.TypeParam]int{}, state: visited}
				j := &judge{p: p, fi: acc, s: &site{pos: tn.Pos()}, summ: true}
				j.fieldMethod(value{kind: vField, typ: n, path: path}, m.Name(), static, argsInfo{known: true, through: true}, 0)
				if len(acc.v.reasons) > 0 || len(acc.v.obligations) > 0 {
					pi.Methods = append(pi.Methods, MethodVerdict{Name: m.Name(), Reasons: acc.v.reasons, Obligations: acc.v.obligations})
				}
			}
			if len(pi.Methods) > 0 {
				impls = append(impls, pi)
			}
		}
		if len(fields) > 0 || len(impls) > 0 {
			p.pass.ExportObjectFact(tn, &typeFact{Fields: fields, Impls: impls})
		}
	}
}
