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

// verdicts computes every function's verdict. Calls within a cycle see the
// previous round's verdict of a function still in progress, so rounds repeat
// until nothing changes.
func (p *pkgState) verdicts() {
	fns := p.sortedFuncs()
	all := func() []*fnInfo {
		out := make([]*fnInfo, 0, len(fns)+len(p.initFns))
		for _, fn := range fns {
			out = append(out, p.funcs[fn])
		}
		return append(out, p.initFns...)
	}()
	for round := 0; round < 16; round++ {
		for _, fi := range all {
			fi.prev, fi.prevObligations = fi.reason, fi.obligations
			fi.state, fi.reason, fi.obligations = unvisited, nil, nil
			for _, s := range fi.sites {
				s.results = nil
			}
		}
		for _, fi := range all {
			p.verdict(fi)
		}
		changed := false
		for _, fi := range all {
			if (fi.reason == nil) != (fi.prev == nil) || len(fi.obligations) != len(fi.prevObligations) {
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

func (p *pkgState) verdict(fi *fnInfo) {
	if fi.state != unvisited {
		return
	}
	fi.state = visiting
	for _, s := range fi.sites {
		if !s.call {
			r := &Reason{Chain: []string{s.what}, What: s.why, Pos: p.position(s.pos), Kind: s.kind}
			s.results = append(s.results, result{problem: r})
			p.blame(fi, r)
			continue
		}
		switch {
		case s.initOf != nil:
			p.initTaint(fi, s, s.initOf)
		case s.callee != nil:
			p.applyCallee(fi, s, s.callee, s.targs, s.args, true, 0)
		case s.fnExpr != nil:
			p.callValue(fi, s, s.fnExpr, 0)
		case s.recvExpr != nil:
			p.callMethodOn(fi, s, s.recvExpr, s.method, 0)
		}
	}
	fi.state = visited
}

// initTaint: reading a variable never written after initialisation is fine,
// unless the initialisation itself is not closed (var region =
// os.Getenv("REGION"), or an init function reading the clock).
func (p *pkgState) initTaint(fi *fnInfo, s *site, v *types.Var) {
	vi := p.vars[v]
	var from *fnInfo
	if vi.initFn != nil {
		p.verdict(vi.initFn)
		if vi.initFn.reason != nil {
			from = vi.initFn
		}
	}
	for _, w := range vi.initWriters {
		if wi := p.funcs[w]; wi != nil && from == nil {
			if wi.state == visiting {
				continue
			}
			p.verdict(wi)
			if wi.reason != nil {
				from = wi
			}
		}
	}
	if from == nil {
		return
	}
	r := from.reason
	s.results = append(s.results, result{local: from}) // report the cause where it is
	p.problemAt(fi, s, "package variable "+v.Name(), "is initialised by code that is not closed ("+strings.Join(p.local(r.Chain), " → ")+": "+r.What+", at "+r.Pos+"), so it differs between incarnations")
}

// blame records the first reason a function is not closed.
func (p *pkgState) blame(fi *fnInfo, r *Reason) {
	if fi.reason == nil {
		fi.reason = &Reason{Chain: append([]string{fi.name}, r.Chain...), What: r.What, Pos: r.Pos, Kind: r.Kind}
	}
}

// problemAt records a problem found while resolving a site.
func (p *pkgState) problemAt(fi *fnInfo, s *site, subject, why string) {
	r := &Reason{Chain: []string{subject}, What: why, Pos: p.position(s.pos), Kind: KindDynamic}
	s.results = append(s.results, result{problem: r})
	p.blame(fi, r)
}

func (fi *fnInfo) oblige(o Obligation) {
	if !slices.Contains(fi.obligations, o) {
		fi.obligations = append(fi.obligations, o)
	}
}

const maxDepth = 8

// applyCallee records what calling fn at site s means for fi. args are the
// call's arguments, unknown (argsKnown false) when fn is a callback that
// something else calls.
func (p *pkgState) applyCallee(fi *fnInfo, s *site, fn *types.Func, targs []types.Type, args []ast.Expr, argsKnown bool, depth int) {
	if fn.Pkg() == nil {
		return
	}
	path := fn.Pkg().Path()
	if isMembrane(path) || p.c.allowed(fn.FullName()) {
		return
	}
	var reason *Reason
	var obligations []Obligation
	var local *fnInfo
	switch {
	case isStd(path):
		if bad, why := stdVerdict(fn); bad {
			p.problemAt(fi, s, stdName(fn), why)
			return
		}
		obligations = stdObligations(fn)
	case fn.Pkg() == p.pass.Pkg:
		callee := p.funcs[fn]
		if callee == nil {
			p.problemAt(fi, s, p.funcName(fn), "has no Go body: cannot prove closed")
			return
		}
		if callee.state == visiting {
			reason, obligations = callee.prev, callee.prevObligations
		} else {
			p.verdict(callee)
			reason, obligations = callee.reason, callee.obligations
		}
		local = callee
	default:
		var ff funcFact
		if !p.pass.ImportObjectFact(fn, &ff) && !p.analysed(fn.Pkg()) {
			p.problemAt(fi, s, p.funcName(fn), "has no verdict (its package was not analysed): cannot prove closed")
			return
		}
		reason, obligations = ff.Reason, ff.Obligations
	}
	if reason != nil {
		if local != nil {
			s.results = append(s.results, result{local: local})
		} else {
			s.results = append(s.results, result{foreign: reason, subject: p.funcName(fn)})
		}
		p.blame(fi, reason)
	}
	for _, o := range obligations {
		p.discharge(fi, s, fn, o, targs, args, argsKnown, depth)
	}
}

// stdObligations: a standard function may call any function it is given,
// and any method of the interfaces it is given.
func stdObligations(fn *types.Func) []Obligation {
	sig := fn.Type().(*types.Signature)
	var out []Obligation
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			if sl, ok := t.(*types.Slice); ok {
				t = sl.Elem()
			}
		}
		switch u := t.Underlying().(type) {
		case *types.Signature:
			out = append(out, Obligation{Param: i})
		case *types.Interface:
			if _, isTP := t.(*types.TypeParam); isTP {
				continue // a constraint: judged at instantiation
			}
			for j := range u.NumMethods() {
				out = append(out, Obligation{Param: i, Method: u.Method(j).Name()})
			}
		}
	}
	return out
}

// discharge resolves one obligation of a callee at a call site.
func (p *pkgState) discharge(fi *fnInfo, s *site, fn *types.Func, o Obligation, targs []types.Type, args []ast.Expr, argsKnown bool, depth int) {
	if o.TypeParam {
		if o.Param >= len(targs) {
			p.problemAt(fi, s, p.funcName(fn), "calls methods of a type parameter that cannot be resolved: cannot prove closed")
			return
		}
		p.callMethodOnType(fi, s, targs[o.Param], o.Method, depth+1)
		return
	}
	if !argsKnown {
		p.problemAt(fi, s, p.funcName(fn), "is passed as a value, and calls what it is given: cannot prove closed")
		return
	}
	sig := fn.Type().(*types.Signature)
	var given []ast.Expr
	switch {
	case sig.Variadic() && o.Param == sig.Params().Len()-1:
		if o.Param < len(args) {
			given = args[o.Param:]
		}
	case o.Param < len(args):
		given = []ast.Expr{args[o.Param]}
	}
	for _, a := range given {
		if o.Method == "" {
			p.callValue(fi, s, a, depth+1)
		} else {
			p.callMethodOn(fi, s, a, o.Method, depth+1)
		}
	}
}

// callValue resolves a function value that will be called.
func (p *pkgState) callValue(fi *fnInfo, s *site, e ast.Expr, depth int) {
	if depth > maxDepth {
		p.problemAt(fi, s, "function value", "is passed through too many hands to resolve: cannot prove closed")
		return
	}
	info := p.pass.TypesInfo
	var targs []types.Type
	switch x := ast.Unparen(e).(type) {
	case *ast.IndexExpr:
		if t := info.TypeOf(x.X); t != nil {
			switch t.Underlying().(type) {
			case *types.Map, *types.Slice, *types.Array:
				// An element of a table of functions built here.
				if lit := p.localLiteral(fi, x.X); lit != nil {
					for _, el := range lit.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							el = kv.Value
						}
						p.callValue(fi, s, el, depth+1)
					}
					return
				}
				p.problemAt(fi, s, "function value", "comes from a table whose contents cannot be known: cannot prove closed")
				return
			}
		}
		e = x.X
	case *ast.IndexListExpr:
		e = x.X
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.FuncLit:
		return // walked as part of this function
	case *ast.CallExpr:
		// A function a call returned: its code is the callee's (or, for the
		// standard library, the table's), judged at the call itself.
		return
	case *ast.Ident:
		if x.Name == "nil" {
			return
		}
		switch obj := info.Uses[x].(type) {
		case *types.Func:
			if inst, ok := info.Instances[x]; ok && inst.TypeArgs != nil {
				for i := range inst.TypeArgs.Len() {
					targs = append(targs, inst.TypeArgs.At(i))
				}
			}
			p.applyCallee(fi, s, obj.Origin(), targs, nil, false, depth)
			return
		case *types.Var:
			if idx, ok := fi.params[obj]; ok {
				fi.oblige(Obligation{Param: idx})
				return
			}
			if v := fi.assignedOnce(obj); v != nil {
				p.callValue(fi, s, v, depth+1)
				return
			}
			if l := fi.locals[obj]; l != nil && l.rangeOver != nil && l.assigns == 2 {
				// The value of a range over a table of functions built here.
				p.callValue(fi, s, &ast.IndexExpr{X: l.rangeOver, Index: ast.NewIdent("_")}, depth+1)
				return
			}
			if obj.Parent() == obj.Pkg().Scope() {
				if vi := p.vars[obj]; vi != nil && vi.init != nil && !vi.written.IsValid() && !obj.Exported() {
					p.callValue(fi, s, vi.init, depth+1)
					return
				}
				p.problemAt(fi, s, "package variable "+obj.Name(), "is a function that can change: cannot prove closed")
				return
			}
			p.problemAt(fi, s, obj.Name(), "is a function value whose target cannot be known: cannot prove closed")
			return
		}
	case *ast.SelectorExpr:
		sel := info.Selections[x]
		if sel == nil {
			switch obj := info.Uses[x.Sel].(type) {
			case *types.Func:
				p.applyCallee(fi, s, obj.Origin(), nil, nil, false, depth)
				return
			case *types.Var:
				p.problemAt(fi, s, "package variable "+obj.Pkg().Name()+"."+obj.Name(), "is a function that can change: cannot prove closed")
				return
			}
			break
		}
		switch sel.Kind() {
		case types.MethodVal, types.MethodExpr:
			fn := sel.Obj().(*types.Func)
			if isInterfaceMethod(fn) {
				if sel.Kind() == types.MethodExpr {
					p.problemAt(fi, s, fn.Name(), "is an interface method expression: cannot prove closed")
					return
				}
				p.callMethodOn(fi, s, x.X, fn.Name(), depth)
				return
			}
			p.applyCallee(fi, s, fn.Origin(), typeArgsOf(sel.Recv()), nil, false, depth)
			return
		case types.FieldVal:
			// A field of a struct literal built here.
			if lit := p.localLiteral(fi, x.X); lit != nil {
				for _, el := range lit.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok && id.Name == x.Sel.Name {
							p.callValue(fi, s, kv.Value, depth+1)
							return
						}
					}
				}
				return // not set: calling it panics, which is not an effect
			}
			p.problemAt(fi, s, "field "+x.Sel.Name, "holds a function whose target cannot be known: cannot prove closed")
			return
		}
	}
	p.problemAt(fi, s, "function value", "has a target that cannot be known: cannot prove closed")
}

// localLiteral returns the composite literal a local variable is assigned
// once (possibly through &), or an unexported package variable is
// initialised with and never written, whose function values can then be
// resolved.
func (p *pkgState) localLiteral(fi *fnInfo, e ast.Expr) *ast.CompositeLit {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, ok := p.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	val := fi.assignedOnce(v)
	if vi := p.vars[v]; vi != nil && !v.Exported() && !vi.written.IsValid() {
		val = vi.init
	}
	if u, ok := val.(*ast.UnaryExpr); ok && u.Op == token.AND {
		val = u.X
	}
	lit, _ := ast.Unparen(val).(*ast.CompositeLit)
	return lit
}

func typeArgsOf(t types.Type) []types.Type {
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.TypeArgs() == nil {
		return nil
	}
	out := make([]types.Type, n.TypeArgs().Len())
	for i := range out {
		out[i] = n.TypeArgs().At(i)
	}
	return out
}

// callMethodOn resolves a call of method on the value of e.
func (p *pkgState) callMethodOn(fi *fnInfo, s *site, e ast.Expr, method string, depth int) {
	if depth > maxDepth {
		p.problemAt(fi, s, method, "is called through too many hands to resolve: cannot prove closed")
		return
	}
	t := p.pass.TypesInfo.TypeOf(e)
	if t == nil {
		return
	}
	if id, ok := ast.Unparen(e).(*ast.Ident); ok && types.IsInterface(t) && !p.interfaceOK(t, method) {
		if v, ok := p.pass.TypesInfo.Uses[id].(*types.Var); ok {
			if idx, ok := fi.params[v]; ok {
				fi.oblige(Obligation{Param: idx, Method: method})
				return
			}
			if val := fi.assignedOnce(v); val != nil {
				if vt := p.pass.TypesInfo.TypeOf(val); vt != nil && !types.IsInterface(vt) {
					p.callMethodOnType(fi, s, vt, method, depth+1)
					return
				}
				p.callMethodOn(fi, s, val, method, depth+1)
				return
			}
		}
	}
	p.callMethodOnType(fi, s, t, method, depth)
}

// interfaceOK: calls through host interfaces, trusted interfaces and
// well-known methods need no resolution.
func (p *pkgState) interfaceOK(t types.Type, method string) bool {
	if p.isHost(t) || trustedInterface(t) {
		return true
	}
	obj, _, _ := types.LookupFieldOrMethod(t, true, p.pass.Pkg, method)
	if fn, ok := obj.(*types.Func); ok {
		if wellKnownMethod(fn) {
			return true
		}
		if recv := fn.Type().(*types.Signature).Recv(); recv != nil && (p.isHost(recv.Type()) || trustedInterface(recv.Type())) {
			return true
		}
	}
	return false
}

// callMethodOnType resolves a call of method on a value of type t.
func (p *pkgState) callMethodOnType(fi *fnInfo, s *site, t types.Type, method string, depth int) {
	if tp, ok := types.Unalias(t).(*types.TypeParam); ok {
		if idx, ok := fi.tparams[tp]; ok {
			fi.oblige(Obligation{Param: idx, TypeParam: true, Method: method})
			return
		}
		p.problemAt(fi, s, method, "is called on a type parameter that cannot be resolved: cannot prove closed")
		return
	}
	if types.IsInterface(t) {
		if p.interfaceOK(t, method) {
			return
		}
		if impls, ok := p.localImplementations(t); ok {
			for _, impl := range impls {
				p.callMethodOnType(fi, s, impl, method, depth+1)
			}
			return
		}
		p.problemAt(fi, s, typeName(t)+"."+method, "is called through an interface whose implementation cannot be known: cannot prove closed")
		return
	}
	obj, _, _ := types.LookupFieldOrMethod(t, true, p.pass.Pkg, method)
	fn, ok := obj.(*types.Func)
	if !ok {
		p.problemAt(fi, s, typeName(t)+"."+method, "cannot be resolved: cannot prove closed")
		return
	}
	if isInterfaceMethod(fn) {
		// Promoted from an embedded interface.
		if p.interfaceOK(fn.Type().(*types.Signature).Recv().Type(), method) {
			return
		}
		p.problemAt(fi, s, typeName(t)+"."+method, "is called through an embedded interface: cannot prove closed")
		return
	}
	p.applyCallee(fi, s, fn.Origin(), typeArgsOf(t), nil, false, depth)
}

// localImplementations returns the types of this package implementing an
// unexported interface declared in it (each type T, or *T if only it does).
func (p *pkgState) localImplementations(t types.Type) ([]types.Type, bool) {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() != p.pass.Pkg || n.Obj().Exported() || n.TypeParams().Len() > 0 {
		return nil, false
	}
	if impls, ok := p.impls[n]; ok {
		return impls, true
	}
	iface := n.Underlying().(*types.Interface)
	var impls []types.Type
	scope := p.pass.Pkg.Scope()
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
	p.impls[n] = impls
	return impls, true
}

func typeName(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}

// reportFlow reports a flow that is not closed: a summary at its
// declaration, and each cause at its line in this package.
func (p *pkgState) reportFlow(fd *ast.FuncDecl) {
	fn, ok := p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
	if !ok {
		return
	}
	fi := p.funcs[fn]
	if fi == nil || fi.reason == nil {
		return
	}
	causes := 0
	type pending struct {
		s   *site
		msg string
	}
	var sites []pending
	visited := map[*fnInfo]bool{}
	var visit func(f *fnInfo, chain []string)
	visit = func(f *fnInfo, chain []string) {
		if visited[f] {
			return
		}
		visited[f] = true
		chain = append(slices.Clone(chain), f.name)
		for _, s := range f.sites {
			for _, r := range s.results {
				switch {
				case r.problem != nil:
					causes++
					full := p.local(append(slices.Clone(chain), r.problem.Chain...))
					sites = append(sites, pending{s, fmt.Sprintf("%s: %s (flow %s: %s)", r.problem.Chain[0], r.problem.What, fd.Name.Name, strings.Join(full, " → "))})
				case r.local != nil:
					visit(r.local, chain)
				case r.foreign != nil:
					causes++
					full := p.local(append(slices.Clone(chain), r.foreign.Chain...))
					sites = append(sites, pending{s, fmt.Sprintf("%s is not closed: %s: %s, at %s (flow %s: %s)", r.subject, strings.Join(p.local(r.foreign.Chain), " → "), r.foreign.What, r.foreign.Pos, fd.Name.Name, strings.Join(full, " → "))})
				}
			}
		}
	}
	visit(fi, nil)
	msg := fmt.Sprintf("flow %s is not closed: %s: %s, at %s", fd.Name.Name, strings.Join(p.local(fi.reason.Chain), " → "), fi.reason.What, fi.reason.Pos)
	if causes > 1 {
		msg += fmt.Sprintf(" (and %d more)", causes-1)
	}
	p.pass.Report(analysis.Diagnostic{Pos: fd.Name.Pos(), Message: msg, Category: fi.reason.Kind.String()})
	for _, ps := range sites {
		p.report(ps.s, ps.msg)
	}
}

func (p *pkgState) report(s *site, msg string) {
	if p.reported[s.pos] {
		return
	}
	p.reported[s.pos] = true
	d := analysis.Diagnostic{Pos: s.pos, Message: msg, Category: s.kind.String()}
	if s.fix != nil {
		d.SuggestedFixes = []analysis.SuggestedFix{*s.fix}
	}
	p.pass.Report(d)
}
