package closedcheck

import (
	"go/types"
	"slices"
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
			for _, r := range m.Reasons {
				j.s.results = append(j.s.results, result{foreign: r, subject: shortType(im.Type) + "." + method})
				j.p.blame(j.fi, r)
			}
			if len(j.fi.v.reasons) > before {
				j.s.results = append(j.s.results, result{via: j.fi.v.reasons[before], viaImpl: shortType(im.Type), subject: subject})
			}
			for _, o := range m.Obligations {
				switch {
				case o.Iface != "":
					j.unknownIfaceKey(o, depth+1)
				case o.Param >= 0 && !o.TypeParam:
					j.dischargeArgs(subject, o, args, depth+1)
				}
			}
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
		if a.Iface != b.Iface {
			return compareStrings(a.Iface, b.Iface)
		}
		return compareStrings(a.Type, b.Type)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
