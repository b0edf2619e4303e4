package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Retry replays a failed activation now, as Start would, and returns once
// the replay has reached the end of the log (the activation goes on live) or
// has failed again, or ctx ends: what Get reports then is what it found. It
// needs a runtime, which has the flow's code: ErrNoRuntime on a store alone.
func (ad *Admin) Retry(ctx context.Context, id flow.ActivationID) error {
	rt := ad.rt
	if rt == nil {
		return fmt.Errorf("runtime: retry %s: %w", id, ErrNoRuntime)
	}
	row, err := rt.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrUnknownActivation
	}
	if err != nil {
		return fmt.Errorf("runtime: retry %s: %w", id, err)
	}
	if row.State != store.Failed {
		return fmt.Errorf("runtime: retry %s (%s): %w", id, row.State, ErrNotFailed)
	}
	if _, ok := rt.flowNamed(row.Flow); !ok {
		return fmt.Errorf("runtime: retry %s: %s: %w", id, row.Flow, ErrUnregistered)
	}
	if rt.isClosing() {
		return fmt.Errorf("runtime: retry %s: %w", id, ErrClosed)
	}
	rt.wakeAndAwait(ctx, id, reviveRetry)
	return nil
}

// Wake replays a suspended activation now, instead of when what it waits
// for settles, to learn at once whether this build still reproduces its
// log; it suspends again if it does. A failed one is retried. It returns
// once the replay has reached the end of the log or has failed, or ctx
// ends, so what Get reports then is what it found; one resident already is
// running under this build and is not replayed. It needs a runtime:
// ErrNoRuntime on a store alone.
func (ad *Admin) Wake(ctx context.Context, id flow.ActivationID) error {
	rt := ad.rt
	if rt == nil {
		return fmt.Errorf("runtime: wake %s: %w", id, ErrNoRuntime)
	}
	row, err := rt.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrUnknownActivation
	}
	if err != nil {
		return fmt.Errorf("runtime: wake %s: %w", id, err)
	}
	if row.State == store.Done {
		return fmt.Errorf("runtime: wake %s: %w", id, ErrFinished)
	}
	if _, ok := rt.flowNamed(row.Flow); !ok {
		return fmt.Errorf("runtime: wake %s: %s: %w", id, row.Flow, ErrUnregistered)
	}
	if rt.isClosing() {
		return fmt.Errorf("runtime: wake %s: %w", id, ErrClosed)
	}
	rt.wakeAndAwait(ctx, id, reviveSuspended)
	return nil
}

// Terminate gives an activation up at once, without its flow's
// cooperation: its outcome is rejected with flow.ErrTerminated and its log
// deleted (kept with Options.KeepLogs). A resident guest leaves at its next
// crossing and performs nothing more — no compensation, no host call from a
// deferred function. To have the flow stop and undo what it did, request its
// cancellation instead (RequestCancel).
func (ad *Admin) Terminate(ctx context.Context, id flow.ActivationID) error {
	rt := ad.rt
	if rt == nil {
		return ad.terminateStored(ctx, id)
	}
	var e codec.Encoder
	e.EncodeError(flow.ErrTerminated)
	op := &store.Finish{Act: id, State: store.VowRejected, Payload: e.Bytes(), Gen: rt.gen, At: rt.clock.Now(), KeepLog: rt.opts.KeepLogs}

	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return fmt.Errorf("runtime: terminate %s: %w", id, ErrClosed)
	}
	a, resident := rt.active[id]
	if !resident {
		// Hold the place, so nothing revives it meanwhile.
		a = rt.newActivation(id)
		rt.active[id] = a
	}
	rt.mu.Unlock()
	if !resident && rt.shared != nil {
		if err := claimToTerminate(ctx, rt.st, id); err != nil {
			a.exit()
			return fmt.Errorf("runtime: terminate %s: %w", id, err)
		}
		rt.mu.Lock()
		a.claimed = true
		rt.mu.Unlock()
	}

	a.mu.Lock()
	a.kill() // writes still queued are not made: it performs nothing more
	m := a.m
	p := rt.st.Submit(op) // after every append of the guest
	a.mu.Unlock()
	if m != nil {
		m.Stop()
	}
	err := p.Wait()
	if err == nil && op.Finished {
		rt.mu.Lock()
		a.finished = true
		rt.mu.Unlock()
	}
	if !resident {
		a.exit()
	}
	if err != nil {
		return fmt.Errorf("runtime: terminate %s: %w", id, err)
	}
	if !op.Finished {
		return ad.notFinished(ctx, id)
	}
	rt.settled(op.Outcome, op.State, op.Payload, op.Waiters)
	return nil
}

func (ad *Admin) notFinished(ctx context.Context, id flow.ActivationID) error {
	if _, err := ad.st.Activation(ctx, id); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("runtime: terminate %s: %w", id, ErrUnknownActivation)
	}
	return fmt.Errorf("runtime: terminate %s: %w", id, ErrFinished)
}

// WakeAll replays every suspended activation of a registered flow now, so
// that an upgrade's stuck activations show up at once instead of when what
// they wait for settles. It returns how many it woke.
func (ad *Admin) WakeAll(ctx context.Context) (int, error) {
	if ad.rt == nil {
		return 0, fmt.Errorf("runtime: wake all: %w", ErrNoRuntime)
	}
	return ad.rt.wakeSuspended(ctx)
}

func (rt *Runtime) wakeSuspended(ctx context.Context) (int, error) {
	n := 0
	err := rt.Admin().each(ctx, ListOptions{State: StateSuspended}, func(i ActivationInfo) {
		if i.Registered {
			rt.wake(i.ID, reviveSuspended)
			n++
		}
	})
	return n, err
}

// purgeBatch is how many activations one purge transaction deletes, so
// that a long purge never holds the store's writer for long.
const purgeBatch = 1000

// Purge deletes the done activations that finished before before — rows,
// logs and outcome vows — in batches, calling progress (if not nil) with
// the count so far after each. It returns how many it purged. A purged
// activation is not found any more, and its StartWithID id may start a new
// one.
func (ad *Admin) Purge(ctx context.Context, before time.Time, progress func(purged int)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		op := &store.Purge{Before: before, Limit: purgeBatch}
		if err := store.Apply(ctx, ad.st, op); err != nil {
			return total, fmt.Errorf("runtime: purge: %w", err)
		}
		total += op.Purged
		if progress != nil && op.Purged > 0 {
			progress(total)
		}
		if op.Purged < purgeBatch {
			return total, nil
		}
	}
}

// retain purges, for Options.Retention, at Start and then periodically.
func (rt *Runtime) retain() {
	defer rt.loops.Done()
	every := min(rt.opts.Retention/10, time.Hour)
	every = max(every, time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := rt.Admin().Purge(rt.hostCtx, rt.clock.Now().Add(-rt.opts.Retention), nil)
		switch {
		case err != nil && rt.hostCtx.Err() == nil:
			rt.log.Error("asyncflow: purging finished activations", "err", err)
		case n > 0:
			rt.log.Info("asyncflow: purged finished activations", "count", n, "retention", rt.opts.Retention)
		}
		select {
		case <-rt.done:
			return
		case <-tick.C:
		}
	}
}

// Check verifies the store's integrity.
func (ad *Admin) Check(ctx context.Context) error { return ad.st.Check(ctx) }

func sortNewestFirst(infos []ActivationInfo) {
	slices.SortFunc(infos, func(a, b ActivationInfo) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return bytes.Compare(b.ID[:], a.ID[:])
	})
}
