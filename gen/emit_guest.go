package gen

import (
	"strconv"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"
)

// The guest side: code that runs inside a flow. Guest proxies and their async
// companions cross the membrane with flowimpl.Call and flowimpl.Go, which
// panic on arguments that do not encode (see the flowimpl package
// documentation); results that no longer decode end the flow as a replay
// failure.

// proxy emits the guest proxy of h, its Ref function, its <Name>Host
// variable and its methods.
func (em *emitter) proxy(h *HostInterface) {
	f := em.f
	proxy := h.ProxyType()
	em.doc("%s is the guest proxy of %s: each method encodes its arguments, crosses the membrane and decodes its results into fresh values.", proxy, h.Name)
	f.Type().Id(proxy).Struct(jen.Id("ref").Qual(FlowPkg, "Ref"))
	f.Line()
	em.doc("%s returns the %s provided as the named service, for passing to a flow.", h.RefFunc(), h.Name)
	name := em.names.newScope().fresh("name")
	f.Func().Id(h.RefFunc()).Params(jen.Id(name).String()).Id(h.Name).Block(
		jen.Return(jen.Id(proxy).Values(jen.Dict{jen.Id("ref"): jen.Qual(implPkg, "ServiceRef").Call(jen.Id(name))})),
	)
	f.Line()
	em.doc("%s describes %s to generated code, here and in other packages: its durable name, which names its keyed objects' resolver in the log, and its guest proxies.", h.HostVar(), h.Name)
	ref := em.names.newScope().fresh("ref")
	f.Var().Id(h.HostVar()).Op("=").Qual(implPkg, "HostInterface").Types(jen.Id(h.Name)).Values(jen.Dict{
		jen.Id("Name"): jen.Lit(h.Durable),
		jen.Id("Proxy"): jen.Func().Params(jen.Id(ref).Qual(FlowPkg, "Ref")).Id(h.Name).Block(
			jen.Return(jen.Id(proxy).Values(jen.Dict{jen.Id("ref"): jen.Id(ref)})),
		),
	})
	f.Line()
	em.doc("FlowRef implements flowimpl.Referrer: the reference the proxy stands for.")
	recv := em.names.newScope().fresh("p")
	f.Func().Params(jen.Id(recv).Id(proxy)).Id("FlowRef").Params().Qual(FlowPkg, "Ref").Block(jen.Return(jen.Id(recv).Dot("ref")))
	for _, m := range h.Methods {
		em.proxyMethod(m)
	}
}

func (em *emitter) proxyMethod(m *Method) {
	s := em.names.newScope(m.Params)
	s.reserve(m.Ctx)
	names := s.params(m.Params)
	ctx := s.user(m.Ctx, "ctx")
	recv, e, res, err, d := s.fresh("p"), s.fresh("e"), s.fresh("res"), s.fresh("err"), s.fresh("d")
	results := make([]string, len(m.Results))
	for i := range m.Results {
		results[i] = s.fresh("r" + strconv.Itoa(i))
	}
	var sig []jen.Code
	for _, r := range m.Results {
		sig = append(sig, em.typ(r.Type))
	}
	if m.HasError {
		sig = append(sig, jen.Error())
	}
	ret := func(last jen.Code) []jen.Code {
		out := make([]jen.Code, 0, len(results)+1)
		for _, r := range results {
			out = append(out, jen.Id(r))
		}
		if m.HasError {
			out = append(out, last)
		}
		return out
	}

	em.policy(m)
	em.f.Line()
	if m.HasError {
		em.doc("%s calls %s through the membrane. Live, the host runs it and the result is logged; replaying, the logged result is returned and the host is not called. An error the host returned is returned as a *flow.Error.%s", m.Name, m.What(), policyDoc(m))
	} else {
		em.doc("%s calls %s through the membrane. Live, the host runs it and the result is logged; replaying, the logged result is returned and the host is not called. The method has no error result, so an error the host returned panics.%s", m.Name, m.What(), policyDoc(m))
	}
	em.f.Func().Params(jen.Id(recv).Id(m.Host.ProxyType())).Id(m.Name).Params(em.signature(ctx, m.Params, names, m.Variadic)...).Params(sig...).BlockFunc(func(g *jen.Group) {
		for i, r := range m.Results {
			g.Var().Id(results[i]).Add(em.typ(r.Type))
		}
		em.encodeArgs(g, e, m.Params, names, guestSide)
		g.List(jen.Id(res), jen.Id(err)).Op(":=").Add(em.crossing(m, "Call", nil, ctx, recv, e))
		if m.HasError {
			g.If(jen.Id(err).Op("!=").Nil()).Block(jen.Return(ret(jen.Id(err))...))
		} else {
			g.If(jen.Id(err).Op("!=").Nil()).Block(jen.Panic(jen.Id(err)))
		}
		g.Id(d).Op(":=").Qual(codecPkg, "NewDecoder").Call(jen.Id(res))
		g.Qual(implPkg, "Results").Call(jen.Id(ctx), jen.Lit(m.What()), jen.Id(d), jen.Id(res), jen.Lit(len(m.Results)))
		for i, r := range m.Results {
			em.assign(g, d, jen.Id(results[i]), r)
		}
		g.Qual(implPkg, "Decoded").Call(jen.Id(ctx), jen.Lit(m.What()), jen.Id(d), jen.Id(res))
		if r := ret(jen.Nil()); len(r) > 0 {
			g.Return(r...)
		}
	})
}

// futureType is the type a method's Future settles with.
func (em *emitter) futureType(m *Method) *jen.Statement {
	switch len(m.Results) {
	case 0:
		return jen.Struct()
	case 1:
		return em.typ(m.Results[0].Type)
	}
	return jen.Id(m.ResultsType())
}

// async emits the async companion of h.
func (em *emitter) async(h *HostInterface) {
	f := em.f
	async := h.AsyncType()
	f.Line()
	em.doc("%s starts the methods of %s without waiting: each returns a flow.Future of the method's result, for flow.Await, flow.All and flow.Race.", async, h.Name)
	f.Type().Id(async).Struct(jen.Id("ref").Qual(FlowPkg, "Ref"))
	f.Line()
	em.doc("%s returns the async companion of %s %s a flow holds. It panics if the value is not one (a guest proxy).", h.AsyncFunc(), article(h.Name), h.Name)
	v := em.names.newScope().fresh("h")
	f.Func().Id(h.AsyncFunc()).Params(jen.Id(v).Id(h.Name)).Id(async).Block(
		jen.Return(jen.Id(async).Values(jen.Dict{jen.Id("ref"): jen.Qual(implPkg, "ProxyRef").Call(jen.Id(v), em.durable(h))})),
	)
	for _, m := range h.Methods {
		if !m.Async() {
			continue // a host-interface result has no async form
		}
		if len(m.Results) > 1 {
			em.resultsType(m)
		}
		em.asyncMethod(m)
	}
}

func (em *emitter) asyncMethod(m *Method) {
	s := em.names.newScope(m.Params)
	s.reserve(m.Ctx)
	names := s.params(m.Params)
	ctx := s.user(m.Ctx, "ctx")
	recv, e := s.fresh("a"), s.fresh("e")
	ft := em.futureType(m)
	em.f.Line()
	em.doc("%s starts %s without waiting; the Future settles with its result. Live, the call is logged when issued and its result when a flow awaits it.%s", m.Name, m.What(), policyDoc(m))
	em.f.Func().Params(jen.Id(recv).Id(m.Host.AsyncType())).Id(m.Name).Params(em.signature(ctx, m.Params, names, m.Variadic)...).Qual(FlowPkg, "Future").Types(ft).BlockFunc(func(g *jen.Group) {
		em.encodeArgs(g, e, m.Params, names, guestSide)
		g.Return(em.crossing(m, "Go", ft.Clone(), ctx, recv, e))
	})
}

// resultFields names the fields of a results type after the method's
// results: exported, or R0, R1, … where a result is unnamed.
func resultFields(m *Method) []string {
	names := make([]string, len(m.Results))
	used := map[string]bool{}
	for i, r := range m.Results {
		n := "R" + strconv.Itoa(i)
		if r.Name != "" {
			n = strings.ToUpper(r.Name[:1]) + r.Name[1:]
		}
		if used[n] {
			n = "R" + strconv.Itoa(i)
		}
		used[n] = true
		names[i] = n
	}
	return names
}

func (em *emitter) resultsType(m *Method) {
	name := m.ResultsType()
	fields := resultFields(m)
	em.f.Line()
	em.doc("%s holds the results of %s, for its Future.", name, m.What())
	em.f.Type().Id(name).StructFunc(func(g *jen.Group) {
		for i, r := range m.Results {
			g.Id(fields[i]).Add(em.typ(r.Type))
		}
	})
	em.f.Line()
	em.doc("UnmarshalTuple implements flowimpl.TupleUnmarshaler: it reads the result tuple of %s.", m.What())
	s := em.names.newScope()
	t, d, n := s.fresh("t"), s.fresh("d"), s.fresh("n")
	em.f.Func().Params(jen.Id(t).Op("*").Id(name)).Id("UnmarshalTuple").Params(jen.Id(d).Op("*").Qual(codecPkg, "Decoder"), jen.Id(n).Int()).BlockFunc(func(g *jen.Group) {
		g.If(jen.Op("!").Qual(implPkg, "Tuple").Call(jen.Id(d), jen.Lit(m.What()), jen.Id(n), jen.Lit(len(m.Results)))).Block(
			jen.Return(),
		)
		for i, r := range m.Results {
			em.assign(g, d, jen.Id(t).Dot(fields[i]), r)
		}
	})
}

// run emits the function that decodes an activation's stored arguments and
// runs the flow: the FlowDef's Run.
func (em *emitter) run(fl *Flow) {
	s := em.names.newScope(fl.Params)
	names := s.params(fl.Params)
	fc, argv, d, r, err := s.fresh("fc"), s.fresh("args"), s.fresh("d"), s.fresh("r"), s.fresh("err")
	em.f.Line()
	em.doc("%s decodes an activation's stored arguments and runs %s.", fl.RunFunc(), fl.Name)
	em.f.Func().Id(fl.RunFunc()).Params(jen.Id(fc).Qual(FlowPkg, "Context"), jen.Id(argv).Qual(implPkg, "Arguments")).Params(jen.Index().Byte(), jen.Error()).BlockFunc(func(g *jen.Group) {
		// The parameters' names, for a diagnostic naming the one a stored
		// value no longer fits.
		decoderArgs := []jen.Code{jen.Id(fc), jen.Lit(len(fl.Args()))}
		for _, p := range fl.Args() {
			decoderArgs = append(decoderArgs, jen.Lit(p.Name))
		}
		g.Id(d).Op(":=").Id(argv).Dot("Decoder").Call(decoderArgs...)
		for i, p := range fl.Params {
			if p.Arg() {
				em.declare(g, d, names[i], p, guestSide, "")
			}
		}
		g.Id(argv).Dot("Decoded").Call(jen.Id(fc), jen.Id(d))
		for i, p := range fl.Params {
			switch p.Kind {
			case KindSignal:
				g.Id(names[i]).Op(":=").Qual(implPkg, "Signal").Types(em.typ(p.Elem)).Call(jen.Lit(p.Name))
			case KindStatus:
				g.Id(names[i]).Op(":=").Qual(implPkg, "Status").Types(em.typ(p.Elem)).Call(jen.Lit(p.Name))
			}
		}
		call := jen.Id(fl.Name).Call(args(jen.Id(fc), names, fl.Variadic)...)
		marshal := func(v jen.Code) jen.Code { return jen.Qual(codecPkg, "Marshal").Call(v) }
		switch {
		case fl.Result != nil && fl.HasError:
			g.List(jen.Id(r), jen.Id(err)).Op(":=").Add(call)
			g.If(jen.Id(err).Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id(err)))
			g.Return(marshal(jen.Id(r)))
		case fl.Result != nil:
			g.Return(marshal(call))
		case fl.HasError:
			g.If(jen.Id(err).Op(":=").Add(call), jen.Id(err).Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Id(err)))
			g.Return(marshal(jen.Struct().Values()))
		default:
			g.Add(call)
			g.Return(marshal(jen.Struct().Values()))
		}
	})
}

// child emits the function that starts the flow as a child of a running
// flow.
func (em *emitter) child(fl *Flow) {
	em.inFlow(fl, fl.ChildFunc(), jen.Qual(FlowPkg, "Vow").Types(em.result(fl)), jen.Qual(implPkg, "StartChild").Types(em.result(fl)),
		"%s starts an activation of %s as a child of the running flow and returns its outcome, for flow.Await. The child is an activation of its own, with its own log and an id derived from the parent's; a replay of the parent does not start it again. Calling %s directly instead runs it inline, in the caller's log. Arguments that do not encode are a mistake in the flow: %s panics.", fl.ChildFunc(), fl.Name, fl.Name, fl.ChildFunc())
}

// result is the type of a flow's outcome.
func (em *emitter) result(fl *Flow) *jen.Statement {
	if fl.Result != nil {
		return em.typ(fl.Result.Type)
	}
	return jen.Struct()
}

// crossing is the flowimpl call a proxy method crosses with: fn (Call or
// Go, with the type argument typ for Go), or its …With form for a method
// with a declared policy.
func (em *emitter) crossing(m *Method, fn string, typ jen.Code, ctx, recv, e string) *jen.Statement {
	args := []jen.Code{jen.Id(ctx), jen.Id(recv).Dot("ref"), jen.Lit(m.Name), jen.Op("&").Id(e)}
	if m.Policy != nil {
		fn += "With"
		args = append(args, jen.Id(m.PolicyVar()))
	}
	call := jen.Qual(implPkg, fn)
	if typ != nil {
		call = call.Types(typ)
	}
	return call.Call(args...)
}

// policy emits the variable holding a method's declared policy, once: for
// the proxy method, which comes first, and its async companion.
func (em *emitter) policy(m *Method) {
	p := m.Policy
	if p == nil {
		return
	}
	fields := jen.Dict{}
	if p.Attempts > 1 {
		fields[jen.Id("Attempts")] = jen.Lit(p.Attempts)
	}
	if p.Backoff > 0 {
		fields[jen.Id("Backoff")] = em.duration(p.Backoff)
	}
	if p.MaxBackoff > 0 {
		fields[jen.Id("MaxBackoff")] = em.duration(p.MaxBackoff)
	}
	if p.Multiplier > 0 {
		fields[jen.Id("Multiplier")] = jen.Lit(p.Multiplier)
	}
	if len(p.Retryable) > 0 {
		codes := make([]jen.Code, len(p.Retryable))
		for i, c := range p.Retryable {
			codes[i] = jen.Lit(c)
		}
		fields[jen.Id("Retryable")] = jen.Index().String().Values(codes...)
	}
	if p.Timeout > 0 {
		fields[jen.Id("Timeout")] = em.duration(p.Timeout)
	}
	em.f.Line()
	em.doc("%s is the retry policy and attempt timeout declared for %s; flow.WithRetry replaces it for a call.", m.PolicyVar(), m.What())
	em.f.Var().Id(m.PolicyVar()).Op("=").Qual(implPkg, "NewPolicy").Call(jen.Qual(implPkg, "Policy").Values(fields))
}

// policyDoc is what a proxy method's doc says of its policy.
func policyDoc(m *Method) string {
	p := m.Policy
	if p == nil {
		return ""
	}
	var parts []string
	if p.Attempts > 1 {
		parts = append(parts, "a failed attempt is made again, up to "+strconv.Itoa(p.Attempts)+" attempts, as "+m.PolicyVar()+" says")
	}
	if p.Timeout > 0 {
		parts = append(parts, "each attempt may take "+p.Timeout.String())
	}
	return " Under its declared policy, " + strings.Join(parts, ", and ") + "."
}

// duration renders a duration in the largest unit that divides it:
// 30 * time.Second, 1500 * time.Millisecond.
func (em *emitter) duration(d time.Duration) *jen.Statement {
	units := []struct {
		name string
		d    time.Duration
	}{{"Hour", time.Hour}, {"Minute", time.Minute}, {"Second", time.Second}, {"Millisecond", time.Millisecond}, {"Microsecond", time.Microsecond}}
	for _, u := range units {
		if d%u.d == 0 {
			if d == u.d {
				return jen.Qual("time", u.name)
			}
			return jen.Lit(int(d/u.d)).Op("*").Qual("time", u.name)
		}
	}
	return jen.Qual("time", "Duration").Call(jen.Lit(int64(d)))
}

// continueAsNew emits the function a flow returns the result of to continue
// as a fresh run of itself.
func (em *emitter) continueAsNew(fl *Flow) {
	em.inFlow(fl, fl.ContinueFunc(), jen.Error(), jen.Qual(implPkg, "ContinueAsNew"),
		"%s ends the current run of an activation of %s and carries it on as a fresh run, with these arguments: return the error it returns, from %s. The activation keeps its id, start key and outcome; its log starts again, empty, so a flow that loops forever keeps its log short. Calls the run issued and never awaited are made before it ends; vows passed as arguments carry over.", fl.ContinueFunc(), fl.Name, fl.Name)
}

// inFlow emits a function called name that a running flow calls with a
// flow.Context and the flow's arguments (signals and statuses are the
// activation's, not arguments): it encodes them and returns what impl, a
// flowimpl function, answers for the flow's durable name and them.
func (em *emitter) inFlow(fl *Flow, name string, result, impl *jen.Statement, doc string, args ...any) {
	ps := fl.Args()
	s := em.names.newScope(ps)
	names := s.params(ps)
	fc, e := s.fresh("fc"), s.fresh("e")
	sig := em.signature(fc, ps, names, fl.Variadic)
	sig[0] = jen.Id(fc).Qual(FlowPkg, "Context")
	em.f.Line()
	em.doc(doc, args...)
	em.f.Func().Id(name).Params(sig...).Add(result).BlockFunc(func(g *jen.Group) {
		em.encodeArgs(g, e, ps, names, guestSide)
		g.Return(impl.Call(jen.Id(fc), jen.Lit(fl.Durable), jen.Op("&").Id(e)))
	})
}
