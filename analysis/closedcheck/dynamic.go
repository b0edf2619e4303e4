package closedcheck

import (
	"go/ast"
	"go/types"
	"slices"
)

// discharge resolves one obligation of a callee at a call site.
func (j *judge) discharge(fn *types.Func, o Obligation, targs []types.Type, args argsInfo, recv *recvInfo, depth int) {
	p := j.p
	if depth > maxDepth {
		j.problem(p.funcName(fn), "calls what it is given through too many hands to resolve: cannot prove closed", KindDynamic)
		return
	}
	switch {
	case o.Iface != "":
		j.unknownIfaceKey(o, depth)
	case o.TypeParam:
		if o.Param >= len(targs) {
			j.problem(p.funcName(fn), "calls methods of a type parameter that cannot be resolved: cannot prove closed", KindDynamic)
			return
		}
		j.methodOnType(targs[o.Param], o.Method, argsInfo{}, depth+1)
	case o.Param == -1:
		j.receiver(fn, o, recv, depth+1)
	case args.through:
		j.fi.oblige(o)
	case !args.known:
		if isStd(fn.Pkg().Path()) {
			return // called by the standard library with its own values, judged where they were made
		}
		j.problem(p.funcName(fn), "is passed as a value, and calls what it is given: cannot prove closed", KindDynamic)
	default:
		sig := fn.Type().(*types.Signature)
		path := o.Path
		var given []ast.Expr
		switch {
		case sig.Variadic() && o.Param == sig.Params().Len()-1:
			if args.ellipsis {
				given = args.exprs[min(o.Param, len(args.exprs)):]
			} else {
				given = args.exprs[min(o.Param, len(args.exprs)):]
				path = trimElem(path)
			}
		case o.Param < len(args.exprs):
			given = []ast.Expr{args.exprs[o.Param]}
		}
		for _, a := range given {
			if a == loopBody {
				continue // the body of a range: walked where it is written
			}
			vals := j.r0().selectPaths(j.values(a), path)
			j.use(vals, o, a, pathType(p.pass.TypesInfo.TypeOf(a), path), depth+1)
		}
	}
}

func (j *judge) r0() *resolver {
	if j.r == nil {
		j.r = j.p.resolver(j.fi)
	}
	return j.r
}

// use: what a callee does with a value it is given (o says what).
func (j *judge) use(vals []value, o Obligation, e ast.Expr, static types.Type, depth int) {
	if o.Method == "" {
		j.callValue(e, vals, argsInfo{}, o.Ordered, depth)
		return
	}
	j.callMethod(vals, o.Method, static, argsInfo{}, depth)
}

// callValue judges a call of a function value, which can hold vals.
func (j *judge) callValue(e ast.Expr, vals []value, args argsInfo, ordered bool, depth int) {
	defer j.p.enter()()
	if depth > maxDepth {
		j.problem("function value", "is passed through too many hands to resolve: cannot prove closed", KindDynamic)
		return
	}
	reported := false
	for _, v := range vals {
		switch v.kind {
		case vFunc:
			var recv *recvInfo
			if v.recv != nil {
				recv = &recvInfo{expr: v.recv, fr: v.fr, static: j.p.pass.TypesInfo.TypeOf(v.recv)}
			}
			if v.mexpr {
				// A method expression: the receiver is the first argument.
				recv = &recvInfo{static: v.typ, resolved: true}
				rest := argsInfo{known: args.known, through: args.through}
				if args.known && len(args.exprs) > 0 {
					recv = &recvInfo{expr: args.exprs[0], static: v.typ}
					rest.exprs, rest.ellipsis = args.exprs[1:], args.ellipsis
				}
				if isInterfaceMethod(v.fn) {
					var vals []value
					if recv.expr != nil {
						vals = recv.values(j)
					}
					j.callMethod(vals, v.fn.Name(), v.typ, rest, depth+1)
					continue
				}
				args = rest
			}
			j.applyCallee(v.fn, v.targs, args, recv, depth)
		case vParam:
			if len(v.path) > maxStorePath {
				j.problem("function value", "is reached through too many fields to resolve: cannot prove closed", KindDynamic)
				continue
			}
			j.fi.oblige(Obligation{Param: v.param, Path: v.path, Ordered: ordered})
		case vForeign:
			j.foreignCall(v, args, depth)
		case vLit:
			if v.fr != nil && v.fr.fi != j.fi {
				// A literal written elsewhere (an initializer's table, a
				// field set by another function): its code runs here.
				for _, r := range j.p.siteReasons(j.fi, v.fr.fi, v.lit, false) {
					j.p.blame(j.fi, r)
					j.s.results = append(j.s.results, result{local: v.fr.fi, lit: v.lit})
				}
				for _, r := range j.p.litReads(j.fi, v.fr.fi, v.lit) {
					j.fi.v.addRead(r)
				}
			}
		case vField:
			j.fieldCall(v, depth)
		case vUnknown:
			if v.why == whyVarChanges {
				continue // the read of the variable is reported where it is
			}
			if !reported {
				subject, what := unknownCallee(j.p, e, v.why)
				if v.missing != "" {
					j.missingProblem(subject, v.why+": cannot prove closed", v.missing)
				} else {
					j.problem(subject, what, KindDynamic)
				}
				reported = true
			}
		}
	}
}

// foreignCall judges a call of a function value held by another package's
// variable, from the variable's fact.
func (j *judge) foreignCall(v value, args argsInfo, depth int) {
	var vf varFact
	j.p.pass.ImportObjectFact(v.v, &vf)
	subject := "package variable " + v.v.Pkg().Name() + "." + v.v.Name() + pathString(v.path)
	for _, c := range vf.Calls {
		if !slices.Equal(c.Path, v.path) {
			continue
		}
		j.foreign(subject, c.Reasons)
		j.foreignObligations(subject, c.Obligations, args, depth)
	}
}

// foreign records the reasons a fact of another package gives against
// subject, and blames the function judged for each.
func (j *judge) foreign(subject string, reasons []*Reason) {
	for _, r := range reasons {
		j.s.results = append(j.s.results, result{foreign: r, subject: subject})
		j.p.blame(j.fi, r)
	}
}

// foreignObligations discharges the obligations a fact of another package
// carries: through the interface it names, or on the arguments of the call.
func (j *judge) foreignObligations(subject string, obs []Obligation, args argsInfo, depth int) {
	for _, o := range obs {
		switch {
		case o.Iface != "":
			j.unknownIfaceKey(o, depth)
		case o.Param >= 0 && !o.TypeParam:
			j.dischargeArgs(subject, o, args, depth)
		}
	}
}

func (j *judge) unknownIfaceKey(o Obligation, depth int) {
	if j.summ {
		j.fi.oblige(o)
		return
	}
	t := j.p.lookupType(o.Iface)
	if t == nil {
		j.problem(o.Iface+"."+o.Method, "is called through an interface closedcheck cannot find: cannot prove closed", KindDynamic)
		return
	}
	j.unknownIface(t, o.Method, argsInfo{}, depth+1)
}

// unknownCallee names a function value that cannot be traced.
func unknownCallee(p *pkgState, e ast.Expr, why string) (string, string) {
	switch why {
	case "is passed through too many hands to resolve":
		return "function value", why + ": cannot prove closed"
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		if v := p.packageVar(x); v != nil {
			return "package variable " + v.Name(), "is a function that can change: cannot prove closed"
		}
		return x.Name, "is a function value whose target cannot be known: cannot prove closed"
	case *ast.SelectorExpr:
		if v := p.packageVar(x.Sel); v != nil {
			return "package variable " + v.Pkg().Name() + "." + v.Name(), "is a function that can change: cannot prove closed"
		}
		return "field " + x.Sel.Name, "holds a function whose target cannot be known: cannot prove closed"
	case *ast.IndexExpr:
		return "function value", "comes from a table whose contents cannot be known: cannot prove closed"
	}
	return "function value", "has a target that cannot be known: cannot prove closed"
}

// callMethod judges a call of method on values (static: the type the
// code calls it on).
func (j *judge) callMethod(vals []value, method string, static types.Type, args argsInfo, depth int) {
	defer j.p.enter()()
	p := j.p
	if depth > maxDepth {
		j.problem(method, "is called through too many hands to resolve: cannot prove closed", KindDynamic)
		return
	}
	if static != nil && isTypeParam(static) {
		j.methodOnType(static, method, args, depth)
		return
	}
	if it := ifaceAt(static); it != nil {
		static = it // a pointer to an interface: the method of what it points to
	}
	if static != nil && !types.IsInterface(static) {
		// The method is known from the type; the values say what it is
		// called on.
		j.methodOnValue(value{kind: vType, typ: static}, method, args, depth, vals)
		return
	}
	if static != nil && types.IsInterface(static) && p.interfaceOK(static, method) {
		return
	}
	fallback := false
	for _, v := range vals {
		switch v.kind {
		case vComposite, vType:
			if v.typ == nil || types.IsInterface(v.typ) {
				fallback = true
				continue
			}
			j.methodOnValue(v, method, args, depth, []value{v})
		case vParam:
			if len(v.path) > maxStorePath {
				fallback = true
				continue
			}
			j.fi.oblige(Obligation{Param: v.param, Path: v.path, Method: method})
		case vCall:
			if !j.resultMethod(v, method, args, depth) {
				fallback = true
			}
		case vField:
			j.fieldMethod(v, method, static, args, depth)
		case vNil:
		default:
			fallback = true
		}
	}
	if fallback || len(vals) == 0 && static != nil && types.IsInterface(static) {
		j.unknownIface(static, method, args, depth)
	}
}

// methodOnValue judges method of a value of a known concrete type; recv
// are the values it is called on, if known.
func (j *judge) methodOnValue(v value, method string, args argsInfo, depth int, recv []value) {
	defer j.p.enter()()
	fn := lookupMethod(v.typ, j.p.pass.Pkg, method)
	if fn == nil {
		// The type has no such method: a value of it cannot be what the
		// call is made on (an assertion to an interface it does not
		// implement, h, ok := t.(helper), fails).
		return
	}
	if isInterfaceMethod(fn) {
		// Promoted from an embedded interface: the method of the value
		// embedded, where the values it is called on are known.
		iface := fn.Type().(*types.Signature).Recv().Type()
		if path := embeddedPath(v.typ, j.p.pass.Pkg, method); path != nil && len(recv) > 0 {
			j.callMethod(j.r0().selectPaths(recv, path), method, iface, args, depth+1)
			return
		}
		j.unknownIface(iface, method, args, depth)
		return
	}
	// A method on a value it is already being judged on (a tree a
	// recursive factory builds): what it adds is found there.
	if len(recv) == 1 && recv[0].comp != nil {
		k := activeKey{fn, recv[0].comp}
		if j.active[k] {
			return
		}
		if j.active == nil {
			j.active = map[activeKey]bool{}
		}
		j.active[k] = true
		defer delete(j.active, k)
	}
	j.applyCallee(fn.Origin(), typeArgsOf(v.typ), args, &recvInfo{vals: recv, static: v.typ, resolved: true}, depth)
}

// resultMethod judges a method of an interface a function of another
// package returned, from its fact; false when the fact cannot say.
func (j *judge) resultMethod(v value, method string, args argsInfo, depth int) bool {
	if v.fn == nil || v.fn.Pkg() == nil || isStd(v.fn.Pkg().Path()) || v.fn.Pkg() == j.p.pass.Pkg {
		return false
	}
	if !j.p.analysed(v.fn.Pkg()) {
		return false // judged through the interface: not analysed
	}
	var ff funcFact
	if !j.p.pass.ImportObjectFact(v.fn, &ff) {
		return true // no fact: what it returns is closed to call
	}
	for _, rm := range ff.Results {
		if rm.Result != v.res {
			continue
		}
		if rm.Unknown {
			return false
		}
		for _, m := range rm.Methods {
			if m.Name != method {
				continue
			}
			subject := j.p.funcName(v.fn) + "(…)." + method
			j.foreign(subject, m.Reasons)
			j.foreignObligations(subject, m.Obligations, args, depth)
		}
		return true
	}
	return true
}

// dischargeArgs discharges an obligation on an argument of a method whose
// signature is only known through a fact.
func (j *judge) dischargeArgs(subject string, o Obligation, args argsInfo, depth int) {
	switch {
	case args.through:
		j.fi.oblige(o)
	case !args.known:
		j.problem(subject, "is passed as a value, and calls what it is given: cannot prove closed", KindDynamic)
	case o.Param < len(args.exprs):
		a := args.exprs[o.Param]
		j.use(j.r0().selectPaths(j.values(a), o.Path), o, a, pathType(j.p.pass.TypesInfo.TypeOf(a), o.Path), depth+1)
	}
}

// receiver discharges an obligation on the receiver of a method: on its
// values where they are known, else through the static type of what the
// path leads to.
func (j *judge) receiver(fn *types.Func, o Obligation, recv *recvInfo, depth int) {
	var static types.Type
	if recv != nil && recv.static != nil {
		static = pathType(recv.static, o.Path)
	} else if r := fn.Type().(*types.Signature).Recv(); r != nil {
		static = pathType(r.Type(), o.Path)
	}
	if recv != nil && len(recv.values(j)) > 0 {
		vals := j.r0().selectPaths(recv.values(j), o.Path)
		if o.Method == "" {
			j.callValue(&ast.SelectorExpr{X: ast.NewIdent("_"), Sel: ast.NewIdent(lastField(o.Path))}, vals, argsInfo{}, o.Ordered, depth)
		} else {
			j.callMethod(vals, o.Method, static, argsInfo{}, depth)
		}
		return
	}
	if o.Method == "" {
		j.problem("field "+lastField(o.Path), "holds a function whose target cannot be known: cannot prove closed", KindDynamic)
		return
	}
	j.callMethod(nil, o.Method, static, argsInfo{}, depth)
}

func lastField(path []string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] != "[]" {
			return path[i]
		}
	}
	return "value"
}

// pathType follows fields and elements from a type.
func pathType(t types.Type, path []string) types.Type {
	for _, step := range path {
		if t = deref(t); t == nil {
			return nil
		}
		if step == "[]" {
			switch u := t.Underlying().(type) {
			case *types.Slice:
				t = u.Elem()
			case *types.Array:
				t = u.Elem()
			case *types.Map:
				t = u.Elem()
			default:
				return nil
			}
			continue
		}
		obj, _, _ := types.LookupFieldOrMethod(t, true, nil, step)
		f, ok := obj.(*types.Var)
		if !ok {
			// An unexported field of another package: look it up by name.
			st, isStruct := t.Underlying().(*types.Struct)
			if !isStruct {
				return nil
			}
			f = nil
			for i := range st.NumFields() {
				if st.Field(i).Name() == step {
					f = st.Field(i)
				}
			}
			if f == nil {
				return nil
			}
		}
		t = f.Type()
	}
	return t
}

// deref follows pointers (a bounded number: type P *P is legal Go).
func deref(t types.Type) types.Type {
	for range 8 {
		if t == nil {
			return nil
		}
		ptr, ok := t.Underlying().(*types.Pointer)
		if !ok {
			break
		}
		t = ptr.Elem()
	}
	return t
}

// ifaceAt is the interface a value of type t holds, or points to (a
// field of type *Doer: (*h.d).Do() calls Doer's Do); nil if none.
func ifaceAt(t types.Type) types.Type {
	t = deref(t)
	if t == nil || !types.IsInterface(t) || isTypeParam(t) {
		return nil
	}
	return t
}

// methodOnType resolves a call of method on a value of type t whose
// contents are not known.
func (j *judge) methodOnType(t types.Type, method string, args argsInfo, depth int) {
	if tp, ok := types.Unalias(t).(*types.TypeParam); ok {
		if idx, ok := j.fi.tparams[tp]; ok {
			j.fi.oblige(Obligation{Param: idx, TypeParam: true, Method: method})
			return
		}
		j.problem(method, "is called on a type parameter that cannot be resolved: cannot prove closed", KindDynamic)
		return
	}
	if types.IsInterface(t) {
		j.unknownIface(t, method, args, depth)
		return
	}
	j.methodOnValue(value{kind: vType, typ: t}, method, args, depth, nil)
}
