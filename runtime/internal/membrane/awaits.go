package membrane

import (
	"bytes"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// Settlement implements flowimpl.Guest. Reading a message takes it: its
// mailbox's next receiver is for the message after.
func (m *Membrane) Settlement(k flow.AwaitKey) ([]byte, error) {
	o := m.settlement(k)
	if k.Future == 0 {
		m.taken(k.Vow)
	}
	return m.answer(o)
}

// Rejection implements flowimpl.Guest.
func (m *Membrane) Rejection(k flow.AwaitKey) error {
	if o := m.settlement(k); !o.ok {
		return o.guestError()
	}
	return nil
}

func (m *Membrane) settlement(k flow.AwaitKey) outcome {
	m.check()
	o, ok := m.observed[k]
	if !ok {
		panic("flow: Settlement of " + k.String() + ", which has not been awaited")
	}
	return o
}

// Await implements flowimpl.Guest.
//
// A parked guest keeps the frames of Await and awaitLive on its stack, and a
// goroutine's stack shrinks only while it uses under a quarter of it; so the
// work of each step is done in helpers that have returned by the time the
// guest parks, and the frames that stay are small.
func (m *Membrane) Await(keys []flow.AwaitKey, race bool) int {
	m.check()
	m.checkAwait(keys)
	if race {
		for i, k := range keys {
			if _, ok := m.observed[k]; ok {
				return i
			}
		}
	}
	pending := m.unobserved(keys)
	if i, done := m.awaitReplaying(keys, pending, race); done {
		return i
	}
	return m.awaitLive(keys, pending, race)
}

// checkAwait fails the guest for keys it cannot await.
func (m *Membrane) checkAwait(keys []flow.AwaitKey) {
	for _, k := range keys {
		if k.Future > len(m.futures) || k.Future < 0 {
			panic("flow: await of " + k.String() + ", which this activation never made")
		}
		if k.Future == 0 && k.Vow.IsZero() {
			m.Fail(&diag.Diagnostic{Problem: diag.Illegal, Step: m.position(), Got: "await of the zero vow", Detail: "a Vow must come from a host or from flow.After"})
		}
	}
}

// unobserved returns the keys not observed yet, in a map of its own on the
// heap rather than in the frame of Await, which stays while the guest parks.
//
//go:noinline
func (m *Membrane) unobserved(keys []flow.AwaitKey) map[flow.AwaitKey]bool {
	pending := make(map[flow.AwaitKey]bool, len(keys))
	for _, k := range keys {
		if _, ok := m.observed[k]; !ok {
			pending[k] = true
		}
	}
	return pending
}

// awaitReplaying answers an await from the log. done is false when the log
// runs out first: the rest of pending is then awaited live.
func (m *Membrane) awaitReplaying(keys []flow.AwaitKey, pending map[flow.AwaitKey]bool, race bool) (i int, done bool) {
	did := crossing{op: opAwait, keys: keys}
	if race {
		did.op = opRace
	}
	for len(pending) > 0 {
		en := m.next()
		if en == nil {
			return 0, false
		}
		var k flow.AwaitKey
		switch en.kind {
		case KindVow:
			k = flow.AwaitKey{Vow: en.vow}
		case KindResult:
			k = flow.AwaitKey{Future: en.future}
		default:
			m.mismatch(en, did)
		}
		if !pending[k] {
			m.diverge(en, diag.OtherStep, did)
		}
		m.consume()
		// Kept for as long as the run: a copy, not a slice of the log, which
		// the store may hold in a few large buffers.
		m.observe(k, outcome{ok: en.out.ok, value: bytes.Clone(en.out.value), err: bytes.Clone(en.out.err)})
		delete(pending, k)
		if race {
			return indexOf(keys, k), true
		}
	}
	return -1, true
}

func indexOf(keys []flow.AwaitKey, k flow.AwaitKey) int {
	for i, x := range keys {
		if x == k {
			return i
		}
	}
	return -1
}

func (m *Membrane) observe(k flow.AwaitKey, o outcome) {
	m.observed[k] = o
	if k.Future > 0 {
		m.futures[k.Future-1].observed = true
	}
}

// observeLive records a settlement the guest observes live. It is kept out
// of its callers so that the entries it builds take no room in their frames.
//
//go:noinline
func (m *Membrane) observeLive(k flow.AwaitKey, o outcome) {
	if k.Future > 0 {
		m.append(&entry{kind: KindResult, future: k.Future, out: o}, true, With{})
	} else {
		m.append(&entry{kind: KindVow, vow: k.Vow, out: o}, true, With{})
	}
	m.observe(k, o)
}

// inflight reports whether a future's call has not come back yet.
func (m *Membrane) inflight() bool {
	for _, f := range m.futures {
		if !f.observed && !f.done {
			return true
		}
	}
	return false
}

// evictable reports whether no future's call is in flight, so the guest can
// be let go and replayed later: a future that came back but was never
// observed has no logged outcome, and the replay issues it again, with its
// idempotency key, when it goes live.
func (m *Membrane) evictable() bool { return !m.inflight() }

func (m *Membrane) awaitLive(keys []flow.AwaitKey, pending map[flow.AwaitKey]bool, race bool) int {
	watched := false
	for len(pending) > 0 {
		k, ok := m.arrived(pending)
		if !ok && !watched {
			k, ok = m.watchPending(keys, pending)
			watched = !ok
		}
		if !ok {
			var rewatch bool
			k, ok, rewatch = m.event(pending)
			watched = watched && !rewatch
		}
		if ok {
			delete(pending, k)
			if race {
				return indexOf(keys, k)
			}
		}
	}
	return -1
}

// arrived observes the pending future whose outcome arrived first, if any.
func (m *Membrane) arrived(pending map[flow.AwaitKey]bool) (flow.AwaitKey, bool) {
	var best *future
	for k := range pending {
		if k.Future > 0 {
			if f := m.futures[k.Future-1]; f.done && (best == nil || f.seq < best.seq) {
				best = f
			}
		}
	}
	if best == nil {
		return flow.AwaitKey{}, false
	}
	k := flow.AwaitKey{Future: best.n}
	m.observeLive(k, best.out)
	return k, true
}

// watchPending records that the guest waits for the pending vows, or
// observes the first of them already settled.
func (m *Membrane) watchPending(keys []flow.AwaitKey, pending map[flow.AwaitKey]bool) (flow.AwaitKey, bool) {
	var vows []flow.VowID
	for _, k := range keys {
		if k.Future == 0 && pending[k] {
			vows = append(vows, k.Vow)
		}
	}
	if len(vows) == 0 {
		return flow.AwaitKey{}, false
	}
	m.barrier()
	w, err := m.host.Watch(vows, !m.inflight())
	if err != nil {
		m.writeFailed(err)
	}
	if w.Missing >= 0 {
		m.Fail(&diag.Diagnostic{Problem: diag.Illegal, Step: m.step, Got: "await vow:" + vows[w.Missing].String(),
			Detail: "no such vow in the store"})
	}
	if w.Settled < 0 {
		return flow.AwaitKey{}, false
	}
	k := flow.AwaitKey{Vow: vows[w.Settled]}
	m.observeLive(k, settled(w.Settlement))
	return k, true
}

// event waits for the next event and handles it: ok when it settles a
// pending key, rewatch when the waits must be recorded again.
func (m *Membrane) event(pending map[flow.AwaitKey]bool) (k flow.AwaitKey, ok, rewatch bool) {
	ev := m.wait()
	if ev.kind != evVow {
		return k, false, m.other(&ev)
	}
	// Waking removes every wait of the activation: watch the rest again.
	k = flow.AwaitKey{Vow: ev.vow}
	if pending[k] {
		m.observeLive(k, ev.out)
		return k, true, true
	}
	return k, false, true
}

// other handles an event that is not a vow's settlement, whatever the guest
// waits for: a future's outcome, a future's retry to log, a host failure, a
// request to leave, a stop. rewatch is true when the waits must be recorded
// again.
func (m *Membrane) other(ev *event) (rewatch bool) {
	switch ev.kind {
	case evFuture:
		if ev.cut {
			m.abandon()
		}
		f := m.futures[ev.future-1]
		m.arrivals++
		f.done, f.out, f.seq = true, ev.out, m.arrivals
		// The vows were watched without suspending while the call was out;
		// now the activation may be suspended like any other.
		return !m.inflight()
	case evRetry:
		m.logRetry(ev)
	case evHostFailed:
		f := m.futures[ev.future-1]
		m.failHost(f.crossing(), f.info, ev.failure)
	case evEvict:
		if m.evictable() && m.host.Evict() {
			m.abandon()
		}
	case evStop:
		m.check()
	}
	return false
}

// wait parks the guest until an event arrives.
func (m *Membrane) wait() event {
	if ev, ok := m.inbox.take(); ok {
		return ev
	}
	m.setMode(ModeParked)
	m.host.Parked(true)
	ev := m.inbox.wait()
	m.host.Parked(false)
	m.check()
	m.setMode(ModeRunning)
	return ev
}
