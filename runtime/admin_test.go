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

// TestAdminWakeAndRetryReturnWhatTheReplayFound: Wake and Retry return once
// the replay they start has found what it finds, so the state an operator is
// shown next is the replay's verdict, not the one it had before.
func TestAdminWakeAndRetryReturnWhatTheReplayFound(t *testing.T) {
	v1 := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if _, err := h.Echo(fc, a); err != nil {
			return "", err
		}
		v, err := h.Ask(fc, "q-"+a)
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	}
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, v1)
	for _, key := range []string{"x", "y"} {
		_, err := e1.h.StartWithID(t.Context(), key, testkit.TellerRef("host"), key)
		require.NoError(t, err)
	}
	idOf := func(e *env, key string) flow.ActivationID {
		t.Helper()
		info, err := e.rt.Admin().Find(t.Context(), key)
		require.NoError(t, err)
		return info.ID
	}
	x, y := idOf(e1, "x"), idOf(e1, "y")
	e1.waitState(x, runtime.StateSuspended)
	e1.waitState(y, runtime.StateSuspended)
	e1.close()

	// b2 no longer reproduces x's log; it does y's.
	e2 := incarnation(t, path, "b2", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if a == "x" {
			a = "x, changed"
		}
		return v1(fc, h, a)
	})
	ad := e2.rt.Admin()
	require.NoError(t, ad.Wake(t.Context(), x))
	info, err := ad.Get(t.Context(), x)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateFailed, info.State, "wake returned before its replay failed")
	require.NotNil(t, info.Failure)
	assert.Equal(t, "b2", info.Failure.FailedBuild)

	require.NoError(t, ad.Wake(t.Context(), y))
	info, err = ad.Get(t.Context(), y)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, info.State, "y replays and waits again")
	assert.True(t, info.Resident)

	require.NoError(t, ad.Retry(t.Context(), x))
	info, err = ad.Get(t.Context(), x)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateFailed, info.State, "b2 still does not reproduce x")
	assert.ElementsMatch(t, []string{"Echo", "Ask", "Echo", "Ask"}, e1.host.Methods())
	assert.Empty(t, e2.host.Methods(), "replays call no host")

	// A host method that panicked failed z; once it is fixed, a retry
	// returns with z replayed and live, no longer failed.
	var fixed atomic.Bool
	e3 := incarnation(t, tempStore(t), "b3", runtime.Options{}, v1)
	e3.host.Hook = func(ctx context.Context, method string, args ...any) error {
		if method == "Echo" && !fixed.Load() {
			panic("not yet")
		}
		return nil
	}
	_, err = e3.h.StartWithID(t.Context(), "z", testkit.TellerRef("host"), "z")
	require.NoError(t, err)
	z := idOf(e3, "z")
	e3.waitState(z, runtime.StateFailed)
	eventually(t, func() bool {
		info, err := e3.rt.Admin().Get(t.Context(), z)
		require.NoError(t, err)
		return !info.Resident
	}, "the failed run gone")
	fixed.Store(true)
	require.NoError(t, e3.rt.Admin().Retry(t.Context(), z))
	info, err = e3.rt.Admin().Get(t.Context(), z)
	require.NoError(t, err)
	assert.Contains(t, []runtime.State{runtime.StateRunning, runtime.StateSuspended}, info.State,
		"retry returned before its replay reached the end of the log")
	assert.Nil(t, info.Failure)
	e3.waitState(z, runtime.StateSuspended)
}
