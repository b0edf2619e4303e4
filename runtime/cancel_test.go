package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// cancellable asks a question and races the answer against its
// cancellation; cancelled, it undoes what it did with a host call and
// returns ErrCancelled with the reason.
func cancellable(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if _, err := h.Echo(fc, "reserve "+a); err != nil {
		return "", err
	}
	answer, err := h.Ask(fc, "go on?")
	if err != nil {
		return "", err
	}
	cancel := flow.Cancellation(fc)
	if flow.Race(fc, answer, cancel) == 1 {
		reason, err := flow.Await(fc, cancel)
		if err != nil {
			return "", err
		}
		if _, err := h.Echo(fc, "release "+a); err != nil { // compensation, live
			return "", err
		}
		return "", fmt.Errorf("%s: %w: %s", a, flow.ErrCancelled, reason)
	}
	return flow.Await(fc, answer)
}

func TestRequestCancel(t *testing.T) {
	path := tempStore(t)
	e := incarnation(t, path, "b1", runtime.Options{}, cancellable)
	v := e.start("x")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	_, requested, err := e.rt.Admin().CancelRequested(t.Context(), id)
	require.NoError(t, err)
	assert.False(t, requested)

	require.NoError(t, e.rt.Admin().RequestCancel(t.Context(), id, "customer called"))
	_, err = e.wait(v)
	require.Error(t, err)
	assert.ErrorIs(t, err, flow.ErrCancelled, "the outcome is what the flow returned")
	assert.Equal(t, "x: flow: activation cancelled: customer called", err.Error())
	assert.Equal(t, []string{"Echo", "Ask", "Echo"}, e.host.Methods(), "the compensation reached the host")
	assert.Equal(t, "release x", e.host.Calls()[2].Args)
	reason, requested, err := e.rt.Admin().CancelRequested(t.Context(), id)
	require.NoError(t, err)
	assert.True(t, requested)
	assert.Equal(t, "customer called", reason)

	assert.ErrorIs(t, e.rt.Admin().RequestCancel(t.Context(), id, "again"), runtime.ErrFinished)
	assert.ErrorIs(t, e.rt.Admin().RequestCancel(t.Context(), flow.NewActivationID(), ""), runtime.ErrUnknownActivation)
}

// A request made before the flow asks, even before it runs, stands: the flow
// finds its cancellation settled when it looks.
func TestCancelRequestedBeforeTheFlowLooks(t *testing.T) {
	release := make(chan struct{})
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, cancellable, func(e *env) {
		e.host.Hook = func(ctx context.Context, method string, args ...any) error {
			if method == "Echo" && args[0] == "reserve x" {
				<-release
			}
			return nil
		}
	})
	v := e.start("x")
	id := e.only().ID
	eventually(t, func() bool { return len(e.host.Calls()) == 1 }, "the first call")
	require.NoError(t, e.rt.Admin().RequestCancel(t.Context(), id, "early"))
	require.NoError(t, e.rt.Admin().RequestCancel(t.Context(), id, "twice"), "asking again changes nothing")
	close(release)
	_, err := e.wait(v)
	assert.ErrorIs(t, err, flow.ErrCancelled)
	assert.Contains(t, err.Error(), "early", "the first request stands")
}

// A cancellation requested while no process runs is found by the next
// incarnation; its observation is logged, so a restart during the
// compensation replays it, and the compensation goes on.
func TestCancelAcrossRestarts(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, cancellable)
	v := e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	ad, err := runtime.OpenAdmin(t.Context(), path, runtime.AdminOptions{Write: true})
	require.NoError(t, err)
	require.NoError(t, ad.RequestCancel(t.Context(), id, "while down"))
	require.NoError(t, ad.Close(t.Context()))

	// The compensation is cut short: the process stops while it runs.
	blocked := make(chan struct{})
	e2 := incarnation(t, path, "b2", runtime.Options{}, cancellable, func(e *env) {
		e.host.Hook = func(ctx context.Context, method string, args ...any) error {
			close(blocked)
			<-ctx.Done()
			return ctx.Err()
		}
	})
	<-blocked
	log := e2.logTexts(id)
	require.Len(t, log, 3)
	assert.Contains(t, log[2], `settled → "while down"`, "the flow saw the request, logged")
	e2.close()

	e3 := incarnation(t, path, "b3", runtime.Options{}, cancellable)
	_, err = e3.wait(v)
	assert.ErrorIs(t, err, flow.ErrCancelled)
	assert.Contains(t, err.Error(), "while down")
	calls := e3.host.Calls()
	require.Len(t, calls, 1, "the replay makes only the compensation")
	assert.Equal(t, "release x", calls[0].Args)
	assert.Equal(t, id.String()+"/2/host.Echo", calls[0].Key, "with the key it had when it was cut short")
}

// The request stands for the activation's later runs.
func TestCancelCarriesOverToTheNextRun(t *testing.T) {
	e, cd := countdownIncarnation(t, tempStore(t), "b1")
	v, err := cd.Start(t.Context(), testkit.TellerRef("host"), 4, flow.Vow[string]{}, "")
	require.NoError(t, err)
	id := e.only().ID
	eventually(t, func() bool { _, ok := e.host.Asked("two?"); return ok }, "the run at 2")
	e.waitState(id, runtime.StateSuspended)
	require.NoError(t, e.rt.Admin().RequestCancel(t.Context(), id, "stop counting"))
	// The run at 1 awaits the vow carried from the run at 2, not its
	// cancellation; answered, the run at 0 finds it requested.
	info, err := e.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, info.State, "a flow that does not look runs on")
	asked, _ := e.host.Asked("two?")
	require.NoError(t, runtime.Resolve(t.Context(), e.rt, flow.VowOf[string](asked), "go"))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "liftoff after go", got)
	reason, requested, err := e.rt.Admin().CancelRequested(t.Context(), id)
	require.NoError(t, err)
	assert.True(t, requested)
	assert.Equal(t, "stop counting", reason)
}

// The cancellation vow is the runtime's: a host cannot settle it.
func TestAHostCannotSettleACancellation(t *testing.T) {
	var vow flow.VowID
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		vow = flow.Cancellation(fc).ID()
		return flow.Await(fc, flow.Cancellation(fc))
	})
	v := e.start("x")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	err := runtime.Resolve(t.Context(), e.rt, flow.VowOf[string](vow), "forged")
	assert.ErrorIs(t, err, runtime.ErrRuntimeVow)
	assert.Contains(t, err.Error(), "an activation's cancellation")
	require.NoError(t, e.rt.Admin().RequestCancel(t.Context(), id, "real"))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "real", got)
	assert.False(t, errors.Is(err, flow.ErrCancelled))
}

// boss starts cancellable as its child and races the child's outcome
// against its own cancellation; cancelled, it waits for what the child made
// of the request, which reached it too.
func registerBoss(e *env) testkit.Handle[string, string] {
	worker := testkit.Register(e.rt, "test.Worker", cancellable)
	return testkit.Register(e.rt, "test.Boss", func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		kid := worker.Child(fc, h, a)
		cancel := flow.Cancellation(fc)
		// The cancellation first: when both have settled by the time the
		// boss runs (its child compensated before it was revived), the
		// first in argument order wins.
		if flow.Race(fc, cancel, kid) == 0 {
			_, kerr := flow.Await(fc, kid)
			return "", fmt.Errorf("boss %s: %w (child: %v)", a, flow.ErrCancelled, kerr)
		}
		return flow.Await(fc, kid)
	})
}

// A cancellation requested, while no process runs, of an activation whose
// child is unfinished is requested of the child too, in the same
// transaction: the next incarnation runs the child's compensation and the
// parent's.
func TestCancelReachesTheChildren(t *testing.T) {
	ctx := t.Context()
	path := tempStore(t)
	var boss testkit.Handle[string, string]
	e1 := incarnation(t, path, "b1", runtime.Options{}, v1, func(e *env) { boss = registerBoss(e) })
	v, err := boss.Start(ctx, testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	var parent, child runtime.ActivationInfo
	eventually(t, func() bool {
		list, err := e1.rt.Admin().List(ctx, runtime.ListOptions{Flow: "test.Worker"})
		require.NoError(t, err)
		if len(list) != 1 || list[0].State != runtime.StateSuspended {
			return false
		}
		child = list[0]
		return true
	}, "the child waiting for its answer")
	parent = e1.waitState(child.Parent, runtime.StateSuspended)
	e1.close()

	ad, err := runtime.OpenAdmin(ctx, path, runtime.AdminOptions{Write: true})
	require.NoError(t, err)
	require.NoError(t, ad.RequestCancel(ctx, parent.ID, "stop"))
	reason, requested, err := ad.CancelRequested(ctx, child.ID)
	require.NoError(t, err)
	assert.True(t, requested, "the child was asked too")
	assert.Equal(t, "stop", reason, "with its parent's reason")
	require.NoError(t, ad.Close(ctx))

	e2 := incarnation(t, path, "b2", runtime.Options{}, v1, func(e *env) { boss = registerBoss(e) })
	_, err = runtime.Wait(ctx, e2.rt, v)
	assert.ErrorIs(t, err, flow.ErrCancelled)
	assert.EqualError(t, err, "boss x: flow: activation cancelled (child: x: flow: activation cancelled: stop)")
	calls := e2.host.Calls()
	require.Len(t, calls, 1, "the child's compensation, made once")
	assert.Equal(t, "release x", calls[0].Args)
	assert.ErrorIs(t, e2.rt.Admin().RequestCancel(ctx, parent.ID, "again"), runtime.ErrFinished)
}

// Live, the request wakes the child where it waits, as it does the parent.
func TestCancelReachesTheChildrenLive(t *testing.T) {
	ctx := t.Context()
	var boss testkit.Handle[string, string]
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, v1, func(e *env) { boss = registerBoss(e) })
	v, err := boss.Start(ctx, testkit.TellerRef("host"), "y")
	require.NoError(t, err)
	eventually(t, func() bool { _, ok := e.host.Asked("go on?"); return ok }, "the child asking")
	list, err := e.rt.Admin().List(ctx, runtime.ListOptions{Flow: "test.Boss"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NoError(t, e.rt.Admin().RequestCancel(ctx, list[0].ID, "live"))
	_, err = runtime.Wait(ctx, e.rt, v)
	assert.EqualError(t, err, "boss y: flow: activation cancelled (child: y: flow: activation cancelled: live)")
}
