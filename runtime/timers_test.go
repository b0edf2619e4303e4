package runtime_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
)

func TestTimersSurviveRestart(t *testing.T) {
	path := tempStore(t)
	clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		start := flow.Now(fc)
		flow.Sleep(fc, 48*time.Hour)
		end := flow.Now(fc)
		return end.Sub(start).String(), nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{Clock: clock}, body)
	v := e1.start("")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	clock.Advance(47 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, runtime.StateSuspended, e1.waitState(id, runtime.StateSuspended).State)
	e1.close()

	clock.Advance(2 * time.Hour) // the deadline passes while no process runs
	e2 := incarnation(t, path, "b2", runtime.Options{Clock: clock}, body)
	got, err := e2.wait(flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "49h0m0s", got)
}

func TestRaceAgainstATimer(t *testing.T) {
	path := tempStore(t)
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		approval, err := h.Ask(fc, "approve?")
		if err != nil {
			return "", err
		}
		timeout := flow.After(fc, 72*time.Hour)
		if flow.Race(fc, approval, timeout) == 1 {
			at, _ := flow.Await(fc, timeout)
			return "timed out at " + at.UTC().Format(time.RFC3339), nil
		}
		return flow.Await(fc, approval)
	}
	e1 := incarnation(t, path, "b1", runtime.Options{Clock: clock}, body)
	v := e1.start("")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	info, err := e1.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Len(t, info.Waits, 2, "it waits for the approval and the timer")
	e1.close()

	clock.Advance(73 * time.Hour)
	e2 := incarnation(t, path, "b2", runtime.Options{Clock: clock}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "timed out at 2026-01-04T00:00:00Z", got)
	// Approving now changes nothing: the race is decided and logged.
	asked, _ := e1.host.Asked("approve?")
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "too late"))
}
