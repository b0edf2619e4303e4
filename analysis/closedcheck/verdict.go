package closedcheck

import (
	"go/ast"
	"go/types"
	"slices"
)

// verdicts computes every function's verdict. Calls within a cycle see the
// previous round's verdict of a function still in progress, so rounds repeat
// until nothing changes (a package without such calls needs one).
func (p *pkgState) verdicts() {
	all := p.allFuncs()
	for round := 0; round < 16; round++ {
		for _, fi := range all {
			if round > 0 && !fi.usedPrev {
				continue // nothing it depends on was in progress: final
			}
			fi.prev = fi.v
			fi.state, fi.v, fi.ifaceDone, fi.usedPrev = unvisited, verdict{}, nil, false
			for _, s := range fi.sites {
				s.results = nil
			}
		}
		p.cycle = false
		for _, fi := range all {
			p.verdict(fi)
		}
		if !p.cycle {
			return
		}
		changed := false
		for _, fi := range all {
			if fi.usedPrev && (fi.v.size() != fi.prev.size() || fi.v.mapOrder != fi.prev.mapOrder) {
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// consult returns the verdict of a function of this package for a caller:
// the previous round's while it is in progress (a cycle).
func (p *pkgState) consult(caller, callee *fnInfo) verdict {
	if callee.state == visiting {
		p.cycle = true
		caller.usedPrev = true
		return callee.prev
	}
	p.verdict(callee)
	if callee.usedPrev {
		caller.usedPrev = true
	}
	return callee.v
}

func (p *pkgState) verdict(fi *fnInfo) {
	defer p.enter()()
	if fi.state != unvisited {
		return
	}
	fi.state = visiting
	fi.v.mapOrder = fi.mapOrder
	for _, s := range fi.sites {
		j := &judge{p: p, fi: fi, s: s}
		switch {
		case !s.call:
			r := &Reason{Chain: []string{s.what}, What: s.why, Pos: p.position(s.pos), Kind: s.kind, Missing: s.missing}
			s.results = append(s.results, result{problem: r})
			p.blame(fi, r)
		case s.initOf != nil:
			j.initTaint(s.initOf)
		case s.read != "":
			fi.v.addRead(s.read)
		case s.stored != nil:
			for _, v := range j.values(s.stored) {
				if v.kind != vParam {
					continue
				}
				// As if what is stored were called: its functions, and
				// every method of its interfaces.
				for _, fp := range funcPaths(s.storedType, nil, 0) {
					fi.oblige(Obligation{Param: v.param, Path: append(slices.Clone(v.path), fp...)})
				}
				for _, ip := range p.ifacePaths(s.storedType, nil, 0) {
					it := ifaceAt(pathType(s.storedType, ip))
					if it == nil {
						continue // ifacePaths leads to interfaces only
					}
					for m := range it.Underlying().(*types.Interface).Methods() {
						if !p.interfaceOK(it, m.Name()) {
							fi.oblige(Obligation{Param: v.param, Path: append(slices.Clone(v.path), ip...), Method: m.Name()})
						}
					}
				}
			}
		case s.callee != nil:
			args := argsInfo{exprs: s.args, known: true, ellipsis: s.ellipsis}
			if j.applyCallee(s.callee, s.targs, args, j.recvOf(s.recvExpr), 0) {
				j.mapOrder(s.callee)
			}
		case s.fnExpr != nil:
			args := argsInfo{exprs: s.args, known: true, ellipsis: s.ellipsis}
			if s.yield {
				args = argsInfo{exprs: []ast.Expr{loopBody}, known: true}
			}
			j.callValue(s.fnExpr, j.values(s.fnExpr), args, s.ordered, 0)
		case s.recvExpr != nil:
			args := argsInfo{exprs: s.args, known: true, ellipsis: s.ellipsis}
			j.callMethod(j.values(s.recvExpr), s.method, s.recvType, args, 0)
		}
	}
	fi.state = visited
}

// loopBody stands for the body of a range over a function: the yield it is
// called with, walked where it is written.
var loopBody ast.Expr = &ast.FuncLit{}

// judge resolves one site of one function.
type judge struct {
	p    *pkgState
	fi   *fnInfo
	s    *site
	r    *resolver
	summ bool // summarising a result: parameter obligations pass through
	// methods being judged on composite values, against cycles
	active map[activeKey]bool
	// interfaces whose implementations are being judged, against cycles
	ifaceActive map[string]bool
}

type activeKey struct {
	fn   *types.Func
	comp *ast.CompositeLit
}

// argsInfo is what a callee is called with.
type argsInfo struct {
	exprs    []ast.Expr
	known    bool
	ellipsis bool
	through  bool // obligations on the parameters are the caller's to discharge (a summary)
}

// recvInfo is what a method is called on: the values of the receiver, if
// traced (from expr in frame fr, resolved when an obligation asks), and
// its static type.
type recvInfo struct {
	vals     []value
	expr     ast.Expr
	fr       *frame
	static   types.Type
	resolved bool
}

// values resolves the receiver's values the first time they are needed.
func (r *recvInfo) values(j *judge) []value {
	if !r.resolved && r.expr != nil {
		r.resolved = true
		fr := r.fr
		if fr == nil {
			fr = &frame{fi: j.fi}
		}
		r.vals = j.r0().values(r.expr, fr)
	}
	return r.vals
}

func (j *judge) values(e ast.Expr) []value {
	if j.r == nil {
		j.r = j.p.resolver(j.fi)
	}
	return j.r.values(e, &frame{fi: j.fi})
}

func (j *judge) recvOf(e ast.Expr) *recvInfo {
	if e == nil {
		return nil
	}
	return &recvInfo{expr: e, static: j.p.pass.TypesInfo.TypeOf(e)}
}

func (fi *fnInfo) oblige(o Obligation) {
	for _, have := range fi.v.obligations {
		if have.Param == o.Param && have.TypeParam == o.TypeParam && have.Method == o.Method &&
			have.Iface == o.Iface && slices.Equal(have.Path, o.Path) {
			if o.Ordered && !have.Ordered {
				break // the stricter one is added
			}
			return
		}
	}
	fi.v.obligations = append(fi.v.obligations, o)
}

func (v *verdict) addRead(key string) {
	if !slices.Contains(v.reads, key) {
		v.reads = append(v.reads, key)
	}
}

// blame records a reason the function is not closed (each cause once, up
// to maxReasons).
func (p *pkgState) blame(fi *fnInfo, r *Reason) {
	for _, have := range fi.v.reasons {
		if have.Pos == r.Pos && have.What == r.What {
			return
		}
	}
	if len(fi.v.reasons) >= maxReasons {
		return
	}
	chain := r.Chain
	if fi.name != "" {
		chain = append([]string{fi.name}, r.Chain...)
	}
	fi.v.reasons = append(fi.v.reasons, &Reason{Chain: chain, What: r.What, Pos: r.Pos, Kind: r.Kind, Missing: r.Missing})
}

// problem records a problem found while resolving the site.
func (j *judge) problem(subject, why string, kind Kind) {
	r := &Reason{Chain: []string{subject}, What: why, Pos: j.p.position(j.s.pos), Kind: kind}
	j.s.results = append(j.s.results, result{problem: r})
	j.p.blame(j.fi, r)
}

// missingProblem records a problem that analysing another package would
// settle.
func (j *judge) missingProblem(subject, why, missing string) {
	r := &Reason{Chain: []string{subject}, What: why, Pos: j.p.position(j.s.pos), Kind: KindUnanalysed, Missing: missing}
	j.s.results = append(j.s.results, result{problem: r})
	j.p.blame(j.fi, r)
}

const maxDepth = 8

// applyCallee records what calling fn means for the function judged, and
// discharges its obligations with what it is given. It reports whether fn
// returns an iterator that yields in map order.
func (j *judge) applyCallee(fn *types.Func, targs []types.Type, args argsInfo, recv *recvInfo, depth int) bool {
	defer j.p.enter()()
	p, fi, s := j.p, j.fi, j.s
	if fn.Pkg() == nil {
		return false
	}
	path := fn.Pkg().Path()
	if isMembrane(path) {
		return false
	}
	if allowed, _ := p.configured(fn); allowed {
		return false
	}
	var v verdict
	var local *fnInfo
	switch {
	case isStd(path):
		full := p.full(fn)
		if bad, why := stdVerdictOf(fn, full); bad {
			j.problem(stdName(fn), why, kindOf(fn))
			return false
		}
		v.obligations = p.stdObligations(fn, full)
		switch full {
		case "maps.Keys", "maps.Values", "maps.All":
			v.mapOrder = true
		}
	case fn.Pkg() == p.pass.Pkg:
		callee := p.funcs[fn]
		if callee == nil {
			j.problem(p.funcName(fn), "has no Go body: cannot prove closed", KindDynamic)
			return false
		}
		v = p.consult(fi, callee)
		local = callee
	default:
		var ff funcFact
		if !p.pass.ImportObjectFact(fn, &ff) && !p.analysed(fn.Pkg()) {
			r := &Reason{Chain: []string{p.funcName(fn)}, What: "has no verdict (" + p.whyUnanalysed(fn.Pkg()) + "): cannot prove closed",
				Pos: p.position(s.pos), Kind: KindUnanalysed, Missing: path}
			s.results = append(s.results, result{problem: r})
			p.blame(fi, r)
			return false
		}
		v = verdict{reasons: ff.Reasons, obligations: ff.Obligations, reads: ff.Reads, mapOrder: ff.MapOrder}
	}
	if len(v.reasons) > 0 {
		if local != nil {
			s.results = append(s.results, result{local: local})
		} else {
			for _, r := range v.reasons {
				s.results = append(s.results, result{foreign: r, subject: p.funcName(fn)})
			}
		}
		for _, r := range v.reasons {
			p.blame(fi, r)
		}
	}
	for _, r := range v.reads {
		fi.v.addRead(r)
	}
	for _, o := range v.obligations {
		j.discharge(fn, o, targs, args, recv, depth)
	}
	return v.mapOrder
}

// mapOrder judges a call of a function returning an iterator in map order
// by what consumes it.
func (j *judge) mapOrder(fn *types.Func) {
	s := j.s
	switch s.consumer {
	case consumeFree:
		if s.returned {
			j.fi.v.mapOrder = true
		}
		return
	case consumeArg:
		if !j.orderedParam(s.argOf, s.argIndex) {
			return
		}
	}
	if s.partialSort {
		j.problem(j.p.stdOrFuncName(fn), "yields in random order, and the comparator it is sorted with compares only part of each element: elements it cannot tell apart keep the random order; compare the whole element too", KindMap)
		return
	}
	if isStd(fn.Pkg().Path()) {
		name := stdName(fn)
		j.problem(name, "yields in random order; sort first, as slices.Sorted("+name+"(m))", KindMap)
		return
	}
	j.problem(j.p.funcName(fn), "yields in map order (it ranges over a map); sort what it yields, or consume it with an order-free loop", KindMap)
}

// stdOrFuncName names a function in a message.
func (p *pkgState) stdOrFuncName(fn *types.Func) string {
	if fn.Pkg() != nil && isStd(fn.Pkg().Path()) {
		return stdName(fn)
	}
	return p.funcName(fn)
}

// orderedParam reports whether the callee of call depends on the order
// its parameter idx yields in.
func (j *judge) orderedParam(call *ast.CallExpr, idx int) bool {
	fn := j.p.staticCallee(call)
	if fn == nil {
		return true
	}
	var obls []Obligation
	if fn.Pkg() == j.p.pass.Pkg {
		callee := j.p.funcs[fn]
		if callee == nil {
			return true
		}
		obls = j.p.consult(j.fi, callee).obligations
	} else {
		var ff funcFact
		j.p.pass.ImportObjectFact(fn, &ff)
		obls = ff.Obligations
	}
	sig := fn.Type().(*types.Signature)
	if sig.Variadic() && idx >= sig.Params().Len()-1 {
		idx = sig.Params().Len() - 1
	}
	for _, o := range obls {
		if o.Param == idx && !o.TypeParam && o.Iface == "" && o.Ordered {
			return true
		}
	}
	return false
}

// stdObligations are those of a function of the standard library,
// computed once.
func (p *pkgState) stdObligations(fn *types.Func, full string) []Obligation {
	obls, ok := p.stdObls[fn]
	if !ok {
		obls = stdObligations(fn, full)
		p.stdObls[fn] = obls
	}
	return obls
}

// orderFreeStd consume an iterator without keeping its order.
var orderFreeStd = map[string]bool{"maps.Collect": true, "maps.Insert": true, "slices.Sorted": true}

// stdObligations: a standard function may call any function it is given,
// and any method of the interfaces it is given.
func stdObligations(fn *types.Func, full string) []Obligation {
	sig := fn.Type().(*types.Signature)
	var out []Obligation
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		var path []string
		if sig.Variadic() && i == sig.Params().Len()-1 {
			if sl, ok := t.(*types.Slice); ok {
				t = sl.Elem()
				path = []string{"[]"}
			}
		}
		switch u := t.Underlying().(type) {
		case *types.Signature:
			out = append(out, Obligation{Param: i, Path: path, Ordered: !orderFreeStd[full]})
		case *types.Interface:
			if _, isTP := t.(*types.TypeParam); isTP {
				continue // a constraint: judged at instantiation
			}
			for j := range u.NumMethods() {
				out = append(out, Obligation{Param: i, Path: path, Method: u.Method(j).Name()})
			}
		}
	}
	return out
}
