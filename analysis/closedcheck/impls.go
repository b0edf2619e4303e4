package closedcheck

import (
	"cmp"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// A call through an exported interface whose value cannot be traced is
// judged, at the flow, against every implementation the program shows:
// the types of the packages visible (found by their scopes) and those the
// package facts list (which include unexported types an importer cannot
// see, with the verdicts of their methods).

// allImpls judges method of every implementation of interface n.
func (j *judge) allImpls(n *types.Named, method string, args argsInfo, depth int) {
	p := j.p
	key := typeKey(n) + "." + method
	if j.fi.ifaceDone[key] {
		return
	}
	if j.fi.ifaceDone == nil {
		j.fi.ifaceDone = map[string]bool{}
	}
	j.fi.ifaceDone[key] = true
	subject := typeName(n) + "." + method
	seen := map[string]bool{}
	for _, impl := range p.implementations(n) {
		seen[implKey(impl)] = true
		before := len(j.fi.v.reasons)
		j.methodOnType(impl, method, args, depth+1)
		if len(j.fi.v.reasons) > before {
			j.s.results = append(j.s.results, result{via: j.fi.v.reasons[before], viaImpl: typeName(impl), subject: subject})
		}
	}
	for _, im := range p.importedImpls() {
		if im.Iface != typeKey(n) || seen[im.Type] {
			continue
		}
		seen[im.Type] = true
		for _, m := range im.Methods {
			if m.Name != method {
				continue
			}
			before := len(j.fi.v.reasons)
			j.foreign(shortType(im.Type)+"."+method, m.Reasons)
			if len(j.fi.v.reasons) > before {
				j.s.results = append(j.s.results, result{via: j.fi.v.reasons[before], viaImpl: shortType(im.Type), subject: subject})
			}
			j.foreignObligations(subject, m.Obligations, args, depth+1)
		}
	}
	if len(seen) == 0 {
		j.problem(subject, "is called through an interface whose implementation cannot be known: cannot prove closed", KindDynamic)
	}
}

// implKey names a type as ImplFact does.
func implKey(t types.Type) string {
	ptr := ""
	if p, ok := t.(*types.Pointer); ok {
		ptr, t = "*", p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
		return ptr + typeKey(n)
	}
	return ptr + t.String()
}

// shortType shows an ImplFact type as code names it: strategy.surge.
func shortType(key string) string {
	ptr := ""
	if len(key) > 0 && key[0] == '*' {
		ptr, key = "*", key[1:]
	}
	i := len(key) - 1
	for i >= 0 && key[i] != '/' {
		i--
	}
	return ptr + key[i+1:]
}

// importedImpls are the implementations the direct imports' package facts
// list (for themselves and below).
func (p *pkgState) importedImpls() []ImplFact {
	if p.impFacts != nil {
		return *p.impFacts
	}
	var out []ImplFact
	for _, imp := range p.pass.Pkg.Imports() {
		var pf packageFact
		if p.pass.ImportPackageFact(imp, &pf) {
			out = append(out, pf.Impls...)
		}
	}
	p.impFacts = &out
	return out
}

// ownImpls lists the package's types implementing an exported interface of
// the package or of a package it imports, with what their methods of it do.
func (p *pkgState) ownImpls() []ImplFact {
	var ifaces []*types.Named
	for _, pkg := range append([]*types.Package{p.pass.Pkg}, p.pass.Pkg.Imports()...) {
		if isStd(pkg.Path()) || isMembrane(pkg.Path()) {
			continue
		}
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || !tn.Exported() || tn.IsAlias() || !types.IsInterface(tn.Type()) {
				continue
			}
			if n, ok := tn.Type().(*types.Named); ok && n.TypeParams().Len() == 0 && !p.isHost(n) {
				ifaces = append(ifaces, n)
			}
		}
	}
	var out []ImplFact
	for _, n := range ifaces {
		iface := n.Underlying().(*types.Interface)
		var methods []string
		for m := range iface.Methods() {
			if !p.interfaceOK(n, m.Name()) {
				methods = append(methods, m.Name())
			}
		}
		if len(methods) == 0 {
			continue
		}
		for _, impl := range p.implsIn(n, []*types.Package{p.pass.Pkg}) {
			im := ImplFact{Iface: typeKey(n), Type: implKey(impl)}
			for _, m := range methods {
				acc := &fnInfo{params: map[*types.Var]int{}, tparams: map[*types.TypeParam]int{}, state: visited}
				j := &judge{p: p, fi: acc, s: &site{pos: n.Obj().Pos()}, summ: true}
				j.methodOnValue(value{kind: vType, typ: impl}, m, argsInfo{known: true, through: true}, 0, nil)
				if len(acc.v.reasons) > 0 || len(acc.v.obligations) > 0 {
					im.Methods = append(im.Methods, MethodVerdict{Name: m, Reasons: acc.v.reasons, Obligations: acc.v.obligations})
				}
			}
			out = append(out, im)
		}
	}
	slices.SortFunc(out, func(a, b ImplFact) int {
		return cmp.Or(strings.Compare(a.Iface, b.Iface), strings.Compare(a.Type, b.Type))
	})
	return out
}

// unknownIface judges a call of method through an interface whose value
// cannot be traced: host, standard and well-known methods are fine; an
// unexported interface of this package has its implementations here; an
// exported one is judged against every implementation the program shows,
// at the flow (the obligation moves up to it).
func (j *judge) unknownIface(t types.Type, method string, args argsInfo, depth int) {
	defer j.p.enter()()
	p := j.p
	if t == nil {
		j.problem(method, "is called on a value whose type cannot be known: cannot prove closed", KindDynamic)
		return
	}
	if depth > maxDepth {
		j.problem(typeName(t)+"."+method, "is called through too many hands to resolve: cannot prove closed", KindDynamic)
		return
	}
	if p.interfaceOK(t, method) {
		return
	}
	if !types.IsInterface(t) {
		j.methodOnType(t, method, args, depth)
		return
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.TypeArgs().Len() > 0 || n.Obj().Pkg() == nil {
		j.problem(typeName(t)+"."+method, "is called through an interface whose implementation cannot be known: cannot prove closed", KindDynamic)
		return
	}
	if pkg := n.Obj().Pkg(); pkg != p.pass.Pkg && !isStd(pkg.Path()) && !p.analysed(pkg) {
		j.missingProblem(typeName(t)+"."+method, "is called through an interface of "+p.unanalysedPkg(pkg)+": cannot prove closed", pkg.Path())
		return
	}
	if impls, ok := p.localImplementations(n); ok {
		// A type embedding the interface implements it through the
		// embedded value: judging its method judges the interface's again,
		// which is being done here.
		key := typeKey(n) + "." + method
		if j.ifaceActive[key] {
			return
		}
		if j.ifaceActive == nil {
			j.ifaceActive = map[string]bool{}
		}
		j.ifaceActive[key] = true
		defer delete(j.ifaceActive, key)
		for _, impl := range impls {
			j.methodOnType(impl, method, args, depth+1)
		}
		return
	}
	if !j.fi.flow || j.summ {
		j.fi.oblige(Obligation{Iface: typeKey(n), Method: method})
		return
	}
	j.allImpls(n, method, args, depth)
}

// lookupMethod finds the method name of t (or *t). An unexported name an
// obligation carries from another package's code is that package's: it is
// found by name in the method set.
func lookupMethod(t types.Type, from *types.Package, name string) *types.Func {
	obj, _, _ := types.LookupFieldOrMethod(t, true, from, name)
	if fn, ok := obj.(*types.Func); ok || obj != nil || token.IsExported(name) {
		return fn
	}
	for _, mt := range []types.Type{t, types.NewPointer(t)} {
		if _, isPtr := t.(*types.Pointer); isPtr && mt != t {
			break
		}
		ms := types.NewMethodSet(mt)
		for i := range ms.Len() {
			if fn, ok := ms.At(i).Obj().(*types.Func); ok && fn.Name() == name {
				return fn
			}
		}
	}
	return nil
}

// embeddedPath names the embedded fields through which t has method name
// (promoted from an embedded interface); nil if it cannot be said.
func embeddedPath(t types.Type, from *types.Package, name string) []string {
	obj, index, _ := types.LookupFieldOrMethod(t, true, from, name)
	if obj == nil || len(index) < 2 {
		return nil
	}
	var path []string
	for _, i := range index[:len(index)-1] {
		st, ok := deref(t).Underlying().(*types.Struct)
		if !ok || i >= st.NumFields() {
			return nil
		}
		f := st.Field(i)
		path = append(path, f.Name())
		t = f.Type()
	}
	return path
}

func typeKey(n *types.Named) string { return n.Obj().Pkg().Path() + "." + n.Obj().Name() }

// lookupType finds a named type by key among the packages visible.
func (p *pkgState) lookupType(key string) types.Type {
	i := len(key) - 1
	for i >= 0 && key[i] != '.' {
		i--
	}
	if i <= 0 {
		return nil
	}
	pkg := p.packageByPath(key[:i])
	if pkg == nil {
		return nil
	}
	tn, ok := pkg.Scope().Lookup(key[i+1:]).(*types.TypeName)
	if !ok {
		return nil
	}
	return tn.Type()
}

// interfaceOK: calls through host interfaces, trusted interfaces and
// well-known methods need no resolution.
func (p *pkgState) interfaceOK(t types.Type, method string) bool {
	if !types.IsInterface(t) {
		return false
	}
	if p.isHost(t) || trustedInterface(t) {
		return true
	}
	if fn := lookupMethod(t, p.pass.Pkg, method); fn != nil {
		if wellKnownMethod(fn) {
			return true
		}
		if recv := fn.Type().(*types.Signature).Recv(); recv != nil && (p.isHost(recv.Type()) || trustedInterface(recv.Type())) {
			return true
		}
	}
	return false
}

// localImplementations returns the types of this package implementing an
// unexported interface declared in it (each type T, or *T if only it does).
func (p *pkgState) localImplementations(n *types.Named) ([]types.Type, bool) {
	if n.Obj().Pkg() != p.pass.Pkg || n.Obj().Exported() || n.TypeParams().Len() > 0 {
		return nil, false
	}
	return p.implsIn(n, []*types.Package{p.pass.Pkg}), true
}

// implementations returns the types of every package visible from this
// one (but the standard library's: a value of one can only come from code
// closedcheck judges) that implement an interface.
func (p *pkgState) implementations(n *types.Named) []types.Type {
	if p.pkgIndex == nil {
		p.packageByPath(p.pass.Pkg.Path())
	}
	var pkgs []*types.Package
	for path, pkg := range p.pkgIndex {
		if !isStd(path) && !isMembrane(path) {
			pkgs = append(pkgs, pkg)
		}
	}
	slices.SortFunc(pkgs, func(a, b *types.Package) int {
		switch {
		case a.Path() < b.Path():
			return -1
		case a.Path() > b.Path():
			return 1
		}
		return 0
	})
	return p.implsIn(n, pkgs)
}

func (p *pkgState) implsIn(n *types.Named, pkgs []*types.Package) []types.Type {
	key := typeKey(n)
	if impls, ok := p.impls[key]; ok {
		return impls
	}
	iface, ok := n.Underlying().(*types.Interface)
	if !ok {
		return nil
	}
	var impls []types.Type
	for _, pkg := range pkgs {
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() || types.IsInterface(tn.Type()) {
				continue
			}
			if nt, ok := tn.Type().(*types.Named); ok && nt.TypeParams().Len() > 0 {
				continue
			}
			switch {
			case types.Implements(tn.Type(), iface):
				impls = append(impls, tn.Type())
			case types.Implements(types.NewPointer(tn.Type()), iface):
				impls = append(impls, types.NewPointer(tn.Type()))
			}
		}
	}
	p.impls[key] = impls
	return impls
}

func typeName(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}
