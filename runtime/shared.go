package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// On a shared store (store.Shared: several processes on one PostgreSQL
// database) the runtime runs an activation only while its handle owns it:
// it claims one before it revives it and releases it when the run ends; it
// owns those it creates. What other processes do reaches it as events: a
// settlement that wakes what it owns, a poll to adopt what no live process
// owns (their owner died, or failed them on its build) and to look at timers
// again, and word that its own lease lapsed and was taken over — then every
// resident run stops before the process rejoins with a new lease. A write a
// fenced run makes fails with store.ErrFenced, and the run ends as one cut
// short by a shutdown does.

// adoptBatch is how many activations one Adopt claims at most.
const adoptBatch = 500

// claim makes the run's handle the owner of its activation, if the store is
// shared and it does not own it yet. It returns false if the run must not go
// on: another process owns the activation, or it is done, or this build
// failed it. A claim that keeps failing (lock timeouts, a lost connection)
// may have landed: the activation is released, for Adopt to find.
func (a *activation) claim(mode reviveMode) bool {
	rt := a.rt
	rt.mu.Lock()
	owned := rt.shared == nil || a.claimed
	rt.mu.Unlock()
	if owned {
		return true
	}
	for try := 1; ; try++ {
		ok, err := rt.shared.Claim(rt.hostCtx, a.id, mode == reviveRetry)
		if err == nil {
			if ok {
				rt.mu.Lock()
				a.claimed = true
				rt.mu.Unlock()
			}
			return ok
		}
		if rt.hostCtx.Err() != nil || errors.Is(err, store.ErrFenced) || errors.Is(err, store.ErrClosed) {
			return false
		}
		if try == 3 {
			rt.log.Warn("asyncflow: cannot claim activation", "activation", a.id, "err", err)
			rt.release(a.id)
			return false
		}
		time.Sleep(time.Duration(try) * 50 * time.Millisecond)
	}
}

// release gives an activation up after its run ended here. A release lost
// with its connection is tried again: until it lands, no other process may
// take the activation while this one lives.
func (rt *Runtime) release(id flow.ActivationID) {
	for try := 1; ; try++ {
		err := rt.shared.Release(context.Background(), id)
		if err == nil || errors.Is(err, store.ErrClosed) {
			return
		}
		if try == 3 {
			rt.log.Warn("asyncflow: cannot release activation", "activation", id, "err", err)
			return
		}
		time.Sleep(time.Duration(try) * 100 * time.Millisecond)
	}
}

// events handles what the shared store tells this process.
func (rt *Runtime) events() {
	defer rt.loops.Done()
	for {
		var ev store.Event
		var ok bool
		select {
		case <-rt.done:
			return
		case ev, ok = <-rt.shared.Events():
			if !ok {
				return
			}
		}
		switch ev.Kind {
		case store.VowSettled:
			go rt.settledElsewhere(ev.Vow, ev.Waiters)
		case store.Poll:
			if ev.Missed {
				rt.missedEvents()
			}
			rt.kickTimers() // another process may have set an earlier one
			rt.adopt(rt.hostCtx)
		case store.Fenced:
			// Everything resident was owned under the lapsed lease: stop it
			// all; what still runs is adopted again, here or elsewhere.
			rt.mu.Lock()
			acts := make([]*activation, 0, len(rt.active))
			for _, a := range rt.active {
				acts = append(acts, a)
			}
			rt.mu.Unlock()
			rt.log.Warn("asyncflow: this process's lease lapsed and was taken over; its resident activations stop", "resident", len(acts))
			for _, a := range acts {
				a.stop() // from now on it submits nothing
			}
			if err := rt.shared.Rejoin(rt.hostCtx); err != nil {
				if rt.hostCtx.Err() == nil {
					rt.log.Error("asyncflow: cannot rejoin the store after a takeover", "err", err)
				}
				continue // the next Poll adopts nothing until a Rejoin
			}
			rt.adopt(rt.hostCtx)
		}
	}
}

// settledElsewhere routes a settlement another process made, as settled
// does one of this process's.
func (rt *Runtime) settledElsewhere(vow flow.VowID, waiters []flow.ActivationID) {
	rt.mu.Lock()
	_, hostWaits := rt.hostWaiters[vow]
	rt.mu.Unlock()
	if len(waiters) == 0 && !hostWaits {
		return
	}
	v, err := rt.st.Vow(rt.hostCtx, vow)
	if err != nil {
		if rt.hostCtx.Err() == nil {
			rt.log.Warn("asyncflow: cannot read a vow settled elsewhere", "vow", vow, "err", err)
		}
		return
	}
	rt.settled(vow, v.State, v.Payload, waiters)
}

// missedEvents makes up for settlements that may have gone unheard: host
// waiters look at their vows again, and parked activations leave, so that
// those woken meanwhile are adopted and replayed.
func (rt *Runtime) missedEvents() {
	rt.mu.Lock()
	waiters := rt.hostWaiters
	rt.hostWaiters = map[flow.VowID][]chan struct{}{}
	var parked []*activation
	for e := rt.parked.Front(); e != nil; e = e.Next() {
		parked = append(parked, e.Value.(*activation))
	}
	rt.mu.Unlock()
	for _, chans := range waiters {
		for _, c := range chans {
			close(c)
		}
	}
	for _, a := range parked {
		if a.m != nil {
			a.m.RequestEvict()
		}
	}
}

// adopt claims, and revives, the activations of registered flows that no
// live process owns and this build has not failed. It returns how many.
func (rt *Runtime) adopt(ctx context.Context) int {
	rt.mu.Lock()
	names := make([]string, 0, len(rt.flows))
	for name := range rt.flows {
		names = append(names, name)
	}
	rt.mu.Unlock()
	total := 0
	for {
		n, err := rt.shared.Adopt(ctx, names, adoptBatch, func(id flow.ActivationID, _ string, _ store.State) error {
			rt.adopted(id)
			return nil
		})
		total += n
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, store.ErrClosed) {
				rt.log.Warn("asyncflow: cannot adopt activations", "err", err)
			}
			return total
		}
		if n < adoptBatch {
			return total
		}
	}
}

// adopted revives an activation this process has just claimed. One still
// resident here ran under a lease that lapsed: it stops, and runs again.
func (rt *Runtime) adopted(id flow.ActivationID) {
	rt.mu.Lock()
	a, resident := rt.active[id]
	if resident {
		a.rewake, a.rewakeM = true, reviveRetry
	}
	rt.mu.Unlock()
	if resident {
		a.stop()
		return
	}
	rt.wakeOwned(id)
}

// claimToTerminate takes an activation no live process holds, so that this
// handle may finish it. On a store that is not shared there is nothing to
// take.
func claimToTerminate(ctx context.Context, st store.Store, id flow.ActivationID) error {
	sh, ok := st.(store.Shared)
	if !ok {
		return nil
	}
	ok, err := sh.Claim(ctx, id, true)
	if err != nil || ok {
		return err
	}
	row, err := st.Activation(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrUnknownActivation
	case err == nil && row.State == store.Done:
		return ErrFinished
	}
	return ErrElsewhere
}
