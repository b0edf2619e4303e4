package gen

import (
	"strconv"

	"github.com/dave/jennifer/jen"
)

// The host side: code the host program calls (Provide…, Register…, Start)
// and the dispatchers the runtime calls hosts through. Errors here are
// returned, never panicked: a value that does not encode is an error of the
// host's call.

// provide emits the Provide functions of h.
func (em *emitter) provide(h *HostInterface) {
	f := em.f
	f.Line()
	em.doc("%s offers impl as the named %s service. Provide it in every incarnation, before the runtime starts.", h.ProvideFunc(), h.Name)
	s := em.names.newScope()
	r, name, impl := s.fresh("r"), s.fresh("name"), s.fresh("impl")
	f.Func().Id(h.ProvideFunc()).Params(jen.Id(r).Qual(implPkg, "Registry"), jen.Id(name).String(), jen.Id(impl).Id(h.Name)).Block(
		jen.Id(r).Dot("ProvideService").Call(jen.Id(name), jen.Id(impl), jen.Id(h.DispatchFunc())),
	)
	f.Line()
	em.doc("%s registers how keyed %s objects (host objects with a FlowKey method) are found again, in this and every later incarnation.", h.ResolverFunc(), h.Name)
	s = em.names.newScope()
	r, resolve, ctx, key := s.fresh("r"), s.fresh("resolve"), s.fresh("ctx"), s.fresh("key")
	ctxKey := func() []jen.Code {
		return []jen.Code{jen.Id(ctx).Qual(contextPkg, "Context"), jen.Id(key).String()}
	}
	f.Func().Id(h.ResolverFunc()).Params(
		jen.Id(r).Qual(implPkg, "Registry"),
		jen.Id(resolve).Func().Params(ctxKey()...).Params(jen.Id(h.Name), jen.Error()),
	).Block(
		jen.Id(r).Dot("ProvideResolver").Call(em.durable(h), jen.Func().Params(ctxKey()...).Params(jen.Any(), jen.Error()).Block(
			jen.Return(jen.Id(resolve).Call(jen.Id(ctx), jen.Id(key))),
		), jen.Id(h.DispatchFunc())),
	)
}

// dispatcher emits the function the runtime calls h's methods through.
func (em *emitter) dispatcher(h *HostInterface) {
	var users [][]*Param
	for _, m := range h.Methods {
		users = append(users, m.Params)
	}
	s := em.names.newScope(users...)
	ctx, obj, method, argv := s.fresh("ctx"), s.fresh("obj"), s.fresh("method"), s.fresh("args")
	em.f.Line()
	em.doc("%s calls the method of %s %s a flow called, with the arguments it encoded, and encodes the results.", h.DispatchFunc(), article(h.Name), h.Name)
	em.f.Func().Id(h.DispatchFunc()).Params(
		jen.Id(ctx).Qual(contextPkg, "Context"), jen.Id(obj).Any(), jen.Id(method).String(), jen.Id(argv).Index().Byte(),
	).Params(jen.Index().Byte(), jen.Error()).BlockFunc(func(g *jen.Group) {
		unknown := jen.Return(jen.Nil(), jen.Qual(implPkg, "UnknownMethod").Call(jen.Lit(h.Name), jen.Id(method)))
		if len(h.Methods) == 0 {
			g.Add(unknown)
			return
		}
		impl, ok := s.fresh("impl"), s.fresh("ok")
		g.List(jen.Id(impl), jen.Id(ok)).Op(":=").Id(obj).Assert(jen.Id(h.Name))
		g.If(jen.Op("!").Id(ok)).Block(
			jen.Return(jen.Nil(), jen.Qual(implPkg, "NotImplemented").Call(jen.Id(obj), jen.Lit(h.Name))),
		)
		g.Switch(jen.Id(method)).BlockFunc(func(sw *jen.Group) {
			for _, m := range h.Methods {
				sw.Case(jen.Lit(m.Name)).BlockFunc(func(c *jen.Group) {
					em.dispatchCase(c, s.child(), m, ctx, argv, impl)
				})
			}
		})
		g.Add(unknown)
	})
}

// dispatchCase decodes the arguments of m, calls it on impl and encodes its
// results.
func (em *emitter) dispatchCase(c *jen.Group, s *scope, m *Method, ctx, argv, impl string) {
	d := s.fresh("d")
	names := s.params(m.Params)
	c.Id(d).Op(":=").Qual(codecPkg, "NewDecoder").Call(jen.Id(argv))
	c.Qual(implPkg, "HostArguments").Call(jen.Id(d), jen.Lit(len(m.Params)))
	for i, p := range m.Params {
		em.declare(c, d, names[i], p, hostSide, ctx)
	}
	err := s.fresh("err")
	c.If(jen.Id(err).Op(":=").Qual(implPkg, "HostDecoded").Call(jen.Lit(m.What()), jen.Id(d)), jen.Id(err).Op("!=").Nil()).Block(
		jen.Return(jen.Nil(), jen.Id(err)),
	)
	var lhs []jen.Code
	results := make([]string, len(m.Results))
	for i := range m.Results {
		results[i] = s.fresh("r" + strconv.Itoa(i))
		lhs = append(lhs, jen.Id(results[i]))
	}
	if m.HasError {
		lhs = append(lhs, jen.Id(err))
	}
	call := jen.Id(impl).Dot(m.Name).Call(args(jen.Id(ctx), names, m.Variadic)...)
	if len(lhs) > 0 {
		c.List(lhs...).Op(":=").Add(call)
	} else {
		c.Add(call)
	}
	if m.HasError {
		c.If(jen.Id(err).Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id(err)))
	}
	e := s.fresh("e")
	c.Var().Id(e).Qual(codecPkg, "Encoder")
	c.Id(e).Dot("PutList").Call(jen.Lit(len(m.Results)))
	for i, r := range m.Results {
		em.put(c, e, r, jen.Id(results[i]), hostSide, ctx, "")
	}
	c.Return(jen.Id(e).Dot("Bytes").Call(), jen.Id(e).Dot("Err").Call())
}

// handle emits a flow's handle, its Register function and Start methods.
func (em *emitter) handle(fl *Flow) {
	f := em.f
	handle := fl.HandleType()
	result := em.result(fl)
	vow := func() *jen.Statement { return jen.Qual(FlowPkg, "Vow").Types(result.Clone()) }
	ps := fl.Args()

	f.Line()
	em.doc("%s starts activations of the flow %s (durable name %q).", handle, fl.Name, fl.Durable)
	f.Type().Id(handle).Struct(jen.Id("f").Qual(implPkg, "Flow"))
	f.Line()
	em.doc("%s registers the flow %s. Register it in every incarnation, before the runtime starts, so its activations are revived.", fl.RegisterFunc(), fl.Name)
	r := em.names.newScope().fresh("r")
	f.Func().Id(fl.RegisterFunc()).Params(jen.Id(r).Qual(implPkg, "Registry")).Id(handle).Block(
		jen.Return(jen.Id(handle).Values(jen.Dict{jen.Id("f"): jen.Qual(implPkg, "Register").Call(jen.Id(r), jen.Lit(fl.Durable), jen.Id(fl.RunFunc()))})),
	)

	s := em.names.newScope(ps)
	names := s.params(ps)
	recv, ctx := s.fresh("h"), s.fresh("ctx")
	f.Line()
	em.doc("Start starts an activation of %s and returns its outcome. Pass host interfaces as their Ref (a provided service) or as keyed host objects.", fl.Name)
	f.Func().Params(jen.Id(recv).Id(handle)).Id("Start").Params(em.signature(ctx, ps, names, fl.Variadic)...).Params(vow(), jen.Error()).Block(
		jen.Return(jen.Id(recv).Dot("StartWithID").Call(append([]jen.Code{jen.Id(ctx), jen.Lit("")}, args(jen.Null(), names, fl.Variadic)[1:]...)...)),
	)

	s = em.names.newScope(ps)
	names = s.params(ps)
	recv, ctx = s.fresh("h"), s.fresh("ctx")
	id, e := s.fresh("id"), s.fresh("e")
	sig := em.signature(ctx, ps, names, fl.Variadic)
	sig = append([]jen.Code{sig[0], jen.Id(id).String()}, sig[1:]...)
	f.Line()
	em.doc("StartWithID starts at most one activation of %s per id: calling it again with the same id and arguments returns the same outcome. Arguments that do not encode are an error, and start nothing.", fl.Name)
	f.Func().Params(jen.Id(recv).Id(handle)).Id("StartWithID").Params(sig...).Params(vow(), jen.Error()).BlockFunc(func(g *jen.Group) {
		em.encodeArgs(g, e, ps, names, startSide)
		g.Return(jen.Qual(implPkg, "Start").Types(result.Clone()).Call(jen.Id(ctx), jen.Id(recv).Dot("f"), jen.Id(id), jen.Op("&").Id(e)))
	})
	if fl.Talks() {
		em.activation(fl)
	}
}

// activation emits the type that names one activation of a flow with
// signals or statuses, the handle's ByID and ByKey, and a method for each
// signal and status.
func (em *emitter) activation(fl *Flow) {
	f := em.f
	handle, act := fl.HandleType(), fl.ActivationType()
	f.Line()
	em.doc("%s is one activation of %s, named by its id or its start key: send it the messages it accepts and read what it publishes. Naming one checks nothing; each call does.", act, fl.Name)
	f.Type().Id(act).Struct(jen.Id("f").Qual(implPkg, "Flow"), jen.Id("to").Qual(implPkg, "Recipient"))

	s := em.names.newScope()
	recv, id := s.fresh("h"), s.fresh("id")
	f.Line()
	em.doc("ByID names the activation of %s with the given id.", fl.Name)
	f.Func().Params(jen.Id(recv).Id(handle)).Id("ByID").Params(jen.Id(id).Qual(FlowPkg, "ActivationID")).Id(act).Block(
		jen.Return(jen.Id(act).Values(jen.Dict{jen.Id("f"): jen.Id(recv).Dot("f"), jen.Id("to"): jen.Qual(implPkg, "Recipient").Values(jen.Dict{jen.Id("ID"): jen.Id(id)})})),
	)
	s = em.names.newScope()
	recv, key := s.fresh("h"), s.fresh("key")
	f.Line()
	em.doc("ByKey names the activation of %s started with StartWithID and this id.", fl.Name)
	f.Func().Params(jen.Id(recv).Id(handle)).Id("ByKey").Params(jen.Id(key).String()).Id(act).Block(
		jen.Return(jen.Id(act).Values(jen.Dict{jen.Id("f"): jen.Id(recv).Dot("f"), jen.Id("to"): jen.Qual(implPkg, "Recipient").Values(jen.Dict{jen.Id("Key"): jen.Id(key)})})),
	)

	for _, p := range fl.Signals() {
		s := em.names.newScope()
		a, ctx, key, v := s.fresh("a"), s.fresh("ctx"), s.fresh("key"), s.fresh("v")
		send := func(k jen.Code) jen.Code {
			return jen.Return(jen.Qual(implPkg, "Send").Types(em.typ(p.Elem)).Call(jen.Id(ctx), jen.Id(a).Dot("f"), jen.Id(a).Dot("to"), jen.Lit(p.Name), k, jen.Id(v)))
		}
		f.Line()
		em.doc("%s sends the activation a message for its signal %s (a flow.Signal[%s]). It is durable when %s returns, and delivered after every message sent before it, once. An activation that has finished refuses it with runtime.ErrFinished.", p.SendMethod(), p.Name, typeIn(p.Elem, em.m.Types), p.SendMethod())
		f.Func().Params(jen.Id(a).Id(act)).Id(p.SendMethod()).Params(jen.Id(ctx).Qual(contextPkg, "Context"), jen.Id(v).Add(em.typ(p.Elem))).Error().Block(send(jen.Lit("")))
		f.Line()
		em.doc("%s is %s with an idempotency key: however often it is called with one key, the activation takes one message, so a retried send or a webhook delivered twice is taken once.", p.SendOnceMethod(), p.SendMethod())
		f.Func().Params(jen.Id(a).Id(act)).Id(p.SendOnceMethod()).Params(jen.Id(ctx).Qual(contextPkg, "Context"), jen.Id(key).String(), jen.Id(v).Add(em.typ(p.Elem))).Error().Block(send(jen.Id(key)))
	}
	for _, p := range fl.Statuses() {
		s := em.names.newScope()
		a, ctx := s.fresh("a"), s.fresh("ctx")
		f.Line()
		em.doc("%s returns what the activation last published with its status %s, and false if it has published nothing yet. It reads the store: no flow code runs and nothing is woken, and it works after the activation has finished.", p.StatusMethod(), p.Name)
		f.Func().Params(jen.Id(a).Id(act)).Id(p.StatusMethod()).Params(jen.Id(ctx).Qual(contextPkg, "Context")).Params(em.typ(p.Elem), jen.Bool(), jen.Error()).Block(
			jen.Return(jen.Qual(implPkg, "ReadStatus").Types(em.typ(p.Elem)).Call(jen.Id(ctx), jen.Id(a).Dot("f"), jen.Id(a).Dot("to"), jen.Lit(p.Name))),
		)
	}
}
