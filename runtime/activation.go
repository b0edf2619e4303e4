package runtime

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// activation is one resident run of an activation: a goroutine running the
// flow behind its membrane.
type activation struct {
	rt      *Runtime
	id      flow.ActivationID
	fd      *flowDef
	outcome flow.VowID
	exited  chan struct{}

	mu         sync.Mutex
	m          *membrane.Membrane // nil while the run is being prepared
	dead       bool               // cancelled or shutting down: no more appends
	wasFailed  bool               // revived from Failed: clear the failure once live
	parkedElem *list.Element
	evictAsked bool

	// under rt.mu: a failed run is on its way out; a wake that finds it
	// resident is kept for when it has left.
	leaving bool
	rewake  bool
	rewakeM reviveMode

	// watchdog bookkeeping, under rt.mu
	lastProgress   int64
	lastProgressAt time.Time
}

var _ membrane.Host = (*activation)(nil)

// launch starts a run of a freshly created activation (log nil) or a revived
// one (log loaded by revive).
func (rt *Runtime) launch(row *store.Activation, fd *flowDef, log []store.Entry, wasFailed bool) {
	a := &activation{rt: rt, id: row.ID, fd: fd, outcome: row.Outcome, exited: make(chan struct{}), wasFailed: wasFailed}
	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return
	}
	if _, dup := rt.active[a.id]; dup {
		rt.mu.Unlock()
		return
	}
	rt.active[a.id] = a
	rt.mu.Unlock()
	a.start(row.Args, log)
}

// Why an activation is revived. Each mode revives what the one before it
// does, and more.
type reviveMode int

const (
	reviveWoken     reviveMode = iota // something it waits for settled
	reviveRetry                       // at Start or by Admin.Retry: failed ones too
	reviveSuspended                   // WakeAll: suspended ones too
)

// wake makes sure an activation runs: nothing if it is resident (it has been
// told), otherwise it is revived by replaying its log. A run that has failed
// but not yet left is revived once it has.
func (rt *Runtime) wake(id flow.ActivationID, mode reviveMode) {
	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return
	}
	if a, ok := rt.active[id]; ok {
		if a.leaving && (!a.rewake || mode > a.rewakeM) {
			a.rewake, a.rewakeM = true, mode
		}
		rt.mu.Unlock()
		return
	}
	a := &activation{rt: rt, id: id, exited: make(chan struct{})}
	rt.active[id] = a
	rt.mu.Unlock()
	go a.revive(mode)
}

// revive loads an activation and its log and replays it.
func (a *activation) revive(mode reviveMode) {
	rt := a.rt
	ctx := rt.hostCtx
	row, err := rt.st.Activation(ctx, a.id)
	if err == nil {
		switch {
		case row.State == store.Done,
			row.State == store.Failed && mode == reviveWoken,
			row.State == store.Suspended && mode != reviveSuspended:
			a.exit()
			return
		}
	}
	var log []store.Entry
	if err == nil {
		log, err = rt.st.Log(ctx, a.id)
	}
	if err != nil {
		if ctx.Err() == nil {
			rt.log.Error("asyncflow: cannot revive activation", "activation", a.id, "err", err)
			if errors.Is(err, store.ErrCorrupt) {
				a.recordFailure(&diag.Diagnostic{Problem: diag.CorruptLog, Activation: a.id, Flow: row.Flow, Step: -1,
					Detail: err.Error(), FailedGen: rt.gen, FailedBuild: rt.build, Time: rt.clock.Now()})
			}
		}
		a.exit()
		return
	}
	fd, ok := rt.flowNamed(row.Flow)
	if !ok {
		a.exit()
		return
	}
	a.fd, a.outcome, a.wasFailed = fd, row.Outcome, row.State == store.Failed
	a.start(row.Args, log)
}

func (a *activation) start(args []byte, log []store.Entry) {
	entries := make([]membrane.Entry, len(log))
	for i, e := range log {
		entries[i] = membrane.Entry{Step: e.Step, Kind: membrane.Kind(e.Kind), Gen: e.Gen, Payload: e.Payload}
	}
	m := membrane.New(membrane.Config{Activation: a.id, Flow: a.fd.name, Log: entries, Host: a})
	a.rt.mu.Lock()
	a.mu.Lock()
	dead := a.dead
	a.m = m
	a.mu.Unlock()
	a.rt.mu.Unlock()
	if dead {
		a.exit()
		return
	}
	go a.run(args)
}

// run is the guest goroutine.
func (a *activation) run(args []byte) {
	defer a.exit()
	m := a.m
	defer func() {
		if v := recover(); v != nil {
			m.Panicked(v, debug.Stack())
		}
	}()
	fc := flowimpl.NewContext(m)
	result, err := a.fd.def.Run(fc, args)
	m.Returned(result, err)
	a.finish(result, err)
}

// exit removes the run when its goroutine ends, however it ends, or when it
// never started.
func (a *activation) exit() {
	rt := a.rt
	rt.mu.Lock()
	if rt.active[a.id] == a {
		delete(rt.active, a.id)
	}
	if a.parkedElem != nil {
		rt.parked.Remove(a.parkedElem)
		a.parkedElem = nil
	}
	rewake, mode := a.rewake, a.rewakeM
	rt.mu.Unlock()
	close(a.exited)
	if rewake {
		rt.wake(a.id, mode)
	}
}

// stop makes the guest leave at its next crossing, without a failure.
func (a *activation) stop() {
	a.mu.Lock()
	a.dead = true
	m := a.m
	a.mu.Unlock()
	if m != nil {
		m.Stop()
	}
}

// finish settles the outcome of a flow that returned.
func (a *activation) finish(result []byte, ferr error) {
	op := &store.Finish{Act: a.id, State: store.VowFulfilled, Payload: result, Gen: a.rt.gen}
	if ferr != nil {
		var e codec.Encoder
		e.EncodeError(ferr)
		op.State, op.Payload = store.VowRejected, e.Bytes()
	}
	a.mu.Lock()
	if a.dead {
		a.mu.Unlock()
		return
	}
	p := a.rt.st.Submit(op)
	a.mu.Unlock()
	if err := p.Wait(); err != nil {
		a.rt.log.Error("asyncflow: cannot settle outcome", "activation", a.id, "flow", a.fd.name, "err", err)
		return
	}
	if op.Finished {
		a.rt.settled(a.outcome, op.State, op.Payload, op.Waiters)
	}
}

// Invoke implements membrane.Host.
func (a *activation) Invoke(info flow.CallInfo, args []byte) ([]byte, bool, error) {
	rt := a.rt
	ctx := flowimpl.HostCallContext(rt.hostCtx, info, (*hostRefs)(rt))
	impl, dispatch, err := rt.target(ctx, info.Target)
	if err != nil {
		if errors.Is(err, flow.ErrUnknownService) {
			return nil, false, &membrane.Unavailable{Err: err}
		}
		return nil, rt.hostCtx.Err() != nil, err // a resolver's error is the call's result
	}
	res, err := dispatch(ctx, impl, info.Method, args)
	if rt.hostCtx.Err() != nil {
		return nil, true, nil
	}
	return res, false, err
}

// target finds the host object a call goes to.
func (rt *Runtime) target(ctx context.Context, ref flow.Ref) (any, flowimpl.Dispatcher, error) {
	rt.mu.Lock()
	svc, isSvc := rt.services[ref.Name]
	res, isRes := rt.resolvers[ref.Name]
	rt.mu.Unlock()
	switch {
	case ref.Kind == flow.RefService && isSvc:
		return svc.impl, svc.dispatch, nil
	case ref.Kind == flow.RefObject && isRes:
		obj, err := res.resolve(ctx, ref.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("resolve %s: %w", ref, err)
		}
		return obj, res.dispatch, nil
	case ref.Kind == flow.RefObject:
		return nil, nil, fmt.Errorf("%w: no resolver for %s objects in this incarnation", flow.ErrUnknownService, ref.Name)
	}
	return nil, nil, fmt.Errorf("%w: %s is not provided in this incarnation", flow.ErrUnknownService, ref)
}

// Append implements membrane.Host: the entry becomes a store.Append and a
// timer a timer vow, in one submission. After a cancellation or during
// shutdown it appends nothing and ends the guest.
func (a *activation) Append(e membrane.Entry, timer *membrane.Timer) membrane.Commit {
	ops := []store.Op{&store.Append{Act: a.id, Entry: store.Entry{Step: e.Step, Kind: int(e.Kind), Gen: e.Gen, Payload: e.Payload}}}
	if timer != nil {
		ops = append(ops, &store.CreateVow{ID: timer.Vow, Gen: a.rt.gen, Deadline: timer.Deadline})
	}
	a.mu.Lock()
	if a.dead {
		a.mu.Unlock()
		return nil
	}
	p := a.rt.st.Submit(ops...)
	a.mu.Unlock()
	if timer != nil {
		// The timer loop looks again once the timer exists.
		go func() {
			if p.Wait() == nil {
				a.rt.kickTimers()
			}
		}()
	}
	return p
}

// Watch implements membrane.Host.
func (a *activation) Watch(vows []flow.VowID, suspend bool) (membrane.Watched, error) {
	// A settled vow stays settled: if one already is, a read answers and no
	// write is needed.
	for i, id := range vows {
		v, err := a.rt.st.Vow(a.rt.hostCtx, id)
		if err != nil {
			break // let the write report a missing vow, or fail
		}
		if v.State != store.VowPending {
			return membrane.Watched{Missing: -1, Settled: i, Settlement: settlement(v.State, v.Payload)}, nil
		}
	}
	op := &store.Watch{Act: a.id, Vows: vows, Suspend: suspend, Gen: a.rt.gen}
	a.mu.Lock()
	if a.dead {
		a.mu.Unlock()
		return membrane.Watched{}, ErrClosed
	}
	p := a.rt.st.Submit(op)
	a.mu.Unlock()
	if err := p.Wait(); err != nil {
		return membrane.Watched{}, err
	}
	return membrane.Watched{Missing: op.Missing, Settled: op.Index, Settlement: settlement(op.Vow.State, op.Vow.Payload)}, nil
}

// settlement is a settled vow as the membrane takes it.
func settlement(state store.VowState, payload []byte) membrane.Settlement {
	return membrane.Settlement{Rejected: state == store.VowRejected, Value: payload}
}

// Now implements membrane.Host.
func (a *activation) Now() time.Time { return a.rt.clock.Now() }

// Parked implements membrane.Host: parked activations are kept in LRU order,
// and beyond MaxResident the least recently parked are asked to leave.
func (a *activation) Parked(parked bool) {
	rt := a.rt
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if !parked {
		if a.parkedElem != nil {
			rt.parked.Remove(a.parkedElem)
			a.parkedElem = nil
		}
		a.evictAsked = false
		return
	}
	if a.parkedElem == nil {
		a.parkedElem = rt.parked.PushFront(a)
	}
	excess := rt.parked.Len() - rt.opts.MaxResident
	for e := rt.parked.Back(); e != nil && excess > 0; e = e.Prev() {
		victim := e.Value.(*activation)
		if !victim.evictAsked {
			victim.evictAsked = true
			victim.m.RequestEvict()
			excess--
		}
	}
}

// Evict implements membrane.Host: the runtime forgets the activation, unless
// an event is waiting for it; later settlements revive it from the store.
func (a *activation) Evict() bool {
	rt := a.rt
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if a.m.Pending() || rt.active[a.id] != a {
		a.evictAsked = false
		return false
	}
	delete(rt.active, a.id)
	if a.parkedElem != nil {
		rt.parked.Remove(a.parkedElem)
		a.parkedElem = nil
	}
	return true
}

// Failed implements membrane.Host.
func (a *activation) Failed(d *diag.Diagnostic) {
	a.recordFailure(d)
}

func (a *activation) recordFailure(d *diag.Diagnostic) {
	b, err := json.Marshal(d)
	if err != nil {
		b = []byte(`{"problem":"` + string(d.Problem) + `"}`)
	}
	a.rt.mu.Lock()
	a.leaving = true // before the failure is visible, so a Retry that sees it is kept
	a.rt.mu.Unlock()
	a.mu.Lock()
	if a.dead {
		a.mu.Unlock()
		return
	}
	p := a.rt.st.Submit(&store.SetState{Act: a.id, State: store.Failed, Failure: b, Gen: a.rt.gen})
	a.mu.Unlock()
	if err := p.Wait(); err != nil {
		a.rt.log.Error("asyncflow: cannot record failure", "activation", a.id, "err", err)
	}
	a.rt.log.Warn("asyncflow: activation failed", "activation", a.id, "flow", d.Flow, "problem", d.Problem, "diagnostic", d.Error())
}

// Live implements membrane.Host: a replay of a failed activation that reaches
// the end of its log is no longer failed.
func (a *activation) Live() {
	if !a.wasFailed {
		return
	}
	a.wasFailed = false
	a.mu.Lock()
	if a.dead {
		a.mu.Unlock()
		return
	}
	p := a.rt.st.Submit(&store.SetState{Act: a.id, State: store.Running, Gen: a.rt.gen})
	a.mu.Unlock()
	if err := p.Wait(); err != nil {
		a.rt.log.Error("asyncflow: cannot clear failure", "activation", a.id, "err", err)
	}
	a.rt.log.Info("asyncflow: failed activation replayed its log and runs again", "activation", a.id, "flow", a.fd.name)
}

// Build implements membrane.Host.
func (a *activation) Build(gen int64) string { return a.rt.buildOf(gen) }

// Incarnation implements membrane.Host.
func (a *activation) Incarnation() (int64, string) { return a.rt.gen, a.rt.build }

// settled routes a vow's settlement: resident waiters are told, others are
// revived, host waiters are released.
func (rt *Runtime) settled(vow flow.VowID, state store.VowState, payload []byte, waiters []flow.ActivationID) {
	var revive []flow.ActivationID
	rt.mu.Lock()
	for _, id := range waiters {
		if a, ok := rt.active[id]; ok {
			if a.m != nil {
				a.m.Deliver(vow, settlement(state, payload))
			}
			continue
		}
		revive = append(revive, id)
	}
	chans := rt.hostWaiters[vow]
	delete(rt.hostWaiters, vow)
	rt.mu.Unlock()
	for _, c := range chans {
		close(c)
	}
	for _, id := range revive {
		rt.wake(id, reviveWoken)
	}
}

// kickTimers tells the timer loop to look at the earliest deadline again.
func (rt *Runtime) kickTimers() {
	select {
	case rt.timerKick <- struct{}{}:
	default:
	}
}

func (rt *Runtime) timerLoop() {
	defer rt.loops.Done()
	for {
		next, ok, err := rt.st.NextDeadline(rt.hostCtx)
		if err != nil {
			if rt.hostCtx.Err() != nil {
				return
			}
			rt.log.Error("asyncflow: timers", "err", err)
			ok = false
		}
		var fire <-chan time.Time
		stop := func() {}
		if ok {
			fire, stop = rt.clock.NewTimer(next.Sub(rt.clock.Now()))
		}
		select {
		case <-fire:
			rt.fireTimers()
		case <-rt.timerKick:
		case <-rt.done:
			stop()
			return
		}
		stop()
	}
}

func (rt *Runtime) fireTimers() {
	for {
		op := &store.FireTimers{Now: rt.clock.Now(), Limit: 1000, Gen: rt.gen, EncodeDeadline: encodeTime}
		if err := rt.st.Submit(op).Wait(); err != nil {
			if rt.hostCtx.Err() == nil {
				rt.log.Error("asyncflow: firing timers", "err", err)
			}
			return
		}
		for _, f := range op.Fired {
			rt.settled(f.Vow, store.VowFulfilled, f.Payload, f.Waiters)
		}
		if len(op.Fired) < op.Limit {
			return
		}
	}
}

func encodeTime(t time.Time) []byte {
	var e codec.Encoder
	e.PutTime(t)
	return e.Bytes()
}

// watchdog fails replays that make no progress.
func (rt *Runtime) watchdog() {
	defer rt.loops.Done()
	period := rt.opts.ReplayStall / 4
	if period > time.Second {
		period = time.Second
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-rt.done:
			return
		case <-tick.C:
		}
		now := time.Now()
		var stalled []*activation
		rt.mu.Lock()
		for _, a := range rt.active {
			if a.m == nil || !a.m.Replaying() {
				continue
			}
			if p := a.m.Progress(); p != a.lastProgress || a.lastProgressAt.IsZero() {
				a.lastProgress, a.lastProgressAt = p, now
				continue
			}
			if now.Sub(a.lastProgressAt) >= rt.opts.ReplayStall {
				stalled = append(stalled, a)
			}
		}
		rt.mu.Unlock()
		for _, a := range stalled {
			if a.m.ReportStall(now.Sub(a.lastProgressAt)) {
				// Abandon the goroutine: it may never cross again.
				rt.mu.Lock()
				if rt.active[a.id] == a {
					delete(rt.active, a.id)
				}
				rt.mu.Unlock()
			}
		}
	}
}
