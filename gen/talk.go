package gen

import (
	"fmt"
	"go/types"
)

// A flow's signals and statuses: parameters of type flow.Signal[T] and
// flow.Status[T], which are not arguments but mailboxes and publications
// named after them.

// flowParams checks a flow's parameters after the flow.Context: its
// arguments, which cross, and its signals and statuses, which are named by
// their parameters.
func (ps *parser) flowParams(params *types.Tuple, flowName string) ([]*Param, bool) {
	var out []*Param
	ok := true
	methods := map[string]string{} // of the flow's Activation type, by what gives them
	for j := 1; j < params.Len(); j++ {
		v := params.At(j)
		what := fmt.Sprintf("parameter %s of flow %s", nameOr(v.Name(), j), flowName)
		kind, elem := channelKind(v.Type())
		if kind == KindValue {
			p, err := ps.param(v.Name(), v.Type(), what)
			if err != nil {
				ps.errs = append(ps.errs, Problem{Pos: ps.fset.Position(v.Pos()), Msg: err.Error()})
				ok = false
				continue
			}
			out = append(out, p)
			continue
		}
		p := &Param{Name: userName(v.Name()), Type: v.Type(), Kind: kind, Elem: elem}
		ch := "signal"
		if kind == KindStatus {
			ch = "status"
		}
		if p.Name == "" {
			ps.errorf(v.Pos(), "%s: a %s needs a name: the parameter's name is its durable name, which hosts send to or read by", what, ch)
			ok = false
			continue
		}
		if r := ps.refusal(elem, map[types.Type]bool{}); r != nil {
			ps.errorf(v.Pos(), "%s: %s values of %s are not supported: %s", what, ch, ps.typeString(elem), r)
			ok = false
			continue
		}
		names := []string{p.StatusMethod()}
		if kind == KindSignal {
			names = []string{p.SendMethod(), p.SendOnceMethod()}
		}
		for _, m := range names {
			if prev, dup := methods[m]; dup {
				ps.errorf(v.Pos(), "%s: its %s and %s both need the method %s on %s; rename one", what, ch, prev, m, flowName+"Activation")
				ok = false
			}
			methods[m] = ch + " " + p.Name
		}
		out = append(out, p)
	}
	return out, ok
}

// channelKind says whether t is a flow.Signal[T] or flow.Status[T], and
// what T is.
func channelKind(t types.Type) (ParamKind, types.Type) {
	for _, k := range []struct {
		name string
		kind ParamKind
	}{{"Signal", KindSignal}, {"Status", KindStatus}} {
		if isFlowType(t, k.name) {
			return k.kind, types.Unalias(t).(*types.Named).TypeArgs().At(0)
		}
	}
	return KindValue, nil
}
