package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
)

// This file is a small points-to approximation: for an expression, the
// values it can hold — a function, a function literal, a composite literal,
// a value of a known type, a parameter of the function being judged, the
// result of a call — found by following the assignments of locals,
// parameters of callees, fields and elements of composite literals, and
// package variables never written after initialisation.

// valKind is the kind of a value.
type valKind uint8

const (
	vUnknown   valKind = iota // cannot be traced; why says so
	vNil                      // nil, or a field never set
	vFunc                     // a function or method (fn); recv is the method value's receiver
	vLit                      // a function literal: judged where it is written
	vComposite                // a composite literal (typ is its type, a pointer for &T{…})
	vType                     // a value of a known concrete type, contents unknown
	vParam                    // a parameter of the function judged, and a path into it
	vCall                     // result of a call whose code is the callee's
	vForeign                  // what another package's variable holds at path (its fact says)
	vField                    // what the code of typ's package stores at path of a value of typ
)

// value is one value an expression can hold.
type value struct {
	kind    valKind
	fn      *types.Func
	lit     *ast.FuncLit
	comp    *ast.CompositeLit
	typ     types.Type
	param   int
	path    []string
	call    *ast.CallExpr
	res     int    // which result of call
	why     string // for vUnknown
	fr      *frame // where comp, call and recv are written
	recv    ast.Expr
	targs   []types.Type
	v       *types.Var // for vForeign
	mexpr   bool       // for vFunc: a method expression, called with its receiver first (typ)
	missing string     // for vUnknown: the package not analysed that would tell
}

// frame is the function an expression is in, with the arguments it was
// called with when they are known (resolving a callee's return values).
type frame struct {
	fi     *fnInfo
	args   []ast.Expr // nil: the function judged, whose parameters are obligations
	recv   ast.Expr   // the receiver the method was called on
	caller *frame
	depth  int
}

// resolver finds values; it notes the package variables it reads through.
type resolver struct {
	p     *pkgState
	fi    *fnInfo // the function judged
	seen  map[seenKey]bool
	steps int
	cuts  int // searches cut short (a cycle, a bound): what was found is partial
}

type seenKey struct {
	e  ast.Expr
	fi *fnInfo
}

const maxSteps = 400

func (p *pkgState) resolver(fi *fnInfo) *resolver {
	return &resolver{p: p, fi: fi, seen: map[seenKey]bool{}}
}

func unknown(why string) []value { return []value{{kind: vUnknown, why: why}} }

// whyVarChanges: a value read from a package variable written after
// initialisation (the read itself is reported).
const whyVarChanges = "is a package variable that can change"

// values returns what e, written in frame fr, can hold.
func (r *resolver) values(e ast.Expr, fr *frame) []value {
	defer r.p.enter()()
	r.steps++
	if r.steps > maxSteps || fr.depth > maxDepth {
		r.cuts++
		return unknown("is passed through too many hands to resolve")
	}
	k := seenKey{e, fr.fi}
	if r.seen[k] {
		r.cuts++
		return nil // a cycle: what it adds is found elsewhere
	}
	r.seen[k] = true
	defer delete(r.seen, k)
	info := r.p.pass.TypesInfo
	e = ast.Unparen(e)
	switch x := e.(type) {
	case *valueExpr:
		return x.vals
	case *ast.FuncLit:
		return []value{{kind: vLit, lit: x, fr: fr}}
	case *ast.CompositeLit:
		return []value{{kind: vComposite, comp: x, typ: info.TypeOf(x), fr: fr}}
	case *ast.UnaryExpr:
		if x.Op == token.AND {
			vals := r.values(x.X, fr)
			for i := range vals {
				if (vals[i].kind == vComposite || vals[i].kind == vType) && vals[i].typ != nil {
					vals[i].typ = types.NewPointer(vals[i].typ)
				}
			}
			return vals
		}
	case *ast.StarExpr:
		vals := r.values(x.X, fr)
		for i := range vals {
			if ptr, ok := vals[i].typ.(*types.Pointer); ok && (vals[i].kind == vComposite || vals[i].kind == vType) {
				vals[i].typ = ptr.Elem()
			}
		}
		return vals
	case *ast.TypeAssertExpr:
		if x.Type == nil {
			return unknown("cannot be traced") // a type switch's guard
		}
		if t := info.TypeOf(x.Type); t != nil && !types.IsInterface(t) {
			return []value{{kind: vType, typ: t}}
		}
		return r.values(x.X, fr)
	case *ast.Ident:
		return r.ident(x, fr)
	case *ast.SelectorExpr:
		return r.selector(x, fr)
	case *ast.IndexExpr:
		if tv, ok := info.Types[x.X]; ok {
			switch tv.Type.Underlying().(type) {
			case *types.Map, *types.Slice, *types.Array, *types.Pointer:
				return r.selectPath(r.values(x.X, fr), "[]")
			case *types.Signature:
				return r.values(x.X, fr) // an explicit instantiation
			}
		}
	case *ast.IndexListExpr:
		return r.values(x.X, fr)
	case *ast.SliceExpr:
		return r.values(x.X, fr)
	case *ast.CallExpr:
		return r.call(x, fr, -1)
	}
	t := info.TypeOf(e)
	if tup, ok := t.(*types.Tuple); ok && tup.Len() > 0 {
		t = tup.At(0).Type() // v, ok := m[k] and the like
	}
	if t != nil && !types.IsInterface(t) {
		if _, isFunc := t.Underlying().(*types.Signature); !isFunc {
			return []value{{kind: vType, typ: t}}
		}
	}
	return unknown("cannot be traced")
}

func (r *resolver) ident(x *ast.Ident, fr *frame) []value {
	info := r.p.pass.TypesInfo
	if x.Name == "nil" {
		if _, ok := info.Uses[x].(*types.Nil); ok {
			return []value{{kind: vNil}}
		}
	}
	switch obj := info.Uses[x].(type) {
	case *types.Func:
		v := value{kind: vFunc, fn: obj.Origin()}
		if inst, ok := info.Instances[x]; ok {
			v.targs = slices.Collect(inst.TypeArgs.Types())
		}
		return []value{v}
	case *types.Var:
		if obj.Pkg() != nil && obj.Parent() == obj.Pkg().Scope() {
			return r.packageVar(obj, nil)
		}
		return r.localVar(obj, fr, nil)
	}
	return unknown("cannot be traced")
}

// packageVar: the values of a package variable, through its initializer
// and the writes of initialisation, when nothing else writes it.
func (r *resolver) packageVar(v *types.Var, path []string) []value {
	if v.Pkg() != r.p.pass.Pkg {
		if isStd(v.Pkg().Path()) {
			return unknown("is a variable of the standard library")
		}
		var vf varFact
		r.p.pass.ImportObjectFact(v, &vf)
		if !r.p.analysed(v.Pkg()) {
			return []value{{kind: vUnknown, why: "is a variable of " + r.p.unanalysedPkg(v.Pkg()), missing: v.Pkg().Path()}}
		}
		if vf.Written != "" {
			return unknown("is a package variable of " + v.Pkg().Name() + " that can change")
		}
		return []value{{kind: vForeign, v: v, path: slices.Clone(path)}}
	}
	vi := r.p.vars[v]
	if vi == nil || vi.written.IsValid() || vi.initFn == nil && len(vi.initSrcs) == 0 && vi.init == nil {
		if vi != nil && !vi.written.IsValid() && vi.init == nil && len(vi.initWriters) == 0 {
			return []value{{kind: vNil}}
		}
		return unknown(whyVarChanges)
	}
	var out []value
	if vi.init != nil && vi.initFn != nil {
		fr := &frame{fi: vi.initFn, args: []ast.Expr{}}
		out = append(out, r.selectPaths(r.values(vi.init, fr), path)...)
	}
	for _, s := range vi.initSrcs {
		wfr := &frame{fi: s.fi, args: []ast.Expr{}}
		vals := r.values(s.src.expr, wfr)
		switch {
		case hasPrefix(path, s.src.path):
			out = append(out, r.selectPaths(vals, path[len(s.src.path):])...)
		case hasPrefix(s.src.path, path):
			out = append(out, value{kind: vComposite, comp: &ast.CompositeLit{Elts: []ast.Expr{nest(s.src.path[len(path):], s.src.expr)}}, typ: pathType(v.Type(), path), fr: wfr})
		}
	}
	if vi.init == nil && len(vi.initSrcs) == 0 {
		return unknown("is a package variable set during initialisation in a way that cannot be traced")
	}
	return out
}

func (r *resolver) selector(x *ast.SelectorExpr, fr *frame) []value {
	info := r.p.pass.TypesInfo
	sel := info.Selections[x]
	if sel == nil {
		switch obj := info.Uses[x.Sel].(type) {
		case *types.Func:
			return []value{{kind: vFunc, fn: obj.Origin()}}
		case *types.Var:
			return r.packageVar(obj, nil)
		}
		return unknown("cannot be traced")
	}
	switch sel.Kind() {
	case types.FieldVal:
		return r.selectPath(r.values(x.X, fr), x.Sel.Name)
	case types.MethodVal:
		fn := sel.Obj().(*types.Func)
		if isInterfaceMethod(fn) || isTypeParam(sel.Recv()) {
			// A method value of an interface: the method of each dynamic type.
			var out []value
			for _, v := range r.values(x.X, fr) {
				out = append(out, r.method(v, fn.Name(), x.X, fr)...)
			}
			return out
		}
		return []value{{kind: vFunc, fn: fn.Origin(), recv: x.X, fr: fr, targs: typeArgsOf(sel.Recv())}}
	case types.MethodExpr:
		// T.M and I.M: functions whose first argument is the receiver.
		fn := sel.Obj().(*types.Func)
		return []value{{kind: vFunc, fn: fn.Origin(), targs: typeArgsOf(sel.Recv()), mexpr: true, typ: sel.Recv()}}
	}
	return unknown("cannot be traced")
}

// method is the method name of a value's dynamic type, as a function value.
func (r *resolver) method(v value, name string, recv ast.Expr, fr *frame) []value {
	switch v.kind {
	case vComposite, vType:
		if v.typ == nil || types.IsInterface(v.typ) {
			return unknown("cannot be traced")
		}
		if fn := lookupMethod(v.typ, r.p.pass.Pkg, name); fn != nil && !isInterfaceMethod(fn) {
			return []value{{kind: vFunc, fn: fn.Origin(), recv: recv, fr: fr, targs: typeArgsOf(v.typ)}}
		}
		return unknown("cannot be resolved")
	case vNil:
		return []value{v}
	}
	return unknown("is a method of a value whose type cannot be known")
}

// call: the values a call returns (result res; -1 when it has one).
func (r *resolver) call(call *ast.CallExpr, fr *frame, res int) []value {
	defer r.p.enter()()
	r.steps++
	if r.steps > maxSteps || fr.depth > maxDepth {
		r.cuts++
		return unknown("is passed through too many hands to resolve")
	}
	info := r.p.pass.TypesInfo
	fun := ast.Unparen(call.Fun)
	if tv, ok := info.Types[fun]; ok && tv.IsType() {
		// A conversion: the same value, of the new type if it is concrete.
		if len(call.Args) == 1 {
			vals := r.values(call.Args[0], fr)
			if !types.IsInterface(tv.Type) {
				for i := range vals {
					if vals[i].kind == vComposite || vals[i].kind == vType {
						vals[i].typ = tv.Type
					}
				}
				if _, isFunc := tv.Type.Underlying().(*types.Signature); !isFunc {
					return vals
				}
			}
			return vals
		}
	}
	if b, ok := info.Uses[identOf(fun)].(*types.Builtin); ok {
		switch b.Name() {
		case "append":
			var out []value
			if len(call.Args) > 0 {
				out = append(out, r.values(call.Args[0], fr)...)
			}
			var elts []ast.Expr
			if call.Ellipsis.IsValid() {
				out = append(out, r.values(call.Args[len(call.Args)-1], fr)...)
			} else if len(call.Args) > 1 {
				elts = call.Args[1:]
			}
			if len(elts) > 0 {
				out = append(out, value{kind: vComposite, comp: &ast.CompositeLit{Elts: elts}, fr: fr})
			}
			return out
		case "new":
			return []value{{kind: vType, typ: info.TypeOf(call)}}
		}
		return unknown("cannot be traced")
	}
	fn := r.p.staticCallee(call)
	if fn != nil && fn.Pkg() == r.p.pass.Pkg {
		if callee := r.p.funcs[fn]; callee != nil && callee.decl != nil && !callee.trusted {
			cfr := &frame{fi: callee, args: call.Args, caller: fr, depth: fr.depth + 1}
			if sel, ok := fun.(*ast.SelectorExpr); ok && info.Selections[sel] != nil {
				cfr.recv = sel.X
			}
			return r.returns(callee, cfr, res)
		}
	}
	t := info.TypeOf(call)
	if tup, ok := t.(*types.Tuple); ok {
		if res < 0 || res >= tup.Len() {
			return unknown("cannot be traced")
		}
		t = tup.At(res).Type()
	}
	if res < 0 {
		res = 0
	}
	if t != nil && !types.IsInterface(t) {
		if _, isFunc := t.Underlying().(*types.Signature); !isFunc {
			return []value{{kind: vType, typ: t}}
		}
	}
	return []value{{kind: vCall, call: call, res: res, fr: fr, fn: fn}}
}

// returns: the values a function of this package returns as result res,
// over its return statements.
func (r *resolver) returns(fi *fnInfo, fr *frame, res int) []value {
	if res < 0 {
		res = 0
	}
	var out []value
	for _, ret := range fi.returns {
		switch {
		case len(ret.Results) == 0:
			if res < len(fi.resultVars) && fi.resultVars[res] != nil {
				out = append(out, r.localVar(fi.resultVars[res], fr, nil)...)
			}
		case len(ret.Results) == 1 && fi.nresults > 1:
			if call, ok := ast.Unparen(ret.Results[0]).(*ast.CallExpr); ok {
				out = append(out, r.call(call, fr, res)...)
			}
		case res < len(ret.Results):
			out = append(out, r.values(ret.Results[res], fr)...)
		}
	}
	return out
}
