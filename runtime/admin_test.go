package runtime_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

func TestTerminate(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		defer func() { _, _ = h.Echo(fc, "cleanup") }() // a crossing from a defer after termination
		return flow.Await(fc, v)
	})
	v := e.start("")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	require.NoError(t, e.rt.Admin().Terminate(t.Context(), id))
	_, err := e.wait(v)
	assert.ErrorIs(t, err, flow.ErrTerminated)
	e.waitState(id, runtime.StateDone)
	// The guest leaves at its next crossing, after the outcome is settled.
	eventually(t, func() bool {
		info, err := e.rt.Admin().Get(t.Context(), id)
		require.NoError(t, err)
		return !info.Resident
	}, "the terminated guest gone")
	log, _ := e.rt.Admin().Log(t.Context(), id)
	assert.Empty(t, log)
	assert.Equal(t, []string{"Ask"}, e.host.Methods(), "the deferred call never reaches the host")
	assert.ErrorIs(t, e.rt.Admin().Terminate(t.Context(), id), runtime.ErrFinished)
	assert.ErrorIs(t, e.rt.Admin().Terminate(t.Context(), flow.NewActivationID()), runtime.ErrUnknownActivation)
}

func TestAdminRetry(t *testing.T) {
	var fixed atomic.Bool
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	e.host.Hook = func(ctx context.Context, method string, args ...any) error {
		if !fixed.Load() {
			panic("not yet")
		}
		return nil
	}
	v := e.start("again")
	id := e.only().ID
	e.waitState(id, runtime.StateFailed)
	assert.ErrorIs(t, e.rt.Admin().Retry(t.Context(), flow.NewActivationID()), runtime.ErrUnknownActivation)
	fixed.Store(true)
	// The failed run may not have left yet; the retry is kept until it has.
	require.NoError(t, e.rt.Admin().Retry(t.Context(), id))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "again", got)
	assert.ErrorIs(t, e.rt.Admin().Retry(t.Context(), id), runtime.ErrNotFailed)
}

func TestUnregisteredFlowsAreLeftAlone(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, a)
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	})
	e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	// An incarnation that registers no flow at all.
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: "b2"})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	require.NoError(t, rt.Start(t.Context()))
	un, err := rt.Admin().Unregistered(t.Context())
	require.NoError(t, err)
	require.Len(t, un, 1)
	assert.Equal(t, id, un[0].ID)
	assert.False(t, un[0].Registered)
	n, err := rt.Admin().WakeAll(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
}

// holdReplay, when set, blocks a replay of replayHeld between its first and
// second crossing.
var holdReplay = make(chan struct{})

func TestAdminReportsAReplayAsReplaying(t *testing.T) {
	var hold atomic.Bool
	flowFn := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if _, err := h.Echo(fc, "a"); err != nil {
			return "", err
		}
		if hold.Load() {
			<-holdReplay // outside the membrane: the replay waits here
		}
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	}
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, flowFn)
	e1.start("")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	hold.Store(true)
	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, flowFn)
	info := e2.waitState(id, runtime.StateReplaying)
	assert.True(t, info.Resident)
	list, err := e2.rt.Admin().List(t.Context(), runtime.ListOptions{State: runtime.StateReplaying})
	require.NoError(t, err)
	require.Len(t, list, 1, "listed as replaying, whatever it is stored as")
	list, err = e2.rt.Admin().List(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
	require.NoError(t, err)
	require.Len(t, list, 1, "and under its stored state")
	assert.Equal(t, runtime.StateReplaying, list[0].State)
	holdReplay <- struct{}{}
	e2.waitState(id, runtime.StateSuspended)
}
