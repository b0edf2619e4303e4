package membrane

import (
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// Retries of host calls under a policy (flowimpl.Policy). An attempt that
// failed and is to be made again is logged as a retry marker, with a durable
// timer in the same transaction: the wait before the next attempt. The
// marker is a fact, replayed whatever the policy of the build that replays
// it: a build with another policy goes on from the attempt the log has
// reached, and its own policy decides what follows.

// markerRetry names the marker of a failed attempt.
const markerRetry = "retry"

// retry is a failed attempt that is made again.
type retry struct {
	future   int // the future's number; 0 for a call the guest waits for
	attempt  int // the attempt that failed, from 1
	err      []byte
	vow      flow.VowID // the timer of the wait
	deadline time.Time  // when the next attempt is made
	// For a call the guest waits for, the call, so that a replay can tell
	// it is the same.
	target flow.Ref
	method string
	args   []byte
	// For a future's retry handed to the guest to log (evRetry): told
	// whether it was.
	logged chan bool
}

func (r *retry) entry() *entry {
	var e codec.Encoder
	if r.future > 0 {
		e.PutList(5)
	} else {
		e.PutList(8)
	}
	e.PutInt(int64(r.future))
	e.PutInt(int64(r.attempt))
	e.Value(codec.Raw(r.err))
	e.PutVow(r.vow)
	e.PutTime(r.deadline)
	if r.future == 0 {
		r.target.MarshalFlow(&e)
		e.PutString(r.method)
		e.Value(codec.Raw(r.args))
	}
	return &entry{kind: KindMarker, marker: markerRetry, data: e.Bytes()}
}

func decodeRetry(data []byte) (*retry, error) {
	d := codec.NewDecoder(data)
	n := d.ReadList()
	r := &retry{future: int(d.ReadInt(32)), attempt: int(d.ReadInt(32)), err: d.ReadRaw(), vow: d.ReadVow(), deadline: d.ReadTime()}
	if n == 8 {
		r.target.UnmarshalFlow(d)
		r.method = d.ReadString()
		r.args = d.ReadRaw()
	}
	if err := d.Done(); err != nil {
		return nil, err
	}
	switch {
	case n != 5 && n != 8 || (n == 5) != (r.future > 0):
		return nil, &codec.MismatchError{Got: "a list of " + strconv.Itoa(n), Want: "a retry"}
	case r.attempt < 1:
		return nil, &codec.MismatchError{Got: "attempt " + strconv.Itoa(r.attempt), Want: "an attempt from 1"}
	}
	return r, nil
}

func (r *retry) String() string {
	what := "future#" + strconv.Itoa(r.future)
	if r.future == 0 {
		what = callString(r.target, r.method, r.args)
	}
	return "retry " + what + ": attempt " + strconv.Itoa(r.attempt) + " failed: " + codec.Format(r.err) +
		"; attempt " + strconv.Itoa(r.attempt+1) + " at " + r.deadline.Format(time.RFC3339Nano) + " (vow:" + r.vow.String() + ")"
}

// isRetry reports whether en is a retry marker.
func (en *entry) isRetry() bool { return en.kind == KindMarker && en.marker == markerRetry }

// retryOf returns the retry of a call the guest waits for that en logs, if
// it is one; a retry marker that does not decode fails the replay.
func (m *Membrane) retryOf(en *entry, did crossing) (*retry, bool) {
	if !en.isRetry() {
		return nil, false
	}
	r, err := decodeRetry(en.data)
	if err != nil {
		m.diverge(en, diag.CorruptLog, did)
	}
	return r, r.future == 0
}

// replayFutureRetry applies a future's retry marker met while replaying:
// the future's next launch makes the attempt after, once the marker's timer
// has fired.
func (m *Membrane) replayFutureRetry(en *entry) {
	r, err := decodeRetry(en.data)
	if err != nil || r.future > len(m.futures) {
		m.Fail(&diag.Diagnostic{Problem: diag.CorruptLog, Step: en.step, Logged: en.String(),
			Detail: "a retry of a future this run has not issued", WrittenGen: en.gen, WrittenBuild: m.host.Build(en.gen)})
	}
	f := m.futures[r.future-1]
	f.attempt, f.backoff = r.attempt+1, r.vow
}

// retries reports whether an attempt that ended with out is made again under
// p: it failed with an error a retry may fix, and attempts remain.
func retries(p *flowimpl.Policy, out outcome, attempt int) bool {
	if p == nil || out.ok || attempt >= p.Attempts {
		return false
	}
	code, _, ok := codec.NewDecoder(out.err).ReadError()
	return ok && p.Retries(code)
}

// scheduleRetry makes the retry of a failed attempt: its timer, due after
// the policy's delay.
func (m *Membrane) scheduleRetry(p *flowimpl.Policy, attempt int, out outcome) *retry {
	return &retry{attempt: attempt, err: out.err, vow: flow.NewVowID(), deadline: m.host.Now().Round(0).Add(p.Delay(attempt))}
}

// logRetry logs a future's retry, handed over by its goroutine, and lets the
// goroutine wait for the timer once the timer exists.
func (m *Membrane) logRetry(ev *event) {
	c := m.append(ev.retry.entry(), false, With{Timer: &Timer{Vow: ev.retry.vow, Deadline: ev.retry.deadline}})
	if err := c.Wait(); err != nil {
		ev.retry.logged <- false
		m.writeFailed(err) // refused for good: a failure; otherwise a later run replays from what is durable
	}
	ev.retry.logged <- true
}

// waitTimer waits for the timer of a retry's backoff to fire, parked (and
// suspended, if no call is in flight). Nothing is logged: the timer brings
// nothing the guest observes. A replay that reaches this point at the end of
// the log waits again, and a timer that has fired lets it through at once.
func (m *Membrane) waitTimer(vow flow.VowID) {
	for {
		m.barrier() // the timer exists once its marker is durable
		w, err := m.host.Watch([]flow.VowID{vow}, !m.inflight())
		if err != nil {
			m.writeFailed(err)
		}
		if w.Missing >= 0 {
			m.Fail(&diag.Diagnostic{Problem: diag.CorruptLog, Step: m.step, Got: "wait for the retry timer vow:" + vow.String(),
				Detail: "no such vow in the store"})
		}
		if w.Settled >= 0 {
			return
		}
		for {
			ev := m.wait()
			if ev.kind == evVow {
				if ev.vow == vow {
					return
				}
				break // waking removes every wait of the activation: watch again
			}
			m.other(&ev)
		}
	}
}

// isFutureRetry reports whether the data of a retry marker is a future's.
func isFutureRetry(data []byte) bool {
	d := codec.NewDecoder(data)
	n := d.ReadList()
	return d.Err() == nil && n == 5
}
