package closedcheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// exportFacts exports what importers must know: the facts of functions
// that say something, and of exported variables.
func (p *pkgState) exportFacts() {
	p.exportFieldFacts()
	for _, v := range p.sortedVars() {
		vi := p.vars[v]
		if !v.Exported() {
			continue
		}
		switch {
		case vi.written.IsValid():
			p.pass.ExportObjectFact(v, &varFact{Written: p.position(vi.written)})
		case vi.sentinel:
			p.pass.ExportObjectFact(v, &varFact{Sentinel: true})
		default:
			if calls := p.varCalls(v); len(calls) > 0 {
				p.pass.ExportObjectFact(v, &varFact{Calls: calls})
			}
		}
	}
	for _, fi := range p.allFuncs() {
		if fi.decl == nil || fi.trusted {
			continue
		}
		ff := &funcFact{
			Reasons:     fi.v.reasons,
			Obligations: fi.v.obligations,
			Reads:       p.visibleReads(fi.v.reads),
			Writes:      fi.paramWrites,
			Stores:      fi.stores,
			Aliases:     fi.aliases,
			MapOrder:    fi.v.mapOrder,
			Results:     p.summaries(fi),
		}
		if len(ff.Reasons)+len(ff.Obligations)+len(ff.Reads)+len(ff.Writes)+len(ff.Stores)+len(ff.Aliases)+len(ff.Results) > 0 || ff.MapOrder {
			p.pass.ExportObjectFact(fi.obj, ff)
		}
	}
}

// varCalls says, for each path of an exported variable that leads to
// function values, what calling them amounts to.
func (p *pkgState) varCalls(v *types.Var) []PathVerdict {
	var out []PathVerdict
	for _, path := range funcPaths(v.Type(), nil, 0) {
		acc := &fnInfo{params: map[*types.Var]int{}, tparams: map[*types.TypeParam]int{}, state: visited}
		j := &judge{p: p, fi: acc, s: &site{pos: v.Pos()}, summ: true}
		vals := p.resolver(acc).packageVar(v, path)
		j.callValue(&ast.Ident{Name: v.Name()}, vals, argsInfo{known: true, through: true}, false, 0)
		if len(acc.v.reasons) > 0 || len(acc.v.obligations) > 0 {
			out = append(out, PathVerdict{Path: path, Reasons: acc.v.reasons, Obligations: acc.v.obligations})
		}
	}
	return out
}

// funcPaths lists the paths of fields and elements of a type that lead to
// function values.
func funcPaths(t types.Type, path []string, depth int) [][]string {
	if depth > 3 || t == nil {
		return nil
	}
	switch u := t.Underlying().(type) {
	case *types.Signature:
		return [][]string{slices.Clone(path)}
	case *types.Pointer:
		return funcPaths(u.Elem(), path, depth+1)
	case *types.Slice:
		return funcPaths(u.Elem(), append(path, "[]"), depth+1)
	case *types.Array:
		return funcPaths(u.Elem(), append(path, "[]"), depth+1)
	case *types.Map:
		return funcPaths(u.Elem(), append(path, "[]"), depth+1)
	case *types.Struct:
		var out [][]string
		for i := range u.NumFields() {
			out = append(out, funcPaths(u.Field(i).Type(), append(slices.Clone(path), u.Field(i).Name()), depth+1)...)
		}
		return out
	}
	return nil
}

// visibleReads keeps the reads other packages' writes could matter for:
// variables of other packages, exported ones, and those whose memory
// escapes.
func (p *pkgState) visibleReads(reads []string) []string {
	var out []string
	for _, k := range reads {
		if v := p.varByKey(k); v != nil {
			if vi := p.vars[v]; !v.Exported() && (vi == nil || !vi.escapes) {
				continue
			}
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// summaries says what calling the methods of each interface fn returns
// amounts to, over the concrete types its return statements give.
func (p *pkgState) summaries(fi *fnInfo) []ResultMethods {
	if !fi.obj.Exported() {
		return nil // no other package can call it
	}
	sig := fi.obj.Type().(*types.Signature)
	var out []ResultMethods
	for i := range sig.Results().Len() {
		t := sig.Results().At(i).Type()
		if !types.IsInterface(t) || isTypeParam(t) || p.isHost(t) || trustedInterface(t) {
			continue
		}
		iface := t.Underlying().(*types.Interface)
		var methods []string
		for m := range iface.Methods() {
			if !p.interfaceOK(t, m.Name()) {
				methods = append(methods, m.Name())
			}
		}
		if len(methods) == 0 {
			continue
		}
		rm := ResultMethods{Result: i}
		var concrete []types.Type
		vals := p.resolver(fi).returns(fi, &frame{fi: fi}, i)
		// What the receiver holds (r.byName[name]) is what the package
		// stores in values of its type.
		if recv := sig.Recv(); recv != nil {
			if n := structNamed(recv.Type()); n != nil && n.Obj().Pkg() == p.pass.Pkg {
				j := &judge{p: p, fi: fi, s: &site{}}
				var out []value
				for _, v := range vals {
					if v.kind == vParam && v.param == -1 {
						out = append(out, j.storedValues(n, v.path)...)
					} else {
						out = append(out, v)
					}
				}
				vals = out
			}
		}
		for _, v := range vals {
			switch {
			case v.kind == vNil:
			case (v.kind == vComposite || v.kind == vType) && v.typ != nil && !types.IsInterface(v.typ):
				if !slices.ContainsFunc(concrete, func(c types.Type) bool { return types.Identical(c, v.typ) }) {
					concrete = append(concrete, v.typ)
				}
			default:
				rm.Unknown = true
			}
		}
		if rm.Unknown {
			out = append(out, rm)
			continue
		}
		for _, m := range methods {
			acc := &fnInfo{params: map[*types.Var]int{}, tparams: map[*types.TypeParam]int{}, state: visited}
			j := &judge{p: p, fi: acc, s: &site{pos: fi.decl.Name.Pos()}, summ: true}
			for _, c := range concrete {
				j.methodOnValue(value{kind: vType, typ: c}, m, argsInfo{known: true, through: true}, 0, nil)
			}
			if len(acc.v.reasons) > 0 || len(acc.v.obligations) > 0 {
				rm.Methods = append(rm.Methods, MethodVerdict{Name: m, Reasons: acc.v.reasons, Obligations: acc.v.obligations})
			}
		}
		if len(rm.Methods) > 0 {
			out = append(out, rm)
		}
	}
	return out
}

// wholeProgram exports the package fact, which carries (for this package
// and those below it) the flows that read package variables other packages
// could write, and the writes of package variables by other packages. A
// main or test package sees its whole program: there, each such read that
// a write meets is reported.
func (p *pkgState) wholeProgram() {
	fact := &packageFact{}
	own := map[string]token.Pos{} // this package's writes, by key
	for _, fd := range p.flows {
		fn, _ := p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
		if fi := p.funcs[fn]; fi != nil && len(fi.v.reads) > 0 {
			reads := slices.Clone(fi.v.reads)
			slices.Sort(reads)
			fact.Flows = append(fact.Flows, FlowReads{Flow: p.pass.Pkg.Name() + "." + fd.Name.Name, Pos: p.position(fd.Name.Pos()), Reads: reads})
		}
	}
	for _, vw := range p.foreignWrites {
		w := VarWrite{Var: varKey(vw.v), Pkg: p.pass.Pkg.Path(), Pos: p.position(vw.pos)}
		if p.isTestFile(vw.pos) {
			w.Pkg += " (tests)"
		}
		fact.Writes = append(fact.Writes, w)
		if _, ok := own[w.Var+"\x00"+w.Pos]; !ok {
			own[w.Var+"\x00"+w.Pos] = vw.pos
		}
	}
	carrier := map[string]*types.Package{} // where an imported entry comes from
	reported := map[string]bool{}
	for _, imp := range p.pass.Pkg.Imports() {
		var pf packageFact
		if !p.pass.ImportPackageFact(imp, &pf) {
			continue
		}
		fact.Flows = append(fact.Flows, pf.Flows...)
		for _, w := range pf.Writes {
			k := w.Var + "\x00" + w.Pos
			if _, ok := carrier[k]; !ok {
				carrier[k] = imp
			}
			fact.Writes = append(fact.Writes, w)
		}
		for _, r := range pf.Reported {
			reported[r] = true
		}
	}
	fact.Impls = append(p.ownImpls(), p.importedImpls()...)
	fact.Impls = dedupe(fact.Impls, func(im ImplFact) string { return im.Iface + "\x00" + im.Type })
	fact.Flows = dedupe(fact.Flows, func(f FlowReads) string { return f.Flow + "\x00" + f.Pos })
	fact.Writes = dedupe(fact.Writes, func(w VarWrite) string { return w.Var + "\x00" + w.Pos })
	if p.root {
		for _, f := range fact.Flows {
			for _, w := range fact.Writes {
				key := f.Flow + "\x00" + w.Var + "\x00" + w.Pos
				if !slices.Contains(f.Reads, w.Var) || reported[key] {
					continue
				}
				reported[key] = true
				fact.Reported = append(fact.Reported, key)
				pos, ok := own[w.Var+"\x00"+w.Pos]
				if !ok {
					pos = p.importPos(carrier[w.Var+"\x00"+w.Pos])
				}
				_, flow, _ := strings.Cut(f.Flow, ".")
				p.pass.Report(analysis.Diagnostic{Pos: pos, Category: KindVar.String(), Message: fmt.Sprintf(
					"flow %s reads %s, which %s at %s: the value differs between incarnations; pass it to the flow as an argument (the flow is at %s)",
					flow, p.varName(w.Var), p.writer(w.Pkg), w.Pos, f.Pos)})
			}
		}
		slices.Sort(fact.Reported)
	}
	p.pass.ExportPackageFact(fact)
}

func dedupe[T any](xs []T, key func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}

// importPos is where this package imports pkg (or, failing that, its
// package clause).
func (p *pkgState) importPos(pkg *types.Package) token.Pos {
	for _, f := range p.pass.Files {
		for _, imp := range f.Imports {
			if pkg != nil && strings.Trim(imp.Path.Value, `"`) == pkg.Path() {
				return imp.Pos()
			}
		}
	}
	return p.pass.Files[0].Name.Pos()
}

// varName shows a variable key as code names it: billing.Rate.
func (p *pkgState) varName(key string) string {
	if v := p.lookupVar(key); v != nil {
		return v.Pkg().Name() + "." + v.Name()
	}
	if i := strings.LastIndex(key, "/"); i >= 0 {
		return key[i+1:]
	}
	return key
}

// writer says who writes: "package main writes", "the tests of package
// billing write".
func (p *pkgState) writer(path string) string {
	path, tests := strings.CutSuffix(path, " (tests)")
	name := path
	if pkg := p.packageByPath(path); pkg != nil {
		name = pkg.Name()
	} else if i := strings.LastIndex(path, "/"); i >= 0 {
		name = path[i+1:]
	}
	if tests {
		return "the tests of package " + name + " write"
	}
	return "package " + name + " writes"
}
