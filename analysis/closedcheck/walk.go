package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

type varLine struct {
	v    *types.Var
	line int
}

// walker finds the sites of one function.
type walker struct {
	p       *pkgState
	fi      *fnInfo
	stack   []ast.Node
	seenVar map[varLine]bool
}

// initializing reports whether the walk is of package initialisation: an
// initializer, an init function, or a function only init calls, outside
// the function literals it does not call where they are written (a handler
// stored in a table runs when it is called). Its use of the package's
// variables is initialisation, not state.
func (w *walker) initializing() bool {
	if w.fi.decl != nil && !(w.fi.decl.Recv == nil && w.fi.decl.Name.Name == "init") && !w.p.initOnly[w.fi.obj] {
		return false
	}
	for _, n := range w.stack {
		if lit, ok := n.(*ast.FuncLit); ok && !w.fi.invoked[lit] {
			return false
		}
	}
	return true
}

func (w *walker) problem(pos token.Pos, what, why string, kind Kind) *site {
	if w.p.suppressed(pos) {
		return &site{}
	}
	s := &site{pos: pos, what: what, why: why, kind: kind, lit: w.innermostLit()}
	w.fi.sites = append(w.fi.sites, s)
	return s
}

// innermostLit is the function literal being walked, if any.
func (w *walker) innermostLit() *ast.FuncLit {
	for i := len(w.stack) - 1; i >= 0; i-- {
		if lit, ok := w.stack[i].(*ast.FuncLit); ok {
			return lit
		}
	}
	return nil
}

func (w *walker) callSite(s *site) *site {
	if w.p.suppressed(s.pos) {
		return s
	}
	s.call = true
	s.lit = w.innermostLit()
	w.fi.sites = append(w.fi.sites, s)
	return s
}

func (w *walker) parent(up int) ast.Node {
	if i := len(w.stack) - 1 - up; i >= 0 {
		return w.stack[i]
	}
	return nil
}

func (w *walker) walk(body ast.Node) {
	outer := w.stack
	ast.PreorderStack(body, outer, func(n ast.Node, stack []ast.Node) bool {
		w.stack = stack
		w.visit(n)
		return true
	})
	w.stack = outer
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
	write := w.fi.lvalues[id]
	path := v.Pkg().Path()
	switch {
	case isStd(path):
		if bad, why := stdVarVerdict(v); bad {
			w.problem(id.Pos(), v.Pkg().Name()+"."+v.Name(), why, kindOf(v))
		}
	case isMembrane(path):
	case v.Pkg() != p.pass.Pkg:
		w.foreignVar(id, v, write)
	default:
		vi := p.vars[v]
		if vi == nil || w.initializing() {
			return
		}
		switch {
		case write || vi.written == id.Pos():
			w.problem(id.Pos(), "package variable "+v.Name(), "writes package state, which replay does not restore", KindVar)
			return
		case vi.written.IsValid() && v.Exported():
			w.problem(id.Pos(), "package variable "+v.Name(),
				"reads an exported variable other packages can change: cannot prove closed (it is written at "+p.position(vi.written)+"); pass the value in, or make it a constant", KindVar)
			return
		case vi.written.IsValid():
			w.problem(id.Pos(), "package variable "+v.Name(),
				"reads package state that is written at "+p.position(vi.written)+"; pass the value in, or make it a constant", KindVar)
			return
		}
		if vi.initFn != nil || len(vi.initWriters) > 0 {
			// Judged once verdicts are known: see initTaint.
			w.callSite(&site{pos: id.Pos(), initOf: v})
		}
		if !vi.sentinel && (v.Exported() || vi.escapes || p.root) {
			w.callSite(&site{pos: id.Pos(), read: varKey(v)})
		}
	}
}

// foreignVar judges a use of another package's variable: written by its
// package, an error sentinel, or one nothing there writes — then only the
// whole program can say, and the read is noted for it.
func (w *walker) foreignVar(id *ast.Ident, v *types.Var, write bool) {
	name := "package variable " + v.Pkg().Name() + "." + v.Name()
	if write {
		w.problem(id.Pos(), name, "writes a variable other packages can change: cannot prove closed; pass the value in as an argument", KindVar)
		return
	}
	var vf varFact
	switch {
	case w.p.pass.ImportObjectFact(v, &vf) && vf.Sentinel:
	case vf.Written != "":
		w.problem(id.Pos(), name, "reads a variable other packages can change: cannot prove closed ("+v.Pkg().Name()+" writes it at "+vf.Written+"); pass the value in as an argument", KindVar)
	case !w.p.analysed(v.Pkg()):
		s := w.problem(id.Pos(), name, "is a variable of "+w.p.unanalysedPkg(v.Pkg())+": cannot prove closed", KindUnanalysed)
		s.missing = v.Pkg().Path()
	default:
		w.callSite(&site{pos: id.Pos(), read: varKey(v)})
	}
}

// aliasWrite reports a write of a package variable made through a local
// that refers to it, or by a call of a function that writes what it is
// given.
func (w *walker) aliasWrite(vw varWrite) {
	v := vw.v
	if isStd(v.Pkg().Path()) {
		return
	}
	if v.Pkg() != w.p.pass.Pkg {
		w.problem(vw.pos, "package variable "+v.Pkg().Name()+"."+v.Name(), "is written "+vw.how+": it is a variable other packages can change; pass the value in as an argument", KindVar)
		return
	}
	w.problem(vw.pos, "package variable "+v.Name(), "is written "+vw.how+": it is package state, which replay does not restore", KindVar)
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
				w.callSite(&site{pos: funPos(call), recvExpr: call.Args[0], recvType: selection.Recv(), method: obj.Name(), args: call.Args[1:], ellipsis: call.Ellipsis.IsValid()})
			}
		case selection != nil && selection.Kind() == types.MethodVal && (isInterfaceMethod(obj) || isTypeParam(selection.Recv())):
			w.ifaceCall(call, sel, obj, selection.Recv())
		case selection != nil && selection.Kind() == types.MethodVal:
			w.staticCall(call, obj, selection.Recv(), sel.X)
		default:
			w.staticCall(call, obj, nil, nil)
		}
		return
	}
	if lit, ok := fun.(*ast.FuncLit); ok {
		if w.fi.invoked == nil {
			w.fi.invoked = map[*ast.FuncLit]bool{}
		}
		w.fi.invoked[lit] = true
		return // its body is walked as part of this function
	}
	if w.yieldCall(fun) {
		return
	}
	w.callSite(&site{pos: funPos(call), fnExpr: fun, args: call.Args, ellipsis: call.Ellipsis.IsValid()})
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
	if inst, ok := w.p.pass.TypesInfo.Instances[id]; ok {
		out = slices.AppendSeq(out, inst.TypeArgs.Types())
	}
	return out
}

func typeArgsOf(t types.Type) []types.Type {
	if t == nil {
		return nil
	}
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return nil
	}
	return slices.Collect(n.TypeArgs().Types())
}

// staticCall judges a call whose target is known.
func (w *walker) staticCall(call *ast.CallExpr, fn *types.Func, recv types.Type, recvExpr ast.Expr) {
	p := w.p
	if fn.Pkg() == nil || isMembrane(fn.Pkg().Path()) {
		return // error.Error and the like; the membrane
	}
	origin := fn.Origin()
	if allowed, why := p.configured(origin); allowed {
		return
	} else if why != "" {
		w.problem(funPos(call), p.funcName(origin), why, KindConfig)
		return
	}
	if isStd(fn.Pkg().Path()) {
		full := p.full(origin)
		if bad, why := stdVerdictOf(origin, full); bad {
			s := w.problem(funPos(call), stdName(origin), why, kindOf(origin))
			s.fix = w.fixFor(call, full)
			return
		}
		w.stdChecks(call, origin, full)
		// The standard library may call back what it is given: judged as a
		// call with the obligations of its parameters. A function given
		// nothing it can call (strings.Split) is closed: no site.
		if len(p.stdObligations(origin, full)) == 0 && !returnsIterator(origin) {
			return
		}
	}
	s := &site{pos: funPos(call), callee: origin, targs: w.typeArgs(calleeIdent(call), recv), args: call.Args, recvExpr: recvExpr, ellipsis: call.Ellipsis.IsValid()}
	if returnsIterator(origin) {
		w.consumerOf(call, s)
	}
	w.callSite(s)
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
	if !isTypeParam(recvT) {
		iface := fn.Type().(*types.Signature).Recv().Type()
		if p.isHost(iface) || p.isHost(recvT) || trustedInterface(iface) || wellKnownMethod(fn) {
			return
		}
	}
	w.callSite(&site{pos: f.Sel.Pos(), recvExpr: f.X, recvType: recvT, method: fn.Name(), args: call.Args, ellipsis: call.Ellipsis.IsValid()})
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
