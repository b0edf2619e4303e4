package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

func TestCloseCutsHostCallsShortWithoutLogging(t *testing.T) {
	path := tempStore(t)
	entered := make(chan struct{}, 1)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if _, err := h.Echo(fc, "first"); err != nil {
			return "", err
		}
		return h.Echo(fc, "slow")
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	e1.host.Hook = func(ctx context.Context, method string, args ...any) error {
		if args[0] == "slow" {
			entered <- struct{}{}
			<-ctx.Done() // shutdown cancels the call's context
			return ctx.Err()
		}
		return nil
	}
	v := e1.start("")
	id := e1.only().ID
	<-entered
	e1.close()

	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	log, err := st.Log(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, log, 1, "the cut-short call was not logged")
	require.NoError(t, st.Close(t.Context()))

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "slow", got)
	assert.Equal(t, []string{"Echo"}, e2.host.Methods(), "it is made again; the first is answered from the log")
	assert.Equal(t, e1.host.Calls()[1].Key, e2.host.Calls()[0].Key)
}

func TestHostPanicIsNotLoggedAndRetried(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, "fragile")
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	e1.host.Hook = func(ctx context.Context, method string, args ...any) error { panic("host bug") }
	v := e1.start("")
	id := e1.only().ID
	info := e1.waitState(id, runtime.StateFailed)
	assert.Equal(t, diag.HostPanic, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "host bug")
	assert.Contains(t, info.Failure.Stack, "testkit")
	log, _ := e1.rt.Admin().Log(t.Context(), id)
	assert.Empty(t, log, "a host panic is not a result")
	key := e1.host.Calls()[0].Key
	e1.close()

	// The fixed build retries it at start and makes the call again, with its key.
	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "fragile", got)
	assert.Equal(t, key, e2.host.Calls()[0].Key)
}

func TestAMistypedServiceFailsAtStart(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	_, err := e.h.Start(t.Context(), testkit.TellerRef("hots"), "x")
	require.ErrorIs(t, err, flow.ErrUnknownService)
	assert.EqualError(t, err, `runtime: start test.F: an argument refers to service("hots"): flow: no such service: it is not provided in this incarnation (provided: "host")`)
	n, err := e.rt.Admin().Count(t.Context(), runtime.ListOptions{})
	require.NoError(t, err)
	assert.Zero(t, n, "nothing started")
	assert.Empty(t, e.host.Calls())
}

// goneService runs f in a first incarnation that also provides the testkit
// host as "extra", started with a reference to it, until the activation
// waits for its answer; and returns a second incarnation, which provides
// "host" only, with the answer given.
func goneService(t *testing.T, f flowFunc) (*env, flow.ActivationID) {
	t.Helper()
	path := tempStore(t)
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: "b1"})
	require.NoError(t, err)
	extra := &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) {
		return runtime.NewVow[string](ctx, rt)
	}}
	testkit.ProvideTeller(rt, "extra", extra)
	h := testkit.Register(rt, "test.F", f)
	require.NoError(t, rt.Start(t.Context()))
	_, err = h.Start(t.Context(), testkit.TellerRef("extra"), "x")
	require.NoError(t, err)
	eventually(t, func() bool {
		n, err := rt.Admin().Count(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
		require.NoError(t, err)
		return n == 1
	}, "the activation to wait")
	asked, ok := extra.Asked("q")
	require.True(t, ok)
	require.NoError(t, rt.Close(t.Context()))

	e := incarnation(t, path, "b2", runtime.Options{}, f)
	require.NoError(t, runtime.Resolve(t.Context(), e.rt, flow.VowOf[string](asked), "go"))
	return e, e.only().ID
}

func TestAServiceNoLongerProvidedIsIllegal(t *testing.T) {
	e, id := goneService(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		if _, err := flow.Await(fc, v); err != nil {
			return "", err
		}
		return h.Echo(fc, a)
	})
	info := e.waitState(id, runtime.StateFailed)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, `service("extra") is not provided`)
}

func TestAServiceNoLongerProvidedIsIllegalForFuturesToo(t *testing.T) {
	e, id := goneService(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		if _, err := flow.Await(fc, v); err != nil {
			return "", err
		}
		return flow.Await(fc, testkit.AsyncTeller(h).Echo(fc, a))
	})
	info := e.waitState(id, runtime.StateFailed)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.Contains(t, info.Failure.Got, `go service("extra").Echo("x") as future#1`)
	assert.Contains(t, info.Failure.Detail, `service("extra") is not provided`)
	assert.Empty(t, e.host.Calls())
}
