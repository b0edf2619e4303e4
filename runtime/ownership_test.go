package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
)

// TestRuntimeVowsAreNotTheHosts: an activation's outcome and a flow's timer
// belong to the runtime. Settling them from the host is refused with a clear
// error, and changes nothing: the timer fires at its deadline, and Wait
// returns the flow's own result.
func TestRuntimeVowsAreNotTheHosts(t *testing.T) {
	ctx := t.Context()
	clock := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		start := flow.Now(fc)
		flow.Sleep(fc, time.Hour)
		return "slept " + flow.Now(fc).Sub(start).String(), nil
	}
	e := incarnation(t, tempStore(t), "b", runtime.Options{Clock: clock}, body)
	v := e.start("")
	id := e.only().ID
	info := e.waitState(id, runtime.StateSuspended)
	require.Len(t, info.Waits, 1)
	timer := flow.VowOf[time.Time](info.Waits[0])

	refused := func(err error, what string) {
		t.Helper()
		assert.ErrorIs(t, err, runtime.ErrRuntimeVow, what)
		assert.NotErrorIs(t, err, runtime.ErrAlreadySettled, what)
	}
	err := runtime.Resolve(ctx, e.rt, timer, clock.Now())
	refused(err, "resolve a timer")
	assert.ErrorContains(t, err, "timer")
	refused(runtime.Reject(ctx, e.rt, timer, errors.New("wake up")), "reject a timer")
	err = runtime.Resolve(ctx, e.rt, v, "forged")
	refused(err, "resolve an outcome")
	assert.ErrorContains(t, err, "outcome")
	refused(runtime.Reject(ctx, e.rt, v, errors.New("forged")), "reject an outcome")

	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, runtime.StateSuspended, e.waitState(id, runtime.StateSuspended).State, "the timer has not fired")
	clock.Advance(time.Hour)
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "slept 1h0m0s", got, "the flow's own result")
	refused(runtime.Resolve(ctx, e.rt, v, "late"), "a settled outcome is still not the host's")
}
