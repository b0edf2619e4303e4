package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// fnInfo is one function declaration of the package.
type fnInfo struct {
	obj     *types.Func
	decl    *ast.FuncDecl
	name    string
	params  map[*types.Var]int       // parameter index (receiver excluded)
	tparams map[*types.TypeParam]int // receiver's type parameters, then the function's
	locals  map[*types.Var]*local
	sites   []*site
	trusted bool // generated, allowed, or ignored as a whole

	state       visit
	reason      *Reason
	obligations []Obligation
	// the previous round's verdict, seen by calls within a cycle
	prev            *Reason
	prevObligations []Obligation
}

// visit is how far a function's verdict has got in a round.
type visit uint8

const (
	unvisited visit = iota
	visiting        // on the stack: calls within a cycle see the previous round
	visited
)

// local is what a local variable is assigned: resolvable if exactly once.
type local struct {
	assigns   int
	value     ast.Expr
	rangeOver ast.Expr // for the value of a range: what it ranges over
}

// site is one place in a function that the verdict depends on.
type site struct {
	pos token.Pos

	// A problem found in the body itself.
	what, why string
	kind      Kind
	fix       *analysis.SuggestedFix

	// A call to resolve: a static callee (with its instantiation and
	// arguments), or a dynamic call through a function value or an
	// interface method.
	call     bool
	callee   *types.Func
	targs    []types.Type
	args     []ast.Expr
	fnExpr   ast.Expr // a function value called
	recvExpr ast.Expr // the receiver of an interface method call
	method   string
	initOf   *types.Var // a read of a variable whose initialisation is judged

	// Filled in by the verdict: what the site amounts to.
	results []result
}

// result is one consequence of a site.
type result struct {
	problem *Reason // a problem at this site (Chain starts with the subject)
	local   *fnInfo // a call into the package, to report inside
	foreign *Reason // a callee of another package that is not closed
	subject string
}

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
			fi := &fnInfo{obj: fn, decl: fd, name: p.funcName(fn), params: map[*types.Var]int{},
				tparams: map[*types.TypeParam]int{}, locals: map[*types.Var]*local{}}
			p.funcs[fn] = fi
			if generated || p.c.allowed(fn.FullName()) || hasIgnore(fd.Doc) {
				fi.trusted = true
				continue
			}
			if why, ok := p.c.cfg.Deny[fn.FullName()]; ok {
				fi.sites = append(fi.sites, &site{pos: fd.Name.Pos(), what: fi.name, why: why, kind: KindConfig})
				continue
			}
			p.walkFunc(fi)
		}
	}
}

// collectInitializers judges the initializer of each package variable as a
// function of its own, so that reading a variable initialised from the
// clock, the environment or randomness is seen.
func (p *pkgState) collectInitializers() {
	for v, vi := range p.vars {
		if vi.init == nil || p.isGeneratedFile(vi.init.Pos()) {
			continue
		}
		sig := types.NewSignatureType(nil, nil, nil, nil, nil, false)
		fn := types.NewFunc(vi.init.Pos(), p.pass.Pkg, "init of "+v.Name(), sig)
		fi := &fnInfo{obj: fn, name: p.pass.Pkg.Name() + "." + v.Name() + " initializer", params: map[*types.Var]int{},
			tparams: map[*types.TypeParam]int{}, locals: map[*types.Var]*local{}}
		w := &walker{p: p, fi: fi, seenVar: map[varLine]bool{}, lvalues: map[*ast.Ident]bool{}}
		w.walk(vi.init)
		p.initFns = append(p.initFns, fi)
		vi.initFn = fi
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

func (p *pkgState) walkFunc(fi *fnInfo) {
	sig := fi.obj.Type().(*types.Signature)
	// A flow is a root: nothing calls it with arguments to judge, so calls
	// through its parameters are judged where they are, not passed up.
	if !slices.Contains(p.flows, fi.decl) {
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
	p.collectLocals(fi)
	w := &walker{p: p, fi: fi, seenVar: map[varLine]bool{}, lvalues: map[*ast.Ident]bool{}}
	ast.Inspect(fi.decl.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, l := range n.Lhs {
					if _, id := p.rootVar(l); id != nil {
						w.lvalues[id] = true
					}
				}
			}
		case *ast.IncDecStmt:
			if _, id := p.rootVar(n.X); id != nil {
				w.lvalues[id] = true
			}
		}
		return true
	})
	w.walk(fi.decl.Body)
	slices.SortStableFunc(fi.sites, func(a, b *site) int { return int(a.pos - b.pos) })
}

// collectLocals counts the assignments of local variables, so that a
// function value or interface value assigned once can be resolved.
func (p *pkgState) collectLocals(fi *fnInfo) {
	info := p.pass.TypesInfo
	note := func(id *ast.Ident, value ast.Expr, weight int) {
		obj := info.Defs[id]
		if obj == nil {
			obj = info.Uses[id]
		}
		v, ok := obj.(*types.Var)
		if !ok || v.Parent() == nil || v.Parent() == v.Pkg().Scope() {
			return
		}
		l := fi.locals[v]
		if l == nil {
			l = &local{}
			fi.locals[v] = l
		}
		l.assigns += weight
		if weight > 0 {
			l.value = value
		}
	}
	ast.Inspect(fi.decl.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for i, id := range n.Names {
				var v ast.Expr
				switch {
				case len(n.Values) == 0:
					note(id, nil, 0) // the zero value: not an assignment
					continue
				case len(n.Values) == len(n.Names):
					v = n.Values[i]
				case len(n.Values) == 1:
					v = n.Values[0] // one of the results of a call
				}
				note(id, v, 1)
			}
		case *ast.AssignStmt:
			for i, l := range n.Lhs {
				id, ok := ast.Unparen(l).(*ast.Ident)
				if !ok {
					continue
				}
				var v ast.Expr
				switch {
				case len(n.Rhs) == len(n.Lhs) && (n.Tok == token.DEFINE || n.Tok == token.ASSIGN):
					v = n.Rhs[i]
				case len(n.Rhs) == 1 && (n.Tok == token.DEFINE || n.Tok == token.ASSIGN):
					v = n.Rhs[0] // one of the results of a call
				}
				note(id, v, 1)
			}
		case *ast.IncDecStmt:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok {
				note(id, nil, 2)
			}
		case *ast.RangeStmt:
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if id, ok := e.(*ast.Ident); ok {
					note(id, nil, 2)
				}
			}
			if id, ok := n.Value.(*ast.Ident); ok && n.Tok == token.DEFINE {
				if v, ok := info.Defs[id].(*types.Var); ok && fi.locals[v] != nil {
					fi.locals[v].rangeOver = n.X
				}
			}
		case *ast.UnaryExpr:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && n.Op == token.AND {
				note(id, nil, 2)
			}
		}
		return true
	})
}

// assignedOnce returns the one value a local variable is ever given.
func (fi *fnInfo) assignedOnce(v *types.Var) ast.Expr {
	if l := fi.locals[v]; l != nil && l.assigns == 1 {
		return l.value
	}
	return nil
}

type varLine struct {
	v    *types.Var
	line int
}

type walker struct {
	p       *pkgState
	fi      *fnInfo
	stack   []ast.Node
	lvalues map[*ast.Ident]bool
	seenVar map[varLine]bool
}

// initializing reports whether the walk is of package initialisation: an
// initializer, an init function, or a function only init calls. Its use of
// the package's variables is initialisation, not state.
func (w *walker) initializing() bool {
	if w.fi.decl == nil {
		return true
	}
	return (w.fi.decl.Recv == nil && w.fi.decl.Name.Name == "init") || w.p.initOnly[w.fi.obj]
}

func (w *walker) problem(pos token.Pos, what, why string, kind Kind) *site {
	if w.p.suppressed(pos) {
		return &site{}
	}
	s := &site{pos: pos, what: what, why: why, kind: kind}
	w.fi.sites = append(w.fi.sites, s)
	return s
}

func (w *walker) callSite(s *site) {
	if w.p.suppressed(s.pos) {
		return
	}
	s.call = true
	w.fi.sites = append(w.fi.sites, s)
}

func (w *walker) parent(up int) ast.Node {
	if i := len(w.stack) - 1 - up; i >= 0 {
		return w.stack[i]
	}
	return nil
}

func (w *walker) walk(body ast.Node) {
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			w.stack = w.stack[:len(w.stack)-1]
			return false
		}
		w.visit(n)
		w.stack = append(w.stack, n)
		return true
	})
}

func (w *walker) typeOf(e ast.Expr) types.Type {
	if t, ok := w.p.pass.TypesInfo.Types[e]; ok {
		return t.Type
	}
	return nil
}

func (w *walker) visit(n ast.Node) {
	switch n := n.(type) {
	case *ast.GoStmt:
		w.problem(n.Pos(), "go statement", "starts a goroutine the membrane cannot order; use futures (the async proxies) and flow.All", KindGo)
	case *ast.SendStmt:
		w.problem(n.Arrow, "channel send", "orders events outside the log; use vows and futures", KindChannel)
	case *ast.SelectStmt:
		w.problem(n.Pos(), "select statement", "picks among channels in an order the log cannot replay; use flow.Race", KindChannel)
	case *ast.UnaryExpr:
		if n.Op == token.ARROW {
			w.problem(n.Pos(), "channel receive", "orders events outside the log; use vows and futures", KindChannel)
		}
	case *ast.RangeStmt:
		w.rangeStmt(n)
	case *ast.CallExpr:
		w.call(n)
	case *ast.Ident:
		w.ident(n)
	}
}

// ident judges a use of a package-level variable or an unsafe type.
func (w *walker) ident(id *ast.Ident) {
	p := w.p
	obj := p.pass.TypesInfo.Uses[id]
	if tn, ok := obj.(*types.TypeName); ok && tn.Pkg() != nil && tn.Pkg().Path() == "unsafe" {
		w.problem(id.Pos(), "unsafe."+tn.Name(), "is unsafe", KindIO)
		return
	}
	v := p.packageVar(id)
	if v == nil {
		return
	}
	tf := p.pass.Fset.File(id.Pos())
	key := varLine{v, tf.Line(id.Pos())}
	if w.seenVar[key] {
		return
	}
	w.seenVar[key] = true
	write := w.lvalues[id]
	verb := "reads"
	if write {
		verb = "writes"
	}
	path := v.Pkg().Path()
	switch {
	case isStd(path):
		if bad, why := stdVarVerdict(v); bad {
			w.problem(id.Pos(), v.Pkg().Name()+"."+v.Name(), why, kindOf(v))
		}
	case v.Pkg() != p.pass.Pkg:
		if p.pass.ImportObjectFact(v, &varFact{}) && !write {
			return
		}
		w.problem(id.Pos(), "package variable "+v.Pkg().Name()+"."+v.Name(),
			verb+" a variable other packages can change: cannot prove closed; pass the value in as an argument", KindVar)
	default:
		vi := p.vars[v]
		if vi == nil || w.initializing() {
			return
		}
		switch {
		case write || vi.written == id.Pos():
			w.problem(id.Pos(), "package variable "+v.Name(), "writes package state, which replay does not restore", KindVar)
		case vi.written.IsValid():
			w.problem(id.Pos(), "package variable "+v.Name(),
				"reads package state that is written at "+p.position(vi.written)+"; pass the value in, or make it a constant", KindVar)
		case v.Exported() && !vi.sentinel:
			w.problem(id.Pos(), "package variable "+v.Name(),
				"reads an exported variable other packages can change: cannot prove closed; unexport it or pass the value in", KindVar)
		case vi.initFn != nil || len(vi.initWriters) > 0:
			// Judged once verdicts are known: see initTaint.
			s := &site{pos: id.Pos(), initOf: v}
			w.callSite(s)
		}
	}
}

// call judges a call expression.
func (w *walker) call(call *ast.CallExpr) {
	p := w.p
	info := p.pass.TypesInfo
	fun := ast.Unparen(call.Fun)
	if tv, ok := info.Types[fun]; ok && tv.IsType() {
		return // a conversion
	}
	switch obj := typeutil.Callee(info, call).(type) {
	case *types.Builtin:
		if obj.Name() == "close" {
			w.problem(call.Pos(), "close of a channel", "orders events outside the log; use vows and futures", KindChannel)
		}
		return
	case *types.Func:
		sel, _ := fun.(*ast.SelectorExpr)
		var selection *types.Selection
		if sel != nil {
			selection = info.Selections[sel]
		}
		switch {
		case selection != nil && selection.Kind() == types.MethodExpr && isInterfaceMethod(obj):
			// I.M(x, args…): the method of x's dynamic type.
			if len(call.Args) > 0 {
				w.callSite(&site{pos: funPos(call), recvExpr: call.Args[0], method: obj.Name(), args: call.Args[1:]})
			}
		case selection != nil && selection.Kind() == types.MethodVal && (isInterfaceMethod(obj) || isTypeParam(selection.Recv())):
			w.ifaceCall(call, sel, obj, selection.Recv())
		case selection != nil && selection.Kind() == types.MethodVal:
			w.staticCall(call, obj, selection.Recv())
		default:
			w.staticCall(call, obj, nil)
		}
		return
	}
	if _, ok := fun.(*ast.FuncLit); ok {
		return // its body is walked as part of this function
	}
	w.callSite(&site{pos: funPos(call), fnExpr: fun, args: call.Args})
}

// calleeIdent is the identifier naming what a call calls: f in f(x),
// F[int](x) and pkg.f(x), m in x.m().
func calleeIdent(call *ast.CallExpr) *ast.Ident {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	return identOf(fun)
}

func identOf(e ast.Expr) *ast.Ident {
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		return x
	case *ast.SelectorExpr:
		return x.Sel
	}
	return nil
}

func isInterfaceMethod(fn *types.Func) bool {
	recv := fn.Type().(*types.Signature).Recv()
	return recv != nil && types.IsInterface(recv.Type())
}

func isTypeParam(t types.Type) bool {
	_, ok := types.Unalias(t).(*types.TypeParam)
	return ok
}

// typeArgs returns the type arguments of a call of fn: the receiver's, then
// the function's own.
func (w *walker) typeArgs(id *ast.Ident, recv types.Type) []types.Type {
	out := typeArgsOf(recv)
	if id == nil {
		return out
	}
	if inst, ok := w.p.pass.TypesInfo.Instances[id]; ok && inst.TypeArgs != nil {
		for i := range inst.TypeArgs.Len() {
			out = append(out, inst.TypeArgs.At(i))
		}
	}
	return out
}

// staticCall judges a call whose target is known.
func (w *walker) staticCall(call *ast.CallExpr, fn *types.Func, recv types.Type) {
	p := w.p
	if fn.Pkg() == nil || isMembrane(fn.Pkg().Path()) {
		return // error.Error and the like; the membrane
	}
	origin := fn.Origin()
	if p.c.allowed(origin.FullName()) {
		return
	}
	if why, ok := p.c.cfg.Deny[origin.FullName()]; ok {
		w.problem(funPos(call), p.funcName(origin), why, KindConfig)
		return
	}
	if isStd(fn.Pkg().Path()) {
		if bad, why := stdVerdict(origin); bad {
			s := w.problem(funPos(call), stdName(origin), why, kindOf(origin))
			s.fix = w.fixFor(call, origin.FullName())
			return
		}
		switch origin.FullName() {
		case "maps.Keys", "maps.Values", "maps.All":
			w.mapsIterator(call, origin)
		}
		// The standard library may call back what it is given: judged as a
		// call with the obligations of its parameters.
	}
	w.callSite(&site{pos: funPos(call), callee: origin, targs: w.typeArgs(calleeIdent(call), recv), args: call.Args})
}

// funPos is where a call is reported: at the name of what it calls, so two
// calls in one expression (f().g()) have their own positions.
func funPos(call *ast.CallExpr) token.Pos {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.SelectorExpr:
		return f.Sel.Pos()
	case *ast.IndexExpr:
		if sel, ok := f.X.(*ast.SelectorExpr); ok {
			return sel.Sel.Pos()
		}
	case *ast.IndexListExpr:
		if sel, ok := f.X.(*ast.SelectorExpr); ok {
			return sel.Sel.Pos()
		}
	}
	return call.Pos()
}

// stdName names a standard function as its users write it: rand.IntN for
// math/rand/v2.IntN; methods keep their full name, (*sync.Mutex).Lock.
func stdName(fn *types.Func) string {
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
		return fn.FullName()
	}
	return fn.Pkg().Name() + "." + fn.Name()
}

// ifaceCall judges a call of an interface method (or of a method through a
// type parameter's constraint).
func (w *walker) ifaceCall(call *ast.CallExpr, f *ast.SelectorExpr, fn *types.Func, recvT types.Type) {
	p := w.p
	if _, isTP := types.Unalias(recvT).(*types.TypeParam); !isTP {
		iface := fn.Type().(*types.Signature).Recv().Type()
		if p.isHost(iface) || p.isHost(recvT) || trustedInterface(iface) || wellKnownMethod(fn) {
			return
		}
	}
	w.callSite(&site{pos: f.Sel.Pos(), recvExpr: f.X, method: fn.Name(), args: call.Args})
}

// trustedInterface: interfaces of the standard library (a value of one can
// only have come from code closedcheck judges) and of the flow package.
func trustedInterface(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	if n.Obj().Pkg() == nil {
		return true // error
	}
	path := n.Obj().Pkg().Path()
	return isStd(path) || isMembrane(path)
}

// wellKnownMethod: methods conventionally pure, allowed on any interface.
func wellKnownMethod(fn *types.Func) bool {
	sig := fn.Type().(*types.Signature)
	res := func(s string) bool {
		return sig.Results().Len() == 1 && sig.Results().At(0).Type().String() == s
	}
	switch fn.Name() {
	case "Error", "String", "GoString":
		return sig.Params().Len() == 0 && res("string")
	case "Unwrap":
		return sig.Params().Len() == 0 && (res("error") || res("[]error"))
	case "Is":
		return sig.Params().Len() == 1 && res("bool")
	}
	return false
}

// kindOf is the rule a forbidden standard function or variable breaks.
func kindOf(obj types.Object) Kind {
	path := obj.Pkg().Path()
	switch {
	case path == "time":
		return KindClock
	case strings.HasPrefix(path, "math/rand") || path == "crypto/rand" || path == "hash/maphash":
		return KindRandom
	case path == "sync" || path == "sync/atomic":
		return KindSync
	case path == "context":
		return KindContext
	case path == "log" || path == "log/slog":
		return KindLog
	}
	if fn, ok := obj.(*types.Func); ok && strings.HasPrefix(fn.FullName(), "(reflect.Value).Map") {
		return KindMap
	}
	return KindIO
}
