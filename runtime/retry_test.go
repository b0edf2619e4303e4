package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
)

func flakyBody(fc flow.Context, h testkit.Teller, a string) (string, error) {
	return h.Flaky(fc, a)
}

// logTexts returns an activation's log, rendered.
func (e *env) logTexts(id flow.ActivationID) []string {
	e.t.Helper()
	log, err := e.rt.Admin().Log(e.t.Context(), id)
	require.NoError(e.t, err)
	var out []string
	for _, l := range log {
		out = append(out, l.Text)
	}
	return out
}

// flakyCalls returns the attempts of Teller.Flaky the host received.
func flakyCalls(r *testkit.Recorder) []testkit.Call {
	var out []testkit.Call
	for _, c := range r.Calls() {
		if c.Method == "Flaky" {
			out = append(out, c)
		}
	}
	return out
}

// TestRetryPolicyDeclaredOnTheHostInterface runs Teller.Flaky, whose
// policy flowgen generated from its directives: unregistered errors and
// ErrBusy are retried after backoffs that are durable timers, and the
// activation is suspended while it waits.
func TestRetryPolicyDeclaredOnTheHostInterface(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	e := incarnation(t, tempStore(t), "b1", runtime.Options{Clock: clock}, flakyBody, func(e *env) {
		e.host.FlakyErrs = []error{errors.New("connection reset"), fmt.Errorf("try later: %w", testkit.ErrBusy)}
	})
	v := e.start("x")
	id := e.only().ID

	e.waitState(id, runtime.StateSuspended)
	require.Len(t, flakyCalls(e.host), 1)
	clock.Advance(time.Minute - time.Second)
	time.Sleep(20 * time.Millisecond)
	assert.Len(t, flakyCalls(e.host), 1, "no attempt before its time")
	clock.Advance(time.Second)
	eventually(t, func() bool { return len(flakyCalls(e.host)) == 2 }, "the second attempt")
	e.waitState(id, runtime.StateSuspended)
	clock.Advance(3 * time.Minute) // the multiplier
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "x", got)

	calls := flakyCalls(e.host)
	require.Len(t, calls, 3)
	for i, c := range calls {
		assert.Equal(t, calls[0].Key, c.Key, "the attempts share the call's key")
		assert.Equal(t, fmt.Sprintf("%s#%d", c.Key, i+1), c.AttemptKey, "and each has its own")
		assert.True(t, c.HasDeadline, "the declared timeout is the attempt's deadline")
	}
}

func TestRetryDecisions(t *testing.T) {
	cases := []struct {
		name  string
		body  flowFunc
		errs  []error
		calls int
		err   string
	}{
		{"a registered error the policy does not list is an answer", flakyBody,
			[]error{fmt.Errorf("no: %w", testkit.ErrDenied)}, 1, "no: denied"},
		{"attempts run out", flakyBody,
			[]error{errors.New("1"), errors.New("2"), errors.New("3"), errors.New("4")}, 4, "4"},
		{"a policy set on the context replaces the declared one",
			func(fc flow.Context, h testkit.Teller, a string) (string, error) {
				return h.Flaky(flow.WithRetry(fc, flow.RetryPolicy{Attempts: 2, Backoff: time.Second}), a)
			},
			[]error{errors.New("1"), errors.New("2")}, 2, "2"},
		{"and applies to a method without one",
			func(fc flow.Context, h testkit.Teller, a string) (string, error) {
				ctx := flow.WithRetry(fc, flow.RetryPolicy{Attempts: 3, Backoff: time.Second, Retryable: []error{testkit.ErrDenied}})
				if err := h.Fail(ctx, "denied"); err != nil {
					return "", err
				}
				return "", nil
			},
			nil, 3, "payout to denied: denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
			e := incarnation(t, tempStore(t), "b1", runtime.Options{Clock: clock}, c.body, func(e *env) { e.host.FlakyErrs = c.errs })
			v := e.start("x")
			stop := make(chan struct{})
			defer close(stop)
			go func() { // time passes
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
						clock.Advance(time.Hour)
					}
				}
			}()
			_, err := e.wait(v)
			require.Error(t, err)
			assert.Equal(t, c.err, err.Error())
			assert.Len(t, e.host.Calls(), c.calls)
		})
	}
}

// An attempt that runs past its timeout ends with context.DeadlineExceeded,
// which is retried.
func TestAnAttemptPastItsTimeoutIsRetried(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		ctx := flow.WithRetry(fc, flow.RetryPolicy{Attempts: 2, Timeout: 50 * time.Millisecond})
		return h.Echo(ctx, a)
	}
	e := incarnation(t, tempStore(t), "b1", runtime.Options{Clock: clock}, body)
	e.host.Hook = func(ctx context.Context, method string, args ...any) error {
		if len(e.host.Calls()) == 1 {
			<-ctx.Done() // a hung attempt, given up at its deadline
			return errors.New("connection closed")
		}
		return nil
	}
	v := e.start("x")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	log := e.logTexts(id)
	require.Len(t, log, 1)
	assert.Contains(t, log[0], "context deadline exceeded: attempt 1 ran past its timeout of 50ms: connection closed")
	clock.Advance(time.Second)
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "x", got)
}

// A backoff pending when the process stops: the next incarnation makes the
// next attempt when its time comes, counting on, and replay hands back what
// was logged without waiting again.
func TestRetryBackoffSurvivesARestart(t *testing.T) {
	path := tempStore(t)
	clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		first, err := h.Flaky(fc, a)
		if err != nil {
			return "", err
		}
		second, err := flow.Await(fc, testkit.AsyncTeller(h).Flaky(fc, a+"+"))
		if err != nil {
			return "", err
		}
		q, err := h.Ask(fc, "done?")
		if err != nil {
			return "", err
		}
		if _, err := flow.Await(fc, q); err != nil {
			return "", err
		}
		return first + second, nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{Clock: clock}, body, func(e *env) { e.host.FlakyErrs = []error{errors.New("down")} })
	v := e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	info, err := e1.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, info.Waits, 1, "suspended on the backoff's timer")
	e1.close()

	clock.Advance(2 * time.Minute) // the attempt's time passes while no process runs
	e2 := incarnation(t, path, "b2", runtime.Options{Clock: clock}, body, func(e *env) {
		e.host.FlakyErrs = []error{nil, errors.New("down again")} // the future's first attempt fails
	})
	eventually(t, func() bool { return len(flakyCalls(e2.host)) == 2 }, "the call's second attempt and the future's first")
	e2.waitState(id, runtime.StateRunning) // the future waits for its backoff
	clock.Advance(2 * time.Minute)
	eventually(t, func() bool { _, ok := e2.host.Asked("done?"); return ok }, "the flow to go on")
	e2.waitState(id, runtime.StateSuspended)
	calls := flakyCalls(e2.host)
	require.Len(t, calls, 3)
	assert.True(t, strings.HasSuffix(calls[0].AttemptKey, "#2"), "the call counts on: %s", calls[0].AttemptKey)
	assert.True(t, strings.HasSuffix(calls[1].AttemptKey, "#1"), "the future's first attempt")
	assert.True(t, strings.HasSuffix(calls[2].AttemptKey, "#2"), "and its second")
	log := e2.logTexts(id)
	require.Len(t, log, 6)
	assert.Contains(t, log[0], `retry service("host").Flaky("x"): attempt 1 failed: error("down"); attempt 2 at 2026-11-27T09:01:00Z`)
	assert.Equal(t, `service("host").Flaky("x") → ["x"]`, log[1])
	assert.Contains(t, log[3], "retry future#1: attempt 1 failed")
	e2.close()

	// A replay hands back what was logged, without a call or a wait.
	e3 := incarnation(t, path, "b3", runtime.Options{Clock: clock}, body)
	asked, ok := e2.host.Asked("done?")
	require.True(t, ok)
	require.NoError(t, runtime.Resolve(t.Context(), e3.rt, flow.VowOf[string](asked), "yes"))
	got, err := e3.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "xx+", got)
	assert.Empty(t, e3.host.Calls())
}
