package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// The activation as the membrane's Host: it turns what the engine asks into
// host calls and store operations.

// Invoke implements membrane.Host. An attempt with a timeout has it as its
// context's deadline; one that runs past it and fails ends with an error
// that wraps context.DeadlineExceeded, whatever the host returned.
func (a *activation) Invoke(info flow.CallInfo, args []byte, timeout time.Duration) ([]byte, bool, error) {
	rt := a.rt
	base, span := a.callContext(rt.hostCtx, info)
	if span != nil {
		defer func() {
			if v := recover(); v != nil {
				endCall(span, fmt.Errorf("host method panicked: %v", v), false)
				panic(v)
			}
		}()
	}
	attempt := base
	if timeout > 0 {
		var cancel context.CancelFunc
		attempt, cancel = context.WithTimeout(base, timeout)
		defer cancel()
	}
	ctx := flowimpl.HostCallContext(attempt, info, (*hostRefs)(rt))
	impl, dispatch, err := rt.target(ctx, info.Target)
	if err != nil {
		if errors.Is(err, flow.ErrUnknownService) {
			endCall(span, err, false)
			return nil, false, &membrane.Unavailable{Err: err}
		}
		cut := rt.hostCtx.Err() != nil
		endCall(span, err, cut)
		return nil, cut, err // a resolver's error is the call's result
	}
	res, err := dispatch(ctx, impl, info.Method, args)
	if rt.hostCtx.Err() != nil {
		endCall(span, nil, true)
		return nil, true, nil
	}
	if errors.Is(err, store.ErrUnavailable) {
		// The host method could not use the store (a vow it made, a
		// settlement): not a result. The run is let go, and the call made
		// again, with the same key, once the store takes writes.
		endCall(span, err, false)
		rt.health.unwritable(err)
		a.letGo()
		return nil, true, nil
	}
	if err != nil && timeout > 0 && attempt.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: attempt %d ran past its timeout of %s: %w", context.DeadlineExceeded, info.Attempt, timeout, err)
	}
	endCall(span, err, false)
	return res, false, err
}

// WaitVow implements membrane.Host.
func (a *activation) WaitVow(vow flow.VowID, stop <-chan struct{}) error {
	ctx, cancel := context.WithCancel(a.rt.hostCtx)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := a.rt.wait(ctx, vow)
	var rej *RejectionError
	if errors.As(err, &rej) {
		return nil // settled, which is all a backoff waits for
	}
	return err
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

// Append implements membrane.Host: the entry becomes a store.Append, and
// what it brings the op that makes it (a timer vow, a receiver, a
// publication, a child activation), in one submission. After a
// cancellation or during shutdown it appends nothing and ends the guest.
func (a *activation) Append(e membrane.Entry, with membrane.With) membrane.Commit {
	rt := a.rt
	now := rt.clock.Now()
	ops := []store.Op{&store.Append{Act: a.id, Entry: store.Entry{Step: e.Step, Kind: int(e.Kind), Gen: e.Gen, At: now, Payload: e.Payload}}}
	var child *store.CreateActivation
	switch {
	case with.Timer != nil:
		ops = append(ops, &store.CreateVow{ID: with.Timer.Vow, Kind: store.TimerVow, Gen: rt.gen, Deadline: with.Timer.Deadline})
	case with.Receiver != nil:
		ops = append(ops, &store.Receive{Act: a.id, Name: with.Receiver.Mailbox, Vow: with.Receiver.Vow, Gen: rt.gen})
	case with.Status != nil:
		ops = append(ops, &store.Publish{Act: a.id, Name: with.Status.Name, Payload: with.Status.Value, Gen: rt.gen})
	case with.Child != nil:
		c := with.Child
		child = &store.CreateActivation{Activation: store.Activation{ID: c.ID, Flow: c.Flow, Args: c.Args, Outcome: c.Outcome,
			CreatedGen: rt.gen, Created: now, Parent: a.id}}
		ops = append(ops, child)
	}
	w := a.submit(ops...)
	if w == nil {
		return nil
	}
	a.countStep()
	switch {
	case with.Timer != nil:
		// The timer loop looks again once the timer exists.
		go func() {
			if w.Wait() == nil {
				rt.kickTimers()
			}
		}()
	case child != nil:
		// The child runs once it exists, if this incarnation runs its flow;
		// otherwise a later incarnation that does revives it.
		go func() {
			if w.Wait() != nil || child.Existing != nil {
				return
			}
			if fd, ok := rt.flowNamed(child.Activation.Flow); ok {
				rt.launch(&child.Activation, fd, nil, false)
			} else if rt.shared != nil {
				rt.release(child.Activation.ID) // for a process that runs its flow
			}
		}()
	}
	return w
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
	op := &store.Watch{Act: a.id, Vows: vows, Suspend: suspend, Gen: a.rt.gen, At: a.rt.clock.Now()}
	ops := []store.Op{op}
	if cancel := membrane.CancelVow(a.id); slices.Contains(vows, cancel) {
		// The cancellation vow exists once the flow waits for it, or once
		// cancellation is requested, whichever comes first.
		ops = []store.Op{&store.EnsureVow{ID: cancel, Kind: store.CancelVow, Gen: a.rt.gen}, op}
	}
	w := a.submit(ops...)
	if w == nil {
		return membrane.Watched{}, fmt.Errorf("runtime: watch: %w", ErrClosed)
	}
	if err := w.Wait(); err != nil {
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
	if parked {
		a.runEnded()
	} else {
		a.runStarted("asyncflow.resume", false)
	}
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
// an event is waiting for it; later settlements revive it from the store. On
// a shared store the run stays known, as leaving, until its exit has
// released the activation.
func (a *activation) Evict() bool {
	rt := a.rt
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if a.m.Pending() || rt.active[a.id] != a {
		a.evictAsked = false
		return false
	}
	if rt.shared != nil {
		a.leaving = true
	} else {
		delete(rt.active, a.id)
	}
	if a.parkedElem != nil {
		rt.parked.Remove(a.parkedElem)
		a.parkedElem = nil
	}
	return true
}

// Failed implements membrane.Host.
func (a *activation) Failed(d *diag.Diagnostic) {
	if a.resolvePatches(d) {
		return
	}
	a.failedTelemetry(d)
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
	// Outside the activation's queue, which may be what failed; made again
	// while the store cannot take it now.
	err = a.apply([]store.Op{&store.SetState{Act: a.id, State: store.Failed, Failure: b, Gen: a.rt.gen, At: a.rt.clock.Now()}})
	if errors.Is(err, errStopped) {
		return
	}
	if err != nil {
		a.rt.log.Error("asyncflow: cannot record failure", "activation", a.id, "err", err)
	}
	a.rt.wakeWaiters(a.outcome) // Wait tells them it is stuck
	if d.Activation.IsZero() {
		d.Activation = a.id
	}
	a.rt.log.LogAttrs(context.Background(), slog.LevelWarn, "asyncflow: activation stuck: "+d.Headline(), d.LogAttrs()...)
}

// Live implements membrane.Host: a replay of a failed activation that reaches
// the end of its log is no longer failed.
func (a *activation) Live() {
	defer a.markReplayEnd()
	a.replayed(1 << 62)
	if !a.wasFailed {
		return
	}
	a.wasFailed = false
	err := a.apply([]store.Op{&store.SetState{Act: a.id, State: store.Running, Gen: a.rt.gen, At: a.rt.clock.Now()}})
	if errors.Is(err, errStopped) {
		return
	}
	if err != nil {
		a.rt.log.Error("asyncflow: cannot clear failure", "activation", a.id, "err", err)
	}
	a.rt.log.Info("asyncflow: failed activation replayed its log and runs again", "activation", a.id, "flow", a.fd.name)
}

// Build implements membrane.Host.
func (a *activation) Build(gen int64) string { return a.rt.buildOf(gen) }

// Incarnation implements membrane.Host.
func (a *activation) Incarnation() (int64, string) { return a.rt.gen, a.rt.build }
