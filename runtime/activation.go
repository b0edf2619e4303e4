package runtime

import (
	"container/list"
	"context"
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

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

	mu sync.Mutex
	// replayEnd, made only when an operator's Retry or Wake waits for it,
	// is closed once the run has replayed its log and goes on live (see
	// Live); replayDone says it has, for a channel made after.
	replayEnd  chan struct{}
	replayDone bool
	m          *membrane.Membrane // nil while the run is being prepared
	dead       bool               // cancelled or shutting down: no more appends
	halt       chan struct{}      // closed when dead
	wasFailed  bool               // revived from Failed: clear the failure once live
	parkedElem *list.Element
	evictAsked bool

	// the activation's writes (writes.go), under mu
	queue      []*write // queued, not yet submitted
	writing    bool     // writeLoop runs
	refused    error    // the store refused a write for good: nothing more is kept
	retryLater bool     // let go after a write that failed: replay it when the store takes writes
	// attempt counts the revivals of this activation made again because the
	// store could not be read or written, for their backoff
	attempt int

	// the run's goroutine only: the run's number and stored arguments
	// (continued: those of the next run, which it continued as new with; see
	// continue.go), and the patch decisions of this run and of the next (see
	// patches.go)
	runNo     int
	args      []byte
	decided   []string
	restart   []string
	searched  bool
	continued bool
	// searching is true while dry replays look for patch decisions
	searching atomic.Bool

	// under rt.mu: a failed (or, on a shared store, evicted) run is on its
	// way out; a wake that finds it resident is kept for when it has left.
	leaving bool
	rewake  bool
	rewakeM reviveMode

	// under rt.mu, on a shared store: this handle owns the activation (it
	// created or claimed it), until the run is let go; finished runs need
	// no release.
	claimed  bool
	finished bool
	gone     bool

	// watchdog bookkeeping, under rt.mu
	lastProgress   int64
	lastProgressAt time.Time

	// telemetry, with tracing only, under telMu: the span of the run, and
	// the replayed log until the replay has reported its calls
	telMu  sync.Mutex
	span   trace.Span
	replay []membrane.Entry
}

var _ membrane.Host = (*activation)(nil)

// launch starts a run of a freshly created activation (log nil) or a revived
// one (log loaded by revive).
func (rt *Runtime) launch(row *store.Activation, fd *flowDef, log []store.Entry, wasFailed bool) {
	a := rt.newActivation(row.ID)
	a.fd, a.outcome, a.wasFailed, a.claimed = fd, row.Outcome, wasFailed, true
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

func (rt *Runtime) newActivation(id flow.ActivationID) *activation {
	return &activation{rt: rt, id: id, exited: make(chan struct{}), halt: make(chan struct{})}
}

// wake makes sure an activation runs: nothing if it is resident (it has been
// told), otherwise it is revived by replaying its log. A run that has failed
// but not yet left is revived once it has.
func (rt *Runtime) wake(id flow.ActivationID, mode reviveMode) {
	rt.wakeAttempt(id, mode, 0)
}

// replayEnded returns a channel closed once the run has replayed its log.
func (a *activation) replayEnded() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.replayEnd == nil {
		a.replayEnd = make(chan struct{})
		if a.replayDone {
			close(a.replayEnd)
		}
	}
	return a.replayEnd
}

// markReplayEnd notes the run has replayed its log, and tells whoever waits.
func (a *activation) markReplayEnd() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.replayDone {
		a.replayDone = true
		if a.replayEnd != nil {
			close(a.replayEnd)
		}
	}
}

// wakeAndAwait is wake for an operator (Admin.Retry and Wake): it returns
// once the run it started has replayed the log — it goes on live, or
// suspends again — or has ended (failed again, finished, or left to another
// process), or when ctx ends; so what Admin reports then is what the replay
// found. An activation that is resident already has been told, and is not
// waited for.
func (rt *Runtime) wakeAndAwait(ctx context.Context, id flow.ActivationID, mode reviveMode) {
	a := rt.wakeAttempt(id, mode, 0)
	if a == nil {
		return
	}
	select {
	case <-a.replayEnded():
	case <-a.exited:
	case <-ctx.Done():
	}
}

// wakeAttempt is wake, for the attempt-th time in a row after the store
// could not be read or written. It returns the run it started, if it started
// one.
func (rt *Runtime) wakeAttempt(id flow.ActivationID, mode reviveMode, attempt int) *activation {
	rt.mu.Lock()
	if rt.closing || !rt.started {
		// Before Start nothing runs: a settlement has made its waiters
		// running in the store, and Start revives them.
		rt.mu.Unlock()
		return nil
	}
	if a, ok := rt.active[id]; ok {
		if a.leaving && (!a.rewake || mode > a.rewakeM) {
			a.rewake, a.rewakeM = true, mode
		}
		rt.mu.Unlock()
		return nil
	}
	a := rt.newActivation(id)
	a.attempt = attempt
	rt.active[id] = a
	rt.mu.Unlock()
	go a.revive(mode)
	return a
}

// wakeOwned revives an activation this process has just claimed, unless it
// is resident already; then the new owner is that run, as a wake would leave
// it.
func (rt *Runtime) wakeOwned(id flow.ActivationID) {
	rt.mu.Lock()
	if _, ok := rt.active[id]; ok || rt.closing || !rt.started {
		rt.mu.Unlock()
		return
	}
	a := rt.newActivation(id)
	a.claimed = true
	rt.active[id] = a
	rt.mu.Unlock()
	go a.revive(reviveRetry)
}

// revive loads an activation and its log and replays it. On a shared store
// it claims the activation first, and leaves it if another process runs it.
func (a *activation) revive(mode reviveMode) {
	rt := a.rt
	ctx := rt.hostCtx
	if !a.claim(mode) {
		a.exit()
		return
	}
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
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, store.ErrUnavailable):
			// Read again once the store can be used: quietly, the store's
			// state is logged once.
			rt.health.unwritable(err)
			a.mu.Lock()
			a.retryLater = true
			a.mu.Unlock()
		case errors.Is(err, store.ErrCorrupt):
			rt.log.Error("asyncflow: cannot revive activation", "activation", a.id, "err", err)
			a.outcome = row.Outcome
			a.recordFailure(&diag.Diagnostic{Problem: diag.CorruptLog, Activation: a.id, Flow: row.Flow, Step: -1,
				Detail: err.Error(), FailedGen: rt.gen, FailedBuild: rt.build, Time: rt.clock.Now()})
		default:
			rt.log.Error("asyncflow: cannot revive activation", "activation", a.id, "err", err)
		}
		a.exit()
		return
	}
	fd, ok := rt.flowNamed(row.Flow)
	if !ok {
		a.exit()
		return
	}
	a.fd, a.outcome, a.wasFailed, a.runNo = fd, row.Outcome, row.State == store.Failed, row.Run
	a.start(row.CurrentArgs(), log)
}

func (a *activation) start(args []byte, log []store.Entry) {
	entries := make([]membrane.Entry, len(log))
	for i, e := range log {
		entries[i] = membrane.Entry{Step: e.Step, Kind: membrane.Kind(e.Kind), Gen: e.Gen, Payload: e.Payload}
	}
	if t := a.rt.tel; t != nil && t.tracer != nil {
		a.replay = entries
	}
	m := membrane.New(membrane.Config{Activation: a.id, Flow: a.fd.name, Run: a.runNo, Log: entries, Host: a})
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
	a.args = args
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
	a.runStarted("asyncflow.run", m.Replaying())
	if m.Replaying() {
		a.countReplay()
	} else {
		// An empty log: live from the start, with no replay to end. A
		// failed one (it failed before it logged anything) is failed no
		// more.
		a.Live()
	}
	fc := flowimpl.NewContext(m)
	result, err := a.fd.def.Run(fc, args)
	if next, ok := a.continuation(m, err); ok {
		m.Returned(nil, err)
		a.continueAsNew(m, next)
		return
	}
	m.Returned(result, err)
	a.finish(result, err)
}

// exit removes the run when its goroutine ends, however it ends, or when it
// never started.
func (a *activation) exit() {
	a.runEnded()
	if a.relaunch() || a.nextRun() {
		return
	}
	rewake, mode := a.forget()
	close(a.exited)
	if rewake {
		a.rt.wake(a.id, mode)
	}
	a.mu.Lock()
	replay := a.retryLater
	a.mu.Unlock()
	if replay {
		a.rt.replayWhenWritable(a.id, a.attempt+1)
	}
}

// forget forgets the run, once: on a shared store it first releases the
// activation, so that until the release is durable nothing here or
// elsewhere runs it again.
func (a *activation) forget() (rewake bool, mode reviveMode) {
	rt := a.rt
	rt.mu.Lock()
	if a.gone {
		rt.mu.Unlock()
		return false, 0
	}
	a.gone = true
	release := rt.shared != nil && a.claimed && !a.finished && rt.active[a.id] == a
	rt.mu.Unlock()
	if release {
		rt.release(a.id)
	}
	rt.mu.Lock()
	if rt.active[a.id] == a {
		delete(rt.active, a.id)
	}
	if a.parkedElem != nil {
		rt.parked.Remove(a.parkedElem)
		a.parkedElem = nil
	}
	rewake, mode = a.rewake, a.rewakeM
	rt.mu.Unlock()
	return rewake, mode
}

// replayWhenWritable revives an activation let go because the store could
// not be read or written, once it can again or after a backoff, whichever
// comes first.
func (rt *Runtime) replayWhenWritable(id flow.ActivationID, attempt int) {
	up := rt.health.upChan()
	go func() {
		t := time.NewTimer(backoff(attempt))
		defer t.Stop()
		select {
		case <-up:
		case <-t.C:
		case <-rt.done:
			return
		}
		rt.wakeAttempt(id, reviveWoken, attempt)
	}()
}

// stop makes the guest leave at its next crossing, without a failure.
func (a *activation) stop() {
	a.mu.Lock()
	a.kill()
	m := a.m
	a.mu.Unlock()
	if m != nil {
		m.Stop()
	}
}

// finish settles the outcome of a flow that returned.
func (a *activation) finish(result []byte, ferr error) {
	op := &store.Finish{Act: a.id, State: store.VowFulfilled, Payload: result, Gen: a.rt.gen, At: a.rt.clock.Now(), KeepLog: a.rt.opts.KeepLogs}
	if ferr != nil {
		var e codec.Encoder
		e.EncodeError(ferr)
		op.State, op.Payload = store.VowRejected, e.Bytes()
	}
	w := a.submit(op)
	if w == nil {
		return
	}
	if err := w.Wait(); err != nil {
		a.failRefused("outcome", err)
		return
	}
	if op.Finished {
		a.rt.mu.Lock()
		a.finished = true
		a.rt.mu.Unlock()
		a.rt.settled(a.outcome, op.State, op.Payload, op.Waiters)
	}
}

// failRefused records the failure of a run whose last write, of what (its
// outcome, its continuation), the store refused for good; after any other
// error the write is left to the replay that follows.
func (a *activation) failRefused(what string, err error) {
	var r *membrane.Refused
	if !errors.As(err, &r) {
		return
	}
	rt := a.rt
	a.recordFailure(&diag.Diagnostic{Problem: diag.StoreRefused, Activation: a.id, Flow: a.fd.name, Step: -1,
		Detail:    "the store refused the " + what + " for good: " + r.Err.Error() + " (the activation is tried again by Admin.Retry and by the next incarnation)",
		FailedGen: rt.gen, FailedBuild: rt.build, Time: rt.clock.Now()})
}

// settled routes a vow's settlement: resident waiters are told, others are
// revived, host waiters are released.
func (rt *Runtime) settled(vow flow.VowID, state store.VowState, payload []byte, waiters []flow.ActivationID) {
	var revive []flow.ActivationID
	rt.mu.Lock()
	for _, id := range waiters {
		if a, ok := rt.active[id]; ok && !a.leaving {
			if a.m != nil {
				a.m.Deliver(vow, settlement(state, payload))
			}
			continue
		}
		revive = append(revive, id) // or revive it once it has left
	}
	rt.mu.Unlock()
	rt.wakeWaiters(vow)
	for _, id := range revive {
		rt.wake(id, reviveWoken)
	}
}
