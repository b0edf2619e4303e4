// Package membrane is the layer between a guest (a flow while it runs) and its
// host. Live, it performs each crossing and records it in the activation's
// log; replaying, it answers each crossing from the log and checks that the
// guest asks the same things in the same order. When the log runs out it goes
// live.
//
// A Membrane serves one run of one activation and is used from the guest's
// goroutine only, except for [Membrane.Stop], [Membrane.Deliver] and the
// read-only progress accessors. When the guest diverges from its log the
// membrane records a [Diagnostic] through its [Host] and is revoked: from then
// on every crossing, from deferred functions too, ends the guest goroutine with
// runtime.Goexit, which recover cannot stop, and nothing more is performed,
// appended or settled.
package membrane

import (
	"bytes"
	"errors"
	"fmt"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Host is what the membrane needs from the runtime for live crossings.
type Host interface {
	// Invoke performs a host call. cut is true when the runtime's shutdown
	// cut the call short: its result must not be logged. A panic in the host
	// method propagates to the membrane.
	Invoke(info flow.CallInfo, args []byte) (result []byte, err error, cut bool)
	// Append queues an entry, with extra ops in the same transaction, to be
	// made durable after everything appended before.
	Append(e store.Entry, extra ...store.Op) *store.Pending
	// Watch checks vows and, if none is settled, records that the activation
	// waits for them (suspended, if suspend).
	Watch(vows []flow.VowID, suspend bool) (*store.Watch, error)
	// Now reads the runtime's clock.
	Now() time.Time
	// TimerSet tells the runtime a durable timer will exist once p commits.
	TimerSet(deadline time.Time, p *store.Pending)
	// Parked tells the runtime the guest waits for events (true) or runs
	// again (false).
	Parked(parked bool)
	// Evict asks the runtime to let the guest go while parked. It returns
	// true if the runtime has forgotten the activation, which the guest must
	// then leave.
	Evict() bool
	// Failed records a failure durably. It is called at most once.
	Failed(d *Diagnostic)
	// Live tells the runtime the replay has used up the log.
	Live()
	// Build returns the build of an incarnation.
	Build(gen int64) string
	// Incarnation returns this incarnation's generation and build.
	Incarnation() (int64, string)
}

// Config describes one run of an activation.
type Config struct {
	Activation flow.ActivationID
	Flow       string
	Log        []store.Entry // what replay answers from; empty for a new activation
	Host       Host
}

// future is the state of one host call issued without waiting.
type future struct {
	n        int
	info     flow.CallInfo
	args     []byte
	launched bool    // the call was made live in this run
	done     bool    // its outcome arrived (live) but is not observed yet
	out      outcome // valid when done
	seq      int     // arrival order of outcomes
	observed bool
}

// Membrane is the membrane of one run of one activation.
type Membrane struct {
	host Host
	act  flow.ActivationID
	flow string
	raw  []store.Entry
	cur  int   // next log entry to replay
	step int64 // next step number to append
	live bool

	calls    int // host calls so far (sync and async): the call index
	futures  []*future
	arrivals int
	observed map[flow.AwaitKey]outcome
	patched  map[string]bool

	lastInfo *store.Pending // the last appended entry that brought the world's information in

	logRef   atomic.Pointer[[]store.Entry] // the replay log, for the watchdog; nil once live
	inbox    inbox
	revoked  atomic.Bool
	stopped  atomic.Bool
	progress atomic.Int64 // replayed entries so far, for the watchdog
	mode     atomic.Int32
}

// Modes, as reported by Mode.
const (
	ModeReplaying int32 = iota
	ModeRunning
	ModeParked
	ModeDone
)

// New returns the membrane for one run.
func New(c Config) *Membrane {
	m := &Membrane{
		host:     c.Host,
		act:      c.Activation,
		flow:     c.Flow,
		raw:      c.Log,
		step:     int64(len(c.Log)),
		observed: map[flow.AwaitKey]outcome{},
		patched:  map[string]bool{},
	}
	m.inbox.signal = make(chan struct{}, 1)
	m.logRef.Store(&m.raw)
	if len(c.Log) == 0 {
		m.live = true
		m.mode.Store(ModeRunning)
	}
	return m
}

var _ flowimpl.Guest = (*Membrane)(nil)

// Activation implements flowimpl.Guest.
func (m *Membrane) Activation() flow.ActivationID { return m.act }

// Mode reports whether the guest is replaying, running live, parked or done.
func (m *Membrane) Mode() int32 { return m.mode.Load() }

// Progress returns how many log entries have been replayed; the watchdog
// compares readings.
func (m *Membrane) Progress() int64 { return m.progress.Load() }

// Replaying reports whether the log is not yet used up.
func (m *Membrane) Replaying() bool { return m.Mode() == ModeReplaying }

// Revoked reports whether the membrane has failed or been stopped.
func (m *Membrane) Revoked() bool { return m.revoked.Load() || m.stopped.Load() }

// Stop revokes the membrane without a failure, for shutdown, cancellation or
// eviction: the guest leaves at its next crossing, or at once if parked.
func (m *Membrane) Stop() {
	m.stopped.Store(true)
	m.inbox.push(event{kind: evStop})
}

// Deliver tells a parked or running guest that a vow it may wait for has
// settled.
func (m *Membrane) Deliver(vow flow.VowID, state store.VowState, payload []byte) {
	m.inbox.push(event{kind: evVow, vow: vow, out: vowOutcome(state, payload)})
}

// RequestEvict asks a parked guest to leave if it can.
func (m *Membrane) RequestEvict() { m.inbox.push(event{kind: evEvict}) }

// Pending reports whether events wait in the inbox.
func (m *Membrane) Pending() bool { return m.inbox.pending() }

// Evictable reports whether every future has been observed, so the guest can
// be let go and replayed later without losing anything.
func (m *Membrane) evictable() bool {
	for _, f := range m.futures {
		if !f.observed {
			return false
		}
	}
	return true
}

func vowOutcome(state store.VowState, payload []byte) outcome {
	if state == store.VowFulfilled {
		return okOutcome(payload)
	}
	return outcome{err: payload}
}

// check ends the guest if the membrane is revoked.
func (m *Membrane) check() {
	if m.revoked.Load() || m.stopped.Load() {
		goruntime.Goexit()
	}
}

// leave ends the guest goroutine.
func (m *Membrane) leave() {
	goruntime.Goexit()
}

// Fail records a failure and ends the guest. Only the first failure of a run
// is recorded.
func (m *Membrane) Fail(d *Diagnostic) {
	if m.revoked.Swap(true) {
		m.leave()
	}
	m.fill(d)
	if d.Site == "" {
		d.Site = guestSite()
	}
	m.mode.Store(ModeDone)
	if !m.stopped.Load() {
		m.host.Failed(d)
	}
	m.leave()
}

// FailFromOutside records a failure found by someone other than the guest
// (the watchdog) and revokes the membrane. It reports false if the
// membrane had already failed.
func (m *Membrane) FailFromOutside(d *Diagnostic) bool {
	if m.revoked.Swap(true) {
		return false
	}
	m.fill(d)
	m.host.Failed(d)
	m.inbox.push(event{kind: evStop})
	return true
}

// ReportStall fails a replay that has made no progress for the given time,
// from the watchdog's goroutine. The guest, which may be looping, is
// abandoned: if it ever crosses again it ends. It reports false if the run
// had already ended or failed.
func (m *Membrane) ReportStall(quiet time.Duration) bool {
	if m.Mode() != ModeReplaying {
		return false
	}
	pos := m.progress.Load()
	d := &Diagnostic{Problem: Stalled, Step: pos,
		Detail: "no crossing for " + quiet.String() + " while replaying; the code loops or blocks outside the membrane (a channel, a lock, a busy loop)"}
	if log := m.logRef.Load(); log != nil && int(pos) < len(*log) {
		r := (*log)[pos]
		if en, err := decodeEntry(r.Step, r.Kind, r.Gen, r.Payload); err == nil {
			d.Logged = en.String()
		}
		d.WrittenGen, d.WrittenBuild = r.Gen, m.host.Build(r.Gen)
	}
	return m.FailFromOutside(d)
}

func (m *Membrane) fill(d *Diagnostic) {
	d.Activation, d.Flow = m.act, m.flow
	d.FailedGen, d.FailedBuild = m.host.Incarnation()
	if d.Time.IsZero() {
		d.Time = m.host.Now()
	}
}

// Panicked records a guest panic. It is called from the guest goroutine's
// outermost deferred function with the recovered value; a panic after a
// revocation is contained without a record.
func (m *Membrane) Panicked(v any, stack []byte) {
	if m.revoked.Swap(true) || m.stopped.Load() {
		return
	}
	d := &Diagnostic{Problem: GuestPanic, Step: m.position(), Detail: fmt.Sprint(v), Stack: string(stack)}
	if !m.live && m.cur < len(m.raw) {
		if en, err := m.decodeAt(m.cur); err == nil {
			d.Logged, d.WrittenGen, d.WrittenBuild = en.String(), en.gen, m.host.Build(en.gen)
		}
	}
	d.Site = panicSite(stack)
	m.fill(d)
	m.mode.Store(ModeDone)
	m.host.Failed(d)
}

// position is the step the guest has reached.
func (m *Membrane) position() int64 {
	if m.live {
		return m.step
	}
	return int64(m.cur)
}

func (m *Membrane) decodeAt(i int) (*entry, error) {
	r := m.raw[i]
	return decodeEntry(r.Step, r.Kind, r.Gen, r.Payload)
}

// next returns the next log entry to replay, or nil when the log is used up
// (the membrane is then live).
func (m *Membrane) next() *entry {
	if m.live {
		return nil
	}
	if m.cur >= len(m.raw) {
		m.goLive()
		return nil
	}
	en, err := m.decodeAt(m.cur)
	if err != nil {
		r := m.raw[m.cur]
		m.Fail(&Diagnostic{Problem: CorruptLog, Step: r.Step, Logged: codec.Format(r.Payload),
			Detail:     "entry of kind " + strconv.Itoa(r.Kind) + " does not decode: " + err.Error(),
			WrittenGen: r.Gen, WrittenBuild: m.host.Build(r.Gen)})
	}
	return en
}

func (m *Membrane) consume() {
	m.cur++
	m.progress.Add(1)
}

// goLive switches to live mode when the log is used up: futures issued during
// replay whose outcome was never observed are issued again, with their keys.
func (m *Membrane) goLive() {
	if m.live {
		return
	}
	m.live = true
	m.logRef.Store(nil)
	m.raw = nil // replayed entries are not needed any more
	m.mode.Store(ModeRunning)
	m.host.Live()
	for _, f := range m.futures {
		if !f.observed && !f.launched {
			m.launch(f)
		}
	}
}

// diverge fails the replay at the current entry: the guest did got instead.
func (m *Membrane) diverge(en *entry, problem Problem, got string) {
	m.Fail(&Diagnostic{Problem: problem, Step: en.step, Logged: en.String(), Got: got,
		WrittenGen: en.gen, WrittenBuild: m.host.Build(en.gen)})
}

// mismatch picks the problem for a guest operation that does not match the
// logged entry.
func (m *Membrane) mismatch(en *entry, guestCalls bool, got string) {
	switch {
	case en.kind == KindCall || en.kind == KindIssue:
		if guestCalls {
			m.diverge(en, OtherCall, got)
		}
		m.diverge(en, StoppedShort, got)
	case guestCalls:
		m.diverge(en, ExtraCall, got)
	default:
		m.diverge(en, OtherStep, got)
	}
}

// append logs an entry. informative entries carry something from the world
// into the guest, and must be durable before the guest's next effect.
func (m *Membrane) append(en *entry, informative bool, extra ...store.Op) *store.Pending {
	en.step = m.step
	gen, _ := m.host.Incarnation()
	p := m.host.Append(store.Entry{Step: m.step, Kind: en.kind, Gen: gen, Payload: encodeEntry(en)}, extra...)
	if p == nil {
		// Cancelled or shutting down: nothing more is logged.
		m.stopped.Store(true)
		m.leave()
	}
	m.step++
	if informative {
		m.lastInfo = p
	}
	return p
}

// barrier waits until everything the guest has learned from the world is
// durable, so no effect that could depend on it reaches the world first.
func (m *Membrane) barrier() {
	if p := m.lastInfo; p != nil {
		if err := p.Wait(); err != nil {
			// The store failed: stop without recording; a later incarnation
			// replays from what is durable.
			m.stopped.Store(true)
			m.leave()
		}
		m.lastInfo = nil
	}
	m.check()
}

func (m *Membrane) callInfo(target flow.Ref, method string) flow.CallInfo {
	info := flow.CallInfo{Activation: m.act, Flow: m.flow, Index: m.calls, Target: target, Method: method}
	m.calls++
	return info
}

// Call implements flowimpl.Guest.
func (m *Membrane) Call(target flow.Ref, method string, args []byte) ([]byte, error) {
	m.check()
	info := m.callInfo(target, method)
	if en := m.next(); en != nil {
		got := "call " + callString(target, method, args)
		if en.kind != KindCall {
			m.mismatch(en, true, got)
		}
		if en.target != target || en.method != method {
			m.diverge(en, OtherCall, got)
		}
		if !bytes.Equal(en.args, args) {
			m.diverge(en, OtherArguments, got)
		}
		m.consume()
		return m.answer(en.out)
	}
	m.barrier()
	out, cut := m.invoke(info, args)
	if cut {
		m.stopped.Store(true)
		m.leave()
	}
	m.check()
	m.append(&entry{kind: KindCall, target: target, method: method, args: args, out: out}, true)
	return m.answer(out)
}

// answer hands a settlement to the guest: the value, or the error decoded, so
// the guest sees the same thing live and replaying.
func (m *Membrane) answer(o outcome) ([]byte, error) {
	if o.ok {
		return o.value, nil
	}
	return nil, o.guestError()
}

// invoke makes a live host call, containing a host panic as a failure.
func (m *Membrane) invoke(info flow.CallInfo, args []byte) (out outcome, cut bool) {
	defer func() {
		if v := recover(); v != nil {
			m.Fail(&Diagnostic{Problem: HostPanic, Step: m.step,
				Got:    "call " + callString(info.Target, info.Method, args),
				Detail: fmt.Sprintf("%v (not logged: the call is made again, with the same idempotency key %s, when the activation is retried)", v, info.IdempotencyKey()),
				Stack:  string(debug.Stack())})
		}
	}()
	res, err, cut := m.host.Invoke(info, args)
	if cut {
		return outcome{}, true
	}
	var un *Unavailable
	if errors.As(err, &un) {
		m.Fail(&Diagnostic{Problem: Illegal, Step: m.step, Got: "call " + callString(info.Target, info.Method, args),
			Detail: un.Err.Error() + " (not logged: the activation is retried when a later incarnation provides it)"})
	}
	return hostOutcome(res, err), false
}

// hostOutcome is what a host call returned, as a settlement.
func hostOutcome(res []byte, err error) outcome {
	if err != nil {
		return errOutcome(err)
	}
	if res == nil {
		res = []byte{0x08, 0x00} // an empty tuple
	}
	return okOutcome(res)
}

// Unavailable is what Host.Invoke returns when a call cannot be made in this
// incarnation at all, such as a call to a service it does not provide. The
// activation fails without logging anything and is retried by a later
// incarnation.
type Unavailable struct{ Err error }

func (u *Unavailable) Error() string { return u.Err.Error() }

// Issue implements flowimpl.Guest.
func (m *Membrane) Issue(target flow.Ref, method string, args []byte) int {
	m.check()
	f := &future{n: len(m.futures) + 1, info: m.callInfo(target, method), args: args}
	m.futures = append(m.futures, f)
	if en := m.next(); en != nil {
		got := "go " + callString(target, method, args) + " as future#" + strconv.Itoa(f.n)
		if en.kind != KindIssue {
			m.mismatch(en, true, got)
		}
		if en.target != target || en.method != method || en.future != f.n {
			m.diverge(en, OtherCall, got)
		}
		if !bytes.Equal(en.args, args) {
			m.diverge(en, OtherArguments, got)
		}
		m.consume()
		return f.n
	}
	m.append(&entry{kind: KindIssue, future: f.n, target: target, method: method, args: args}, false)
	m.launch(f)
	return f.n
}

// launch makes a future's host call on its own goroutine.
func (m *Membrane) launch(f *future) {
	m.barrier()
	f.launched = true
	go func() {
		var out outcome
		var cut bool
		func() {
			defer func() {
				if v := recover(); v != nil {
					out = outcome{}
					cut = true
					m.inbox.push(event{kind: evHostPanic, future: f.n, detail: fmt.Sprint(v), stack: string(debug.Stack())})
				}
			}()
			res, err, c := m.host.Invoke(f.info, f.args)
			var un *Unavailable
			switch {
			case c:
				cut = true
			case errors.As(err, &un):
				m.inbox.push(event{kind: evUnavailable, future: f.n, detail: un.Err.Error()})
				out, cut = outcome{}, true
			default:
				out = hostOutcome(res, err)
			}
		}()
		m.inbox.push(event{kind: evFuture, future: f.n, out: out, cut: cut})
	}()
}

// Settlement implements flowimpl.Guest.
func (m *Membrane) Settlement(k flow.AwaitKey) ([]byte, error) {
	m.check()
	o, ok := m.observed[k]
	if !ok {
		panic("flow: Settlement of " + k.String() + ", which has not been awaited")
	}
	return m.answer(o)
}

// Await implements flowimpl.Guest.
func (m *Membrane) Await(keys []flow.AwaitKey, race bool) int {
	m.check()
	for _, k := range keys {
		if k.Future > len(m.futures) || k.Future < 0 {
			panic("flow: await of " + k.String() + ", which this activation never made")
		}
		if k.Future == 0 && k.Vow.IsZero() {
			m.Fail(&Diagnostic{Problem: Illegal, Step: m.position(), Got: "await of the zero vow", Detail: "a Vow must come from a host or from flow.After"})
		}
	}
	if race {
		for i, k := range keys {
			if _, ok := m.observed[k]; ok {
				return i
			}
		}
	}
	pending := map[flow.AwaitKey]bool{}
	for _, k := range keys {
		if _, ok := m.observed[k]; !ok {
			pending[k] = true
		}
	}
	got := func() string {
		if race {
			return "flow.Race(" + keysString(keys) + ")"
		}
		return "await " + keysString(keys)
	}
	for len(pending) > 0 {
		en := m.next()
		if en == nil {
			return m.awaitLive(keys, pending, race)
		}
		var k flow.AwaitKey
		switch en.kind {
		case KindVow:
			k = flow.AwaitKey{Vow: en.vow}
		case KindResult:
			k = flow.AwaitKey{Future: en.future}
		default:
			m.mismatch(en, false, got())
		}
		if !pending[k] {
			m.diverge(en, OtherStep, got())
		}
		m.consume()
		m.observe(k, en.out)
		delete(pending, k)
		if race {
			return indexOf(keys, k)
		}
	}
	return -1
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

// observeLive records a settlement the guest observes live.
func (m *Membrane) observeLive(k flow.AwaitKey, o outcome) {
	if k.Future > 0 {
		m.append(&entry{kind: KindResult, future: k.Future, out: o}, true)
	} else {
		m.append(&entry{kind: KindVow, vow: k.Vow, out: o}, true)
	}
	m.observe(k, o)
}

func (m *Membrane) inflight() bool {
	for _, f := range m.futures {
		if !f.observed && !f.done {
			return true
		}
	}
	return false
}

func (m *Membrane) awaitLive(keys []flow.AwaitKey, pending map[flow.AwaitKey]bool, race bool) int {
	watched := false
	for len(pending) > 0 {
		// Futures whose outcome arrived, in arrival order.
		var best *future
		for k := range pending {
			if k.Future > 0 {
				if f := m.futures[k.Future-1]; f.done && (best == nil || f.seq < best.seq) {
					best = f
				}
			}
		}
		if best != nil {
			k := flow.AwaitKey{Future: best.n}
			m.observeLive(k, best.out)
			delete(pending, k)
			if race {
				return indexOf(keys, k)
			}
			continue
		}
		if !watched {
			var vows []flow.VowID
			for _, k := range keys {
				if k.Future == 0 && pending[k] {
					vows = append(vows, k.Vow)
				}
			}
			if len(vows) > 0 {
				m.barrier()
				w, err := m.host.Watch(vows, !m.inflight())
				if err != nil {
					m.stopped.Store(true)
					m.leave()
				}
				if w.Missing >= 0 {
					m.Fail(&Diagnostic{Problem: Illegal, Step: m.step, Got: "await vow:" + vows[w.Missing].String(),
						Detail: "no such vow in the store"})
				}
				if w.Index >= 0 {
					k := flow.AwaitKey{Vow: vows[w.Index]}
					m.observeLive(k, vowOutcome(w.Vow.State, w.Vow.Payload))
					delete(pending, k)
					if race {
						return indexOf(keys, k)
					}
					continue
				}
			}
			watched = true
		}
		ev := m.wait()
		switch ev.kind {
		case evVow:
			// Waking removes every wait of the activation: watch the rest again.
			watched = false
			k := flow.AwaitKey{Vow: ev.vow}
			if pending[k] {
				m.observeLive(k, ev.out)
				delete(pending, k)
				if race {
					return indexOf(keys, k)
				}
			}
		case evFuture:
			f := m.futures[ev.future-1]
			if ev.cut {
				m.stopped.Store(true)
				m.leave()
			}
			m.arrivals++
			f.done, f.out, f.seq = true, ev.out, m.arrivals
		case evHostPanic:
			f := m.futures[ev.future-1]
			m.Fail(&Diagnostic{Problem: HostPanic, Step: m.step,
				Got:    "go " + callString(f.info.Target, f.info.Method, f.args) + " as future#" + strconv.Itoa(f.n),
				Detail: ev.detail + " (not logged: the call is made again, with the same idempotency key " + f.info.IdempotencyKey() + ", when the activation is retried)",
				Stack:  ev.stack})
		case evUnavailable:
			f := m.futures[ev.future-1]
			m.Fail(&Diagnostic{Problem: Illegal, Step: m.step,
				Got:    "go " + callString(f.info.Target, f.info.Method, f.args) + " as future#" + strconv.Itoa(f.n),
				Detail: ev.detail + " (not logged: the activation is retried when a later incarnation provides it)"})
		case evEvict:
			if m.evictable() && m.host.Evict() {
				m.stopped.Store(true)
				m.leave()
			}
		case evStop:
			m.check()
		}
	}
	return -1
}

// wait parks the guest until an event arrives.
func (m *Membrane) wait() event {
	if ev, ok := m.inbox.take(); ok {
		return ev
	}
	m.mode.Store(ModeParked)
	m.host.Parked(true)
	ev := m.inbox.wait()
	m.host.Parked(false)
	m.check()
	m.mode.Store(ModeRunning)
	return ev
}

// Now implements flowimpl.Guest.
func (m *Membrane) Now() time.Time {
	m.check()
	if en := m.next(); en != nil {
		if en.kind != KindMarker || en.marker != markerNow {
			m.mismatch(en, false, "flow.Now()")
		}
		t, err := decodeTime(en.data)
		if err != nil {
			m.diverge(en, CorruptLog, "flow.Now()")
		}
		m.consume()
		return t
	}
	t := m.host.Now().Round(0)
	var e codec.Encoder
	e.PutTime(t)
	m.append(&entry{kind: KindMarker, marker: markerNow, data: e.Bytes()}, true)
	// Hand the guest what replay will hand it: the decoded reading.
	t, _ = decodeTime(e.Bytes())
	return t
}

func decodeTime(b []byte) (time.Time, error) {
	d := codec.NewDecoder(b)
	t := d.ReadTime()
	return t, d.Done()
}

// After implements flowimpl.Guest.
func (m *Membrane) After(dur time.Duration) flow.VowID {
	m.check()
	if en := m.next(); en != nil {
		got := "flow.After(" + dur.String() + ")"
		if en.kind != KindMarker || en.marker != markerAfter {
			m.mismatch(en, false, got)
		}
		d := codec.NewDecoder(en.data)
		n := d.ReadList()
		logged := time.Duration(d.ReadInt(64))
		id := d.ReadVow()
		d.ReadTime()
		if d.Done() != nil || n != 3 {
			m.diverge(en, CorruptLog, got)
		}
		if logged != dur {
			m.diverge(en, OtherStep, got)
		}
		m.consume()
		return id
	}
	m.barrier()
	now := m.host.Now()
	deadline := now.Add(dur)
	id := flow.NewVowID()
	var e codec.Encoder
	e.PutList(3)
	e.PutInt(int64(dur))
	e.PutVow(id)
	e.PutTime(deadline)
	gen, _ := m.host.Incarnation()
	p := m.append(&entry{kind: KindMarker, marker: markerAfter, data: e.Bytes()}, true,
		&store.CreateVow{ID: id, Gen: gen, Deadline: deadline})
	m.host.TimerSet(deadline, p)
	return id
}

// Patched implements flowimpl.Guest.
func (m *Membrane) Patched(id string) bool {
	m.check()
	if v, ok := m.patched[id]; ok {
		return v
	}
	var e codec.Encoder
	e.PutString(id)
	if !m.live && m.cur < len(m.raw) {
		en := m.next()
		v := en.kind == KindMarker && en.marker == markerPatched && bytes.Equal(en.data, e.Bytes())
		if v {
			m.consume()
		}
		m.patched[id] = v
		return v
	}
	m.next() // goes live if the log is used up
	m.append(&entry{kind: KindMarker, marker: markerPatched, data: e.Bytes()}, false)
	m.patched[id] = true
	return true
}

// Diverge implements flowimpl.Guest.
func (m *Membrane) Diverge(reason string) {
	m.check()
	step := m.position() - 1
	d := &Diagnostic{Problem: Undecodable, Step: step, Detail: reason}
	if !m.live && step >= 0 && int(step) < len(m.raw) {
		if en, err := m.decodeAt(int(step)); err == nil {
			d.Logged, d.WrittenGen, d.WrittenBuild = en.String(), en.gen, m.host.Build(en.gen)
		}
	}
	m.Fail(d)
}

// Returned is called when the flow function returns. It fails the replay if
// log entries remain; otherwise the caller settles the outcome.
func (m *Membrane) Returned(result []byte, err error) {
	m.check()
	if !m.live && m.cur < len(m.raw) {
		en, derr := m.decodeAt(m.cur)
		got := "return " + codec.Format(result)
		if err != nil {
			got = "return error " + strconv.Quote(err.Error())
		}
		if derr != nil {
			r := m.raw[m.cur]
			m.Fail(&Diagnostic{Problem: ReturnedEarly, Step: r.Step, Got: got,
				Detail: strconv.Itoa(len(m.raw)-m.cur) + " log entries remain"})
		}
		m.Fail(&Diagnostic{Problem: ReturnedEarly, Step: en.step, Logged: en.String(), Got: got,
			Detail:     strconv.Itoa(len(m.raw)-m.cur) + " log entries remain",
			WrittenGen: en.gen, WrittenBuild: m.host.Build(en.gen)})
	}
	if !m.live {
		m.live = true
		m.logRef.Store(nil)
		m.raw = nil
		m.host.Live()
	}
	m.barrier()
	m.mode.Store(ModeDone)
}

// panicSite finds the guest's frame in a panic stack (as debug.Stack prints it).
func panicSite(stack []byte) string {
	lines := bytes.Split(stack, []byte("\n"))
	afterPanic := false
	for i := 0; i+1 < len(lines); i++ {
		fn := string(bytes.TrimSpace(lines[i]))
		if bytes.HasPrefix(lines[i], []byte("panic(")) {
			afterPanic = true
			continue
		}
		if !afterPanic || len(fn) == 0 || bytes.HasPrefix(lines[i], []byte("\t")) {
			continue
		}
		file := string(bytes.TrimSpace(lines[i+1]))
		if j := bytes.LastIndexByte([]byte(file), ' '); j > 0 {
			file = file[:j]
		}
		name := fn
		if j := bytes.LastIndexByte([]byte(name), '('); j > 0 {
			name = name[:j]
		}
		if !skipFrame(goruntime.Frame{Function: name, File: file}) {
			return shortFile(file)
		}
	}
	return ""
}

// Events that reach a guest.
const (
	evVow = iota + 1
	evFuture
	evHostPanic
	evUnavailable
	evEvict
	evStop
)

type event struct {
	kind   int
	vow    flow.VowID
	future int
	out    outcome
	cut    bool
	detail string
	stack  string
}

// inbox is an unbounded queue of events for one guest.
type inbox struct {
	mu     sync.Mutex
	events []event
	signal chan struct{}
}

func (b *inbox) push(e event) {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

func (b *inbox) take() (event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		return event{}, false
	}
	e := b.events[0]
	b.events = b.events[1:]
	return e, true
}

func (b *inbox) pending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events) > 0
}

func (b *inbox) wait() event {
	for {
		if e, ok := b.take(); ok {
			return e
		}
		<-b.signal
	}
}
