package membrane

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

var errRegistered = errors.New("registered answer")

func init() { flow.RegisterError("membrane_test.Registered", errRegistered) }

// flaky makes the host's method Flaky fail with each error of errs in turn,
// then echo its arguments.
func flaky(h *fakeHost, errs ...error) {
	var mu sync.Mutex
	h.methods["Flaky"] = func(args []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			err := errs[0]
			errs = errs[1:]
			return nil, err
		}
		return args, nil
	}
}

var policy = flowimpl.NewPolicy(flowimpl.Policy{Attempts: 3, Backoff: time.Second, Multiplier: 3, Timeout: 5 * time.Second})

// timerOf waits for the n-th timer the run has made and returns it.
func timerOf(t *testing.T, h *fakeHost, n int) Timer {
	t.Helper()
	var timer Timer
	eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.timers) < n {
			return false
		}
		timer = h.timers[n-1]
		return true
	}, fmt.Sprintf("timer %d", n))
	return timer
}

func texts(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, Describe(e))
	}
	return out
}

func TestACallIsRetriedAfterADurableBackoff(t *testing.T) {
	h := newHost()
	flaky(h, errors.New("connection reset"), errors.New("connection reset"))
	s := func(g *Membrane) ([]byte, error) { return g.CallWith(host, "Flaky", tuple(t, "x"), policy) }
	g := start(h, nil, s)

	first := timerOf(t, h, 1)
	assert.True(t, first.Deadline.Equal(h.now.Add(time.Second)), "the first backoff")
	eventually(t, func() bool { return g.m.Mode() == ModeParked }, "the guest to park for the backoff")
	h.mu.Lock()
	assert.True(t, h.suspended, "a backoff with nothing in flight suspends the activation")
	assert.Len(t, h.calls, 1, "no attempt before the timer fires")
	h.mu.Unlock()
	h.settle(g.m, first.Vow, Settlement{Value: value(t, first.Deadline)})

	second := timerOf(t, h, 2)
	assert.True(t, second.Deadline.Equal(h.now.Add(3*time.Second)), "the backoff grows by the multiplier")
	h.settle(g.m, second.Vow, Settlement{Value: value(t, second.Deadline)})
	g.wait(t)
	require.True(t, g.returned)
	require.NoError(t, g.err)
	assert.Equal(t, tuple(t, "x"), g.result)

	calls, appended, failed := h.snapshot()
	assert.Empty(t, failed)
	require.Len(t, calls, 3)
	for i, c := range calls {
		assert.Equal(t, i+1, c.Attempt)
		assert.Equal(t, calls[0].IdempotencyKey(), c.IdempotencyKey(), "every attempt has the call's key")
		assert.Equal(t, fmt.Sprintf("%s#%d", c.IdempotencyKey(), i+1), c.AttemptKey(), "and one of its own")
	}
	assert.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}, h.timeouts, "each attempt has the timeout")
	log := texts(appended)
	require.Len(t, log, 3)
	assert.Equal(t, `retry service("host").Flaky("x"): attempt 1 failed: error("connection reset"); attempt 2 at 2026-11-27T09:00:01Z (vow:`+first.Vow.String()+`)`, log[0])
	assert.Contains(t, log[1], "attempt 2 failed")
	assert.Equal(t, `service("host").Flaky("x") → ["x"]`, log[2])

	// Replaying the whole log: the result at once, no call, no wait.
	r := newHost()
	r.methods = nil
	again := start(r, appended, s)
	again.wait(t)
	require.True(t, again.returned)
	assert.Equal(t, g.result, again.result)
	calls, more, failed := r.snapshot()
	assert.Empty(t, calls)
	assert.Empty(t, more)
	assert.Empty(t, failed)
	assert.Empty(t, r.watched, "nothing is waited for")

	// Replaying up to the second retry: the third attempt once its timer
	// has fired, counted on.
	r = newHost()
	flaky(r)
	r.vows[second.Vow] = &Settlement{Value: value(t, second.Deadline)}
	part := start(r, appended[:2], s)
	part.wait(t)
	require.True(t, part.returned)
	calls, more, _ = r.snapshot()
	require.Len(t, calls, 1)
	assert.Equal(t, 3, calls[0].Attempt)
	assert.Equal(t, log[2], Describe(more[0]))
	assert.Equal(t, int64(2), more[0].Step)
}

func TestWhatIsRetried(t *testing.T) {
	withList := flowimpl.NewPolicy(flowimpl.Policy{Attempts: 2, Retryable: []string{"membrane_test.Registered"}})
	cases := []struct {
		name    string
		p       *flowimpl.Policy
		err     error
		retried bool
	}{
		{"an unregistered error", policy, errors.New("boom"), true},
		{"a registered error", policy, fmt.Errorf("wrapped: %w", errRegistered), false},
		{"a registered error the policy lists", withList, fmt.Errorf("wrapped: %w", errRegistered), true},
		{"a deadline", policy, fmt.Errorf("late: %w", contextDeadline), true},
		{"no policy", nil, errors.New("boom"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHost()
			flaky(h, c.err)
			g := start(h, nil, func(g *Membrane) ([]byte, error) { return g.CallWith(host, "Flaky", tuple(t, "x"), c.p) })
			if c.retried {
				timer := timerOf(t, h, 1)
				h.settle(g.m, timer.Vow, Settlement{})
			}
			g.wait(t)
			require.True(t, g.returned)
			calls, _, _ := h.snapshot()
			if c.retried {
				assert.NoError(t, g.err)
				assert.Len(t, calls, 2)
			} else {
				assert.Error(t, g.err)
				assert.Len(t, calls, 1)
			}
		})
	}
}

func TestAttemptsRunOut(t *testing.T) {
	h := newHost()
	flaky(h, errors.New("one"), errors.New("two"), errors.New("three"), errors.New("four"))
	g := start(h, nil, func(g *Membrane) ([]byte, error) { return g.CallWith(host, "Flaky", tuple(t, "x"), policy) })
	for i := 1; i <= 2; i++ {
		timer := timerOf(t, h, i)
		h.settle(g.m, timer.Vow, Settlement{})
	}
	g.wait(t)
	require.True(t, g.returned)
	require.EqualError(t, g.err, "three", "the last attempt's error is the call's")
	calls, appended, _ := h.snapshot()
	assert.Len(t, calls, 3)
	assert.Equal(t, `service("host").Flaky("x") → error error("three")`, Describe(appended[len(appended)-1]))
}

func TestAFutureIsRetried(t *testing.T) {
	h := newHost()
	flaky(h, errors.New("connection reset"))
	s := func(g *Membrane) ([]byte, error) {
		f := g.IssueWith(host, "Flaky", tuple(t, "f"), policy)
		return await(g, flow.AwaitKey{Future: f})
	}
	g := start(h, nil, s)
	timer := timerOf(t, h, 1)
	h.mu.Lock()
	assert.False(t, h.suspended, "a future in its backoff is a call in flight")
	h.mu.Unlock()
	h.settle(g.m, timer.Vow, Settlement{})
	g.wait(t)
	require.True(t, g.returned)
	require.NoError(t, g.err)
	assert.Equal(t, tuple(t, "f"), g.result)
	calls, appended, failed := h.snapshot()
	assert.Empty(t, failed)
	require.Len(t, calls, 2)
	assert.Equal(t, 2, calls[1].Attempt)
	assert.Equal(t, calls[0].IdempotencyKey(), calls[1].IdempotencyKey())
	log := texts(appended)
	require.Len(t, log, 3)
	assert.Equal(t, `go service("host").Flaky("f") as future#1`, log[0])
	assert.True(t, strings.HasPrefix(log[1], `retry future#1: attempt 1 failed: error("connection reset"); attempt 2 at`), log[1])
	assert.Equal(t, `future#1 settled → ["f"]`, log[2])

	// Replayed, the marker is taken in wherever it stands.
	r := newHost()
	r.methods = nil
	again := start(r, appended, s)
	again.wait(t)
	require.True(t, again.returned)
	assert.Equal(t, g.result, again.result)
	calls, more, _ := r.snapshot()
	assert.Empty(t, calls)
	assert.Empty(t, more)

	// Replayed up to the marker: the future is issued again at its second
	// attempt, after its timer.
	r = newHost()
	flaky(r)
	r.vows[timer.Vow] = &Settlement{}
	part := start(r, appended[:2], s)
	part.wait(t)
	require.True(t, part.returned)
	calls, _, _ = r.snapshot()
	require.Len(t, calls, 1)
	assert.Equal(t, 2, calls[0].Attempt)
}

func TestAFutureNeverAwaitedIsRetriedBeforeTheRunEnds(t *testing.T) {
	h := newHost()
	flaky(h, errors.New("connection reset"))
	s := func(g *Membrane) ([]byte, error) {
		g.IssueWith(host, "Flaky", tuple(t, "f"), policy)
		return nil, nil
	}
	g := start(h, nil, s)
	timer := timerOf(t, h, 1)
	h.settle(g.m, timer.Vow, Settlement{})
	g.wait(t)
	require.True(t, g.returned)
	calls, appended, _ := h.snapshot()
	require.Len(t, calls, 2)
	require.Len(t, appended, 2, "the issue and its retry")

	// The retry, logged after the return, is no entry the guest left
	// unreplayed.
	r := newHost()
	flaky(r)
	r.vows[timer.Vow] = &Settlement{}
	again := start(r, appended, s)
	again.wait(t)
	require.True(t, again.returned)
	_, _, failed := r.snapshot()
	assert.Empty(t, failed)
	calls, _, _ = r.snapshot()
	require.Len(t, calls, 1, "the call it may never have made is made")
	assert.Equal(t, 2, calls[0].Attempt)
}

func TestARetryOfAnotherCallDiverges(t *testing.T) {
	h := newHost()
	flaky(h, errors.New("connection reset"))
	g := start(h, nil, func(g *Membrane) ([]byte, error) { return g.CallWith(host, "Flaky", tuple(t, "x"), policy) })
	timerOf(t, h, 1)
	g.m.Stop()
	g.wait(t)
	_, appended, _ := h.snapshot()
	require.Len(t, appended, 1)

	r := newHost()
	again := start(r, appended, func(g *Membrane) ([]byte, error) { return g.CallWith(host, "Flaky", tuple(t, "y"), policy) })
	again.wait(t)
	_, _, failed := r.snapshot()
	require.Len(t, failed, 1)
	assert.Equal(t, diag.OtherArguments, failed[0].Problem)
	assert.Equal(t, `call service("host").Flaky("y")`, failed[0].Got)

	r = newHost()
	again = start(r, appended, func(g *Membrane) ([]byte, error) { g.Now(); return nil, nil })
	again.wait(t)
	_, _, failed = r.snapshot()
	require.Len(t, failed, 1)
	assert.Equal(t, diag.StoppedShort, failed[0].Problem, "a retry is part of a call")
}

func TestDelays(t *testing.T) {
	p := flowimpl.NewPolicy(flowimpl.Policy{Attempts: 10, Backoff: time.Second, MaxBackoff: 10 * time.Second})
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, p.Delay(a))
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}, got)
	d := flowimpl.NewPolicy(flowimpl.Policy{Attempts: 2})
	assert.Equal(t, time.Second, d.Delay(1), "default backoff")
	assert.Equal(t, 100*time.Second, d.MaxBackoff)
	assert.Equal(t, 1000*time.Second/10, d.Delay(1000), "bounded, even far out")
}

var contextDeadline = contextDeadlineErr()

func contextDeadlineErr() error {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	return ctx.Err()
}

// TestARefusedRetryMarkerFailsTheRun: a store that refuses for good the
// marker of a future's retry fails the activation with a diagnostic, as any
// refused write does, instead of ending the run with nothing recorded.
func TestARefusedRetryMarkerFailsTheRun(t *testing.T) {
	h := newHost()
	flaky(h, errors.New("connection reset"))
	durable := &blocked{release: make(chan struct{})}
	close(durable.release)
	refused := &blocked{release: make(chan struct{}), err: &Refused{Err: errors.New("value too big")}}
	close(refused.release)
	appends := 0
	h.commit = func() Commit { // called with h.mu held
		appends++
		if appends == 1 {
			return durable
		}
		return refused
	}
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		f := g.IssueWith(host, "Flaky", tuple(t, "f"), policy)
		return await(g, flow.AwaitKey{Future: f})
	})
	g.wait(t)
	assert.False(t, g.returned)
	_, _, failed := h.snapshot()
	require.Len(t, failed, 1)
	assert.Equal(t, diag.StoreRefused, failed[0].Problem)
	assert.Contains(t, failed[0].Detail, "value too big")
}
