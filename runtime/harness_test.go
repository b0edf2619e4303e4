// The harness the runtime tests share: one incarnation of a host program in
// this process, on a real SQLite store, and v1, the first build of the flow
// most upgrade tests start from.

package runtime_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

type flowFunc = func(fc flow.Context, h testkit.Teller, a string) (string, error)

// env is one incarnation of a host program, in this process.
type env struct {
	t    *testing.T
	path string
	st   *sqlitestore.Store // the runtime's store, which the test may read
	rt   *runtime.Runtime
	host *testkit.Recorder
	h    testkit.Handle[string, string]
}

// incarnation opens the SQLite store at path and a runtime on it, as a new
// incarnation that provides the testkit host as "host" and runs f as the
// flow "test.F". prepare, if given, runs before the runtime starts.
func incarnation(t *testing.T, path string, build string, opts runtime.Options, f flowFunc, prepare ...func(*env)) *env {
	t.Helper()
	opts.Build = build
	if opts.ReplayStall == 0 {
		opts.ReplayStall = 10 * time.Second
	}
	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	opts.Store = st
	rt, err := runtime.Open(t.Context(), path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	e := &env{t: t, path: path, st: st, rt: rt}
	e.host = &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", e.host)
	e.h = testkit.Register(rt, "test.F", f)
	for _, p := range prepare {
		p(e)
	}
	require.NoError(t, rt.Start(t.Context()))
	return e
}

// close ends the incarnation: the runtime, then its store.
func (e *env) close() {
	e.t.Helper()
	require.NoError(e.t, e.rt.Close(e.t.Context()))
	require.NoError(e.t, e.st.Close(e.t.Context()))
}

func (e *env) start(arg string) flow.Vow[string] {
	e.t.Helper()
	v, err := e.h.Start(e.t.Context(), testkit.TellerRef("host"), arg)
	require.NoError(e.t, err)
	return v
}

func (e *env) wait(v flow.Vow[string]) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 20*time.Second)
	defer cancel()
	return runtime.Wait(ctx, e.rt, v)
}

// eventually waits for cond.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *env) waitState(id flow.ActivationID, want runtime.State) runtime.ActivationInfo {
	e.t.Helper()
	var info runtime.ActivationInfo
	eventually(e.t, func() bool {
		var err error
		info, err = e.rt.Admin().Get(e.t.Context(), id)
		require.NoError(e.t, err)
		return info.State == want
	}, "state "+string(want))
	return info
}

// only returns the single activation in the store.
func (e *env) only() runtime.ActivationInfo {
	e.t.Helper()
	list, err := e.rt.Admin().List(e.t.Context(), runtime.ListOptions{})
	require.NoError(e.t, err)
	require.Len(e.t, list, 1)
	return list[0]
}

func (e *env) ask(q, answer string) {
	e.t.Helper()
	var id flow.VowID
	eventually(e.t, func() bool {
		var ok bool
		id, ok = e.host.Asked(q)
		return ok
	}, "question "+q)
	require.NoError(e.t, runtime.Resolve(e.t.Context(), e.rt, flow.VowOf[string](id), answer))
}

func tempStore(t *testing.T) string { return filepath.Join(t.TempDir(), "app.db") }

// v1 is the flow as the first build has it; its activation suspends on the
// vow Ask returns, past four log entries.
func v1(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if _, err := h.Echo(fc, "a"); err != nil { // step 0
		return "", err
	}
	flow.Now(fc)                               // step 1
	if _, err := h.Add(fc, 1, 2); err != nil { // step 2
		return "", err
	}
	v, err := h.Ask(fc, "q") // step 3
	if err != nil {
		return "", err
	}
	ans, err := flow.Await(fc, v) // suspends here
	if err != nil {
		return "", err
	}
	return h.Echo(fc, "after "+ans)
}

// suspendedV1 runs v1 in a first incarnation until it waits for its answer.
func suspendedV1(t *testing.T, path, build, arg string) (*env, flow.Vow[string], flow.ActivationID) {
	t.Helper()
	e := incarnation(t, path, build, runtime.Options{}, v1)
	v := e.start(arg)
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	return e, v, id
}
