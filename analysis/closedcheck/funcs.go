package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/analysis"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// fnInfo is one function declaration of the package, or the initializer
// of a package variable judged as a function.
type fnInfo struct {
	obj     *types.Func
	decl    *ast.FuncDecl // nil for an initializer
	body    ast.Node
	name    string
	flow    bool
	params  map[*types.Var]int       // parameter index (-1 the receiver); none for a flow, which is a root
	tparams map[*types.TypeParam]int // receiver's type parameters, then the function's
	locals  map[*types.Var]*local
	trusted bool // generated, allowed, or ignored as a whole
	denied  bool // denied by the configuration: its one site says so

	returns    []*ast.ReturnStmt // its own, not those of literals in it
	resultVars []*types.Var      // named results
	nresults   int

	// What it writes (see writes).
	lvalues     map[*ast.Ident]bool
	paramWrites []int
	stores      []Store
	aliases     []string
	varWrites   []varWrite

	sites    []*site
	invoked  map[*ast.FuncLit]bool // literals called where they are written: func() {…}()
	mapOrder bool                  // returns an iterator literal that yields in map order

	valCache map[*types.Var][]value // what its locals hold (see localVar)

	state     visit
	usedPrev  bool // this round's verdict read one still in progress
	v, prev   verdict
	ifaceDone map[string]bool // interface methods judged for this flow in this round
}

// verdict is what is known of a function: its causes, its obligations, and
// the package variables it reads that the whole program must check.
type verdict struct {
	reasons     []*Reason
	obligations []Obligation
	reads       []string
	mapOrder    bool // returns an iterator that yields in map order
}

func (v verdict) size() [3]int { return [3]int{len(v.reasons), len(v.obligations), len(v.reads)} }

// visit is how far a function's verdict has got in a round.
type visit uint8

const (
	unvisited visit = iota
	visiting        // on the stack: calls within a cycle see the previous round
	visited
)

// maxReasons bounds the causes a function keeps (the first is its summary).
const maxReasons = 10

// site is one place in a function that the verdict depends on.
type site struct {
	pos token.Pos

	// A problem found in the body itself.
	what, why string
	kind      Kind
	fix       *analysis.SuggestedFix
	missing   string // for KindUnanalysed

	// A call to resolve: a static callee (with its instantiation, its
	// arguments and, for a method, its receiver), a function value, or a
	// method through an interface or a type parameter.
	call       bool
	callee     *types.Func
	targs      []types.Type
	args       []ast.Expr
	fnExpr     ast.Expr   // a function value called
	recvExpr   ast.Expr   // the receiver of a method call
	recvType   types.Type // its static type, for a call through an interface
	method     string
	ellipsis   bool // the call passes a slice as its variadic arguments
	yield      bool // a range over fnExpr: the loop body is what it is called with
	ordered    bool // … and the body depends on the order it yields in
	initOf     *types.Var
	read       string       // a package variable read, for the whole program to check
	stored     ast.Expr     // a value stored in a function- or interface-valued field: a parameter stored is an obligation
	storedType types.Type   // the field's type
	lit        *ast.FuncLit // the innermost function literal the site is in

	// For a call returning an iterator: whether what consumes the result
	// keeps its order (a map order would then leak), and the call it is an
	// argument of.
	consumer  consumer
	argOf     *ast.CallExpr
	argIndex  int
	consumeAt token.Pos
	returned  bool // the iterator is returned: the function's result keeps its order
	// partialSort: sorted by a comparator that compares part of each element
	partialSort bool

	// Filled in by the verdict: what the site amounts to.
	results []result
}

// consumer is how the iterator a call returns is used.
type consumer uint8

const (
	consumeUnknown consumer = iota // kept in order: a map order would leak
	consumeFree                    // sorted, collected into a map, or ranged over by an order-free loop
	consumeArg                     // passed on: the callee's obligation says
)

// result is one consequence of a site.
type result struct {
	problem *Reason // a problem at this site (Chain starts with the subject)
	local   *fnInfo // a call into the package, to report inside
	// only the sites of local in this function literal (a function value
	// written there), or outside every literal (an initializer's own code)
	lit       *ast.FuncLit
	outerOnly bool
	foreign   *Reason // a cause in another package, reached by a call here
	subject   string
	via       *Reason // an implementation of an interface called here that is not closed (a note)
	viaImpl   string
}

// outer reports whether a site runs when the function does: it is not in a
// function literal, or in one called where it is written.
func (fi *fnInfo) outer(s *site) bool { return s.lit == nil || fi.invoked[s.lit] }

// collectFuncs makes an fnInfo for every function declaration and every
// package variable's initializer.
func (p *pkgState) collectFuncs() {
	for _, f := range p.pass.Files {
		generated := p.isGeneratedFile(f.Pos())
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, ok := p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			fi := p.newFunc(fn, fd, fd.Body)
			fi.flow = slices.Contains(p.flows, fd)
			p.funcs[fn] = fi
			allowed, denied := p.configured(fn)
			if generated || allowed || hasIgnore(fd.Doc) {
				fi.trusted = true
				continue
			}
			if denied != "" {
				fi.sites = append(fi.sites, &site{pos: fd.Name.Pos(), what: fi.name, why: denied, kind: KindConfig})
				fi.denied = true
				continue
			}
			sig := fn.Type().(*types.Signature)
			// A flow is a root: nothing calls it with arguments to judge, so
			// calls through its parameters are judged where they are.
			if !fi.flow {
				if sig.Recv() != nil {
					fi.params[sig.Recv()] = -1
				}
				for i := range sig.Params().Len() {
					fi.params[sig.Params().At(i)] = i
				}
			}
			n := 0
			for _, tl := range []*types.TypeParamList{sig.RecvTypeParams(), sig.TypeParams()} {
				for i := range tl.Len() {
					fi.tparams[tl.At(i)] = n
					n++
				}
			}
			fi.nresults = sig.Results().Len()
			for i := range sig.Results().Len() {
				fi.resultVars = append(fi.resultVars, sig.Results().At(i))
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncLit:
					return false
				case *ast.ReturnStmt:
					fi.returns = append(fi.returns, n)
				}
				return true
			})
			p.collectLocals(fi, fd.Body)
		}
	}
	for _, v := range p.sortedVars() {
		vi := p.vars[v]
		if vi.init == nil || p.isGeneratedFile(vi.init.Pos()) {
			continue
		}
		sig := types.NewSignatureType(nil, nil, nil, nil, nil, false)
		fn := types.NewFunc(vi.init.Pos(), p.pass.Pkg, "init of "+v.Name(), sig)
		fi := p.newFunc(fn, nil, vi.init)
		fi.name = p.pass.Pkg.Name() + "." + v.Name() + " initializer"
		p.collectLocals(fi, vi.init)
		p.initFns = append(p.initFns, fi)
		vi.initFn = fi
	}
}

func (p *pkgState) newFunc(fn *types.Func, fd *ast.FuncDecl, body ast.Node) *fnInfo {
	return &fnInfo{obj: fn, decl: fd, body: body, name: p.funcName(fn), params: map[*types.Var]int{},
		tparams: map[*types.TypeParam]int{}, locals: map[*types.Var]*local{}, lvalues: map[*ast.Ident]bool{}}
}

// allFuncs: the declared functions in source order, then the initializers.
func (p *pkgState) allFuncs() []*fnInfo {
	if p.all != nil {
		return p.all
	}
	for _, fn := range p.sortedFuncs() {
		p.all = append(p.all, p.funcs[fn])
	}
	p.all = append(p.all, p.initFns...)
	return p.all
}

func (p *pkgState) sortedFuncs() []*types.Func {
	fns := make([]*types.Func, 0, len(p.funcs))
	for fn := range p.funcs {
		fns = append(fns, fn)
	}
	slices.SortFunc(fns, func(a, b *types.Func) int { return int(a.Pos() - b.Pos()) })
	return fns
}

func (p *pkgState) sortedVars() []*types.Var {
	vs := make([]*types.Var, 0, len(p.vars))
	for v := range p.vars {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b *types.Var) int { return int(a.Pos() - b.Pos()) })
	return vs
}

// walkFuncs finds the sites of every function not trusted.
func (p *pkgState) walkFuncs() {
	for _, fi := range p.allFuncs() {
		if fi.trusted || fi.denied {
			continue
		}
		w := &walker{p: p, fi: fi, seenVar: map[varLine]bool{}}
		w.walk(fi.body)
		init := w.initializing()
		for _, vw := range fi.varWrites {
			if vw.how != "" && !vw.rooted && (!init || vw.later) {
				w.aliasWrite(vw)
			}
		}
		slices.SortStableFunc(fi.sites, func(a, b *site) int { return int(a.pos - b.pos) })
	}
}

// hasIgnore reports whether a doc comment holds a //closedcheck:ignore
// with a reason: the whole function is trusted.
func hasIgnore(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, c := range doc.List {
		if reason, ok := directive.IgnoreReason(c.Text); ok && reason != "" {
			return true
		}
	}
	return false
}

// siteReasons are the causes found at the sites of fi in a function
// literal (lit), or outside every literal (outer), as reasons of fi.
func (p *pkgState) siteReasons(caller, fi *fnInfo, lit *ast.FuncLit, outer bool) []*Reason {
	p.consult(caller, fi)
	acc := &fnInfo{name: fi.name}
	for _, s := range fi.sites {
		switch {
		case outer && !fi.outer(s):
			continue
		case lit != nil && (s.lit == nil || s.lit.Pos() < lit.Pos() || s.lit.End() > lit.End()):
			continue
		}
		for _, r := range s.results {
			switch {
			case r.problem != nil:
				p.blame(acc, r.problem)
			case r.foreign != nil:
				p.blame(acc, r.foreign)
			case r.local != nil && !r.outerOnly && r.lit == nil:
				for _, lr := range r.local.v.reasons {
					p.blame(acc, lr)
				}
			}
		}
	}
	return acc.v.reasons
}

// litReads are the package variables the whole program must check that
// the code of a function literal written in fi reads: itself, or through
// the functions it calls.
func (p *pkgState) litReads(caller, fi *fnInfo, lit *ast.FuncLit) []string {
	var out []string
	for _, s := range fi.sites {
		if s.lit == nil || s.lit.Pos() < lit.Pos() || s.lit.End() > lit.End() {
			continue
		}
		switch {
		case s.read != "":
			out = append(out, s.read)
		case s.callee != nil && s.callee.Pkg() == p.pass.Pkg:
			if callee := p.funcs[s.callee]; callee != nil {
				out = append(out, p.consult(caller, callee).reads...)
			}
		case s.callee != nil && s.callee.Pkg() != nil && !isStd(s.callee.Pkg().Path()):
			var ff funcFact
			if p.pass.ImportObjectFact(s.callee, &ff) {
				out = append(out, ff.Reads...)
			}
		}
	}
	return out
}
