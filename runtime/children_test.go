package runtime_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// family is one incarnation running a parent flow and, if withChild, its
// child flow.
type family struct {
	rt     *runtime.Runtime
	st     *sqlitestore.Store
	host   *testkit.Recorder
	parent testkit.Handle[string, string]
}

func childFlow(fc flow.Context, h testkit.Teller, a string) (string, error) {
	v, err := h.Ask(fc, "child "+a)
	if err != nil {
		return "", err
	}
	ans, err := flow.Await(fc, v)
	return "child " + a + ": " + ans, err
}

func openFamily(t *testing.T, path, build string, withChild, wakeAll bool) *family {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: build, Store: st, WakeAll: wakeAll, ReplayStall: 10 * time.Second})
	require.NoError(t, err)
	f := &family{rt: rt, st: st}
	f.host = &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", f.host)
	// The parent's handle names the child flow, registered or not.
	child := testkit.Register(flowsOnly{rt, withChild}, "test.Child", childFlow)
	f.parent = testkit.Register(rt, "test.Parent", func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v := child.Child(fc, h, a)
		r, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		_, err = h.Echo(fc, "parent saw "+r)
		return "parent: " + r, err
	})
	require.NoError(t, rt.Start(t.Context()))
	return f
}

func (f *family) close(t *testing.T) {
	require.NoError(t, f.rt.Close(t.Context()))
	require.NoError(t, f.st.Close(t.Context()))
}

func (f *family) answer(t *testing.T, q, a string) {
	t.Helper()
	var id flow.VowID
	eventually(t, func() bool {
		var ok bool
		id, ok = f.host.Asked(q)
		return ok
	}, "question "+q)
	require.NoError(t, runtime.Resolve(t.Context(), f.rt, flow.VowOf[string](id), a))
}

func (f *family) get(t *testing.T, id flow.ActivationID) runtime.ActivationInfo {
	t.Helper()
	info, err := f.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	return info
}

func TestAChildFlowIsAnActivationOfItsOwn(t *testing.T) {
	ctx := t.Context()
	path := tempStore(t)
	f1 := openFamily(t, path, "b1", true, false)
	v, err := f1.parent.StartWithID(ctx, "p-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	var parent, child runtime.ActivationInfo
	eventually(t, func() bool {
		list, err := f1.rt.Admin().List(ctx, runtime.ListOptions{Flow: "test.Child"})
		require.NoError(t, err)
		if len(list) == 1 && list[0].State == runtime.StateSuspended {
			child = list[0]
			return true
		}
		return false
	}, "the child waiting")
	parent = f1.get(t, child.Parent)
	assert.Equal(t, "p-1", parent.StartKey, "the child names its parent")
	assert.Equal(t, []flow.ActivationID{child.ID}, parent.Children, "and the parent its child")
	kids, err := f1.rt.Admin().Children(ctx, parent.ID)
	require.NoError(t, err)
	require.Len(t, kids, 1)
	assert.Equal(t, child.ID, kids[0].ID)
	assert.True(t, kids[0].Registered)
	clog, err := f1.rt.Admin().Log(ctx, child.ID)
	require.NoError(t, err)
	assert.Len(t, clog, 1, "the child has a log of its own")
	plog, err := f1.rt.Admin().Log(ctx, parent.ID)
	require.NoError(t, err)
	require.Len(t, plog, 1)
	assert.Contains(t, plog[0].Text, `child test.Child(service("host"), "x") = activation `+child.ID.String())
	f1.waitSuspended(t, parent.ID)
	asked, ok := f1.host.Asked("child x")
	require.True(t, ok)
	f1.close(t)

	// A build that replays the parent: the child is not started again.
	f2 := openFamily(t, path, "b2", true, true)
	f2.waitSuspended(t, parent.ID)
	list, err := f2.rt.Admin().List(ctx, runtime.ListOptions{Flow: "test.Child"})
	require.NoError(t, err)
	assert.Len(t, list, 1, "one child, whatever the parent's replays")
	require.NoError(t, runtime.Resolve(ctx, f2.rt, flow.VowOf[string](asked), "yes"))
	got, err := runtime.Wait(ctx, f2.rt, flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "parent: child x: yes", got)
	assert.Equal(t, runtime.StateDone, f2.get(t, child.ID).State)
	f2.close(t)
}

func TestAChildOfAFlowNotRegisteredWaitsForABuildThatIs(t *testing.T) {
	ctx := t.Context()
	path := tempStore(t)
	f1 := openFamily(t, path, "b1", false, false)
	v, err := f1.parent.Start(ctx, testkit.TellerRef("host"), "y")
	require.NoError(t, err)
	var child runtime.ActivationInfo
	eventually(t, func() bool {
		list, err := f1.rt.Admin().List(ctx, runtime.ListOptions{Flow: "test.Child"})
		require.NoError(t, err)
		if len(list) == 1 {
			child = list[0]
		}
		return len(list) == 1
	}, "the child")
	f1.waitSuspended(t, child.Parent)
	assert.False(t, child.Registered)
	assert.False(t, child.Resident, "this build does not run it")
	assert.Equal(t, runtime.StateRunning, f1.get(t, child.ID).State, "it waits to be run")
	unreg, err := f1.rt.Admin().Unregistered(ctx)
	require.NoError(t, err)
	assert.Len(t, unreg, 1)
	assert.Empty(t, f1.host.Calls(), "nothing of it ran")
	f1.close(t)

	f2 := openFamily(t, path, "b2", true, false)
	f2.answer(t, "child y", "ok")
	got, err := runtime.Wait(ctx, f2.rt, flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "parent: child y: ok", got)
	f2.close(t)
}

func (f *family) waitSuspended(t *testing.T, id flow.ActivationID) {
	t.Helper()
	eventually(t, func() bool { return f.get(t, id).State == runtime.StateSuspended }, "suspended")
}

// flowsOnly registers flows with the runtime only when run is set; without,
// it makes a handle that can start the flow as a child, in a build that
// does not run it.
type flowsOnly struct {
	*runtime.Runtime
	run bool
}

func (r flowsOnly) RegisterFlow(def flowimpl.FlowDef) flowimpl.Starter {
	if r.run {
		return r.Runtime.RegisterFlow(def)
	}
	return nil
}

// TestEachRunStartsChildrenOfItsOwn runs a flow that starts a child at the
// same step of every run and continues as new: each run's child is another
// activation, with an outcome of its own, so every run awaits the child it
// started, not one an earlier run started.
func TestEachRunStartsChildrenOfItsOwn(t *testing.T) {
	ctx := t.Context()
	var gens testkit.Handle[int, string]
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, v1, func(e *env) {
		kid := testkit.Register(e.rt, "test.Kid", func(fc flow.Context, h testkit.Teller, a string) (string, error) {
			return h.Echo(fc, "kid "+a)
		})
		gens = testkit.Register(e.rt, "test.Generations", func(fc flow.Context, h testkit.Teller, n int) (string, error) {
			got, err := flow.Await(fc, kid.Child(fc, h, strconv.Itoa(n))) // step 0 of every run
			if err != nil || n == 0 {
				return got, err
			}
			if got != "kid "+strconv.Itoa(n) {
				return "", fmt.Errorf("the run at %d got %q from its child", n, got)
			}
			return "", gens.ContinueAsNew(fc, h, n-1)
		})
	})
	v, err := gens.Start(ctx, testkit.TellerRef("host"), 3)
	require.NoError(t, err)
	got, err := runtime.Wait(ctx, e.rt, v)
	require.NoError(t, err)
	assert.Equal(t, "kid 0", got)

	list, err := e.rt.Admin().List(ctx, runtime.ListOptions{Flow: "test.Generations"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	kids, err := e.rt.Admin().Children(ctx, list[0].ID)
	require.NoError(t, err)
	assert.Len(t, kids, 4, "a child for each of the four runs")
}
