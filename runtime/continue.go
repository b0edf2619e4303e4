package runtime

import (
	"errors"
	"maps"
	"slices"
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Continue-as-new: a flow that returns a flowimpl.Continuation (the error
// of a generated Continue…AsNew) ends its run like a flow that returns —
// the replay must have used up the log, and the calls it issued are made —
// and the activation carries on as a fresh run of the flow with the
// continuation's arguments: in one transaction the arguments are replaced,
// the run counted on, and the log and waits deleted (store.Continue). The
// id, start key and outcome vow stay. A process that dies before that
// transaction commits replays the old run, which continues again.

// continuation reports whether the flow's error continues it as new, and
// with what arguments. A continuation of another flow fails the run: a flow
// continues as itself.
func (a *activation) continuation(m *membrane.Membrane, err error) ([]byte, bool) {
	var c *flowimpl.Continuation
	if !errors.As(err, &c) {
		return nil, false
	}
	if c.Flow() != a.fd.name {
		m.Fail(&diag.Diagnostic{Problem: diag.Illegal, Step: -1, Got: "continue as new as " + c.Flow(),
			Detail: "flow " + a.fd.name + " returned the continuation of flow " + c.Flow() + "; a flow continues as new as itself: return what Continue" + "…AsNew of " + a.fd.name + " returns"})
	}
	if verr := codec.Valid(c.Args()); verr != nil {
		m.Fail(&diag.Diagnostic{Problem: diag.Illegal, Step: -1, Got: "continue as new", Detail: "the arguments do not decode: " + verr.Error()})
	}
	return c.Args(), true
}

// continueAsNew ends the run and makes the next one durable; the run's
// goroutine then leaves, and nextRun starts the next. Receivers the run
// made and never read go: messages still to come reach the next run's.
// One that took a message already would lose it, so the continuation is
// refused and the activation fails, saying which.
func (a *activation) continueAsNew(m *membrane.Membrane, args []byte) {
	rt := a.rt
	unread := m.Unread()
	names := slices.Sorted(maps.Keys(unread))
	op := &store.Continue{Act: a.id, Args: args, Gen: rt.gen, At: rt.clock.Now()}
	for _, n := range names {
		op.Receivers = append(op.Receivers, unread[n])
	}
	w := a.submit(op) // in order after the run's appends, through the activation's queue
	if w == nil {
		return // stopped: the next incarnation replays the run, which continues again
	}
	if err := w.Wait(); err != nil {
		a.failRefused("continuation", err)
		return
	}
	if op.Unread >= 0 {
		m.Fail(&diag.Diagnostic{Problem: diag.Illegal, Step: -1, Got: "continue as new",
			Detail: "a message of signal " + strconv.Quote(names[op.Unread]) + " arrived for this run, which never read it: the next run would not see it; read it (flow.Await of Next) before continuing as new"})
	}
	if !op.Continued {
		return // terminated meanwhile
	}
	a.runNo, a.args, a.continued = op.Run, args, true
	a.decided, a.searched = nil, false
}

// nextRun starts the run an activation continued as new with, when the last
// run's goroutine leaves. It reports false if there is none, or the
// activation is stopped.
func (a *activation) nextRun() bool {
	if !a.continued {
		return false
	}
	a.continued = false
	return a.rerun(membrane.New(membrane.Config{Activation: a.id, Flow: a.fd.name, Run: a.runNo, Host: a}))
}

// rerun starts a run of the activation on m, which takes over from the run
// whose goroutine is leaving, on the activation's arguments. It reports
// false, and starts nothing, if the activation is stopped.
func (a *activation) rerun(m *membrane.Membrane) bool {
	a.rt.mu.Lock()
	a.mu.Lock()
	dead := a.dead
	if !dead {
		a.m = m
	}
	a.mu.Unlock()
	a.rt.mu.Unlock()
	if dead {
		return false
	}
	go a.run(a.args)
	return true
}
