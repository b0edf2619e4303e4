package runtime

import (
	"errors"
	"time"

	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// The runtime's own goroutines: the timer loop, which fires durable timers
// as their deadlines pass, and the watchdog, which fails replays that make no
// progress.

// kickTimers tells the timer loop to look at the earliest deadline again.
func (rt *Runtime) kickTimers() {
	select {
	case rt.timerKick <- struct{}{}:
	default:
	}
}

func (rt *Runtime) timerLoop() {
	defer rt.loops.Done()
	failures := 0 // reads or firings that failed in a row
	for {
		next, ok, err := rt.st.NextDeadline(rt.hostCtx)
		if err == nil {
			var fire <-chan time.Time
			stop := func() {}
			if ok {
				fire, stop = rt.clock.NewTimer(next.Sub(rt.clock.Now()))
			}
			select {
			case <-fire:
				err = rt.fireTimers()
			case <-rt.timerKick:
			case <-rt.done:
				stop()
				return
			}
			stop()
		}
		if err == nil {
			if failures > 0 && !errors.Is(rt.timerErr, store.ErrUnavailable) {
				rt.log.Info("asyncflow: timers fire again", "after failures", failures)
			}
			failures, rt.timerErr = 0, nil
			continue
		}
		if rt.hostCtx.Err() != nil {
			return
		}
		// A timer that cannot fire stays due: wait before trying again,
		// rather than fire it again at once. A store that cannot take
		// writes is logged once for everything that writes; another failure
		// once until the timers fire again.
		if errors.Is(err, store.ErrUnavailable) {
			rt.health.unwritable(err)
		} else if failures == 0 {
			rt.log.Error("asyncflow: timers cannot fire; retrying with backoff", "err", err)
		}
		rt.timerErr = err
		t := time.NewTimer(backoff(failures))
		select {
		case <-rt.health.upChan():
		case <-t.C:
		case <-rt.done:
			t.Stop()
			return
		}
		t.Stop()
		failures++
	}
}

// fireTimers fires every timer that is due.
func (rt *Runtime) fireTimers() error {
	for {
		op := &store.FireTimers{Now: rt.clock.Now(), Limit: 1000, Gen: rt.gen, EncodeDeadline: encodeTime}
		if err := rt.st.Submit(op).Wait(); err != nil {
			return err
		}
		rt.health.writable()
		for _, f := range op.Fired {
			rt.settled(f.Vow, store.VowFulfilled, f.Payload, f.Waiters)
		}
		if len(op.Fired) < op.Limit {
			return nil
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
				go a.forget()
			}
		}
	}
}
