package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// snapshot is what a failed replay must leave exactly as it was.
type snapshot struct {
	log     []runtime.LogEntry
	asked   store.Vow
	outcome store.Vow
}

func take(t *testing.T, e *env, id flow.ActivationID, asked flow.VowID) snapshot {
	t.Helper()
	ctx := t.Context()
	log, err := e.rt.Admin().Log(ctx, id)
	require.NoError(t, err)
	info, err := e.rt.Admin().Get(ctx, id)
	require.NoError(t, err)
	av, err := e.st.Vow(ctx, asked)
	require.NoError(t, err)
	ov, err := e.st.Vow(ctx, info.Outcome)
	require.NoError(t, err)
	return snapshot{log: log, asked: av, outcome: ov}
}

// upgraded runs v1 until it suspends, then a second build running v2 that
// replays every activation at start, and returns the second incarnation once
// the activation has failed, with its diagnostic.
type upgraded struct {
	e1, e2 *env
	id     flow.ActivationID
	asked  flow.VowID
	before snapshot
	d      *diag.Diagnostic
}

func upgradeTo(t *testing.T, v2 flowFunc, opts runtime.Options) *upgraded {
	t.Helper()
	path := tempStore(t)
	u := &upgraded{}
	u.e1, _, u.id = suspendedV1(t, path, "build-one", "x")
	var ok bool
	u.asked, ok = u.e1.host.Asked("q")
	require.True(t, ok)
	u.before = take(t, u.e1, u.id, u.asked)
	require.Len(t, u.before.log, 4)
	u.e1.close()

	opts.WakeAll = true
	u.e2 = incarnation(t, path, "build-two", opts, v2)
	info := u.e2.waitState(u.id, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	u.d = info.Failure
	return u
}

// harmless checks a failed replay did nothing: no host call, the log, the
// vow it waits for and its outcome as they were.
func (u *upgraded) harmless(t *testing.T) {
	t.Helper()
	eventually(t, func() bool {
		info, err := u.e2.rt.Admin().Get(t.Context(), u.id)
		require.NoError(t, err)
		return !info.Resident
	}, "the failed guest to leave")
	assert.Empty(t, u.e2.host.Calls(), "no host call after a replay failure")
	after := take(t, u.e2, u.id, u.asked)
	assert.Equal(t, u.before, after, "log rows and vows exactly as they were")
	assert.Equal(t, store.VowPending, after.outcome.State)
	assert.Equal(t, "build-one", u.d.WrittenBuild)
	assert.Equal(t, "build-two", u.d.FailedBuild)
	assert.Equal(t, int64(1), u.d.WrittenGen)
	assert.Equal(t, int64(2), u.d.FailedGen)
	assert.Equal(t, u.id, u.d.Activation)
	assert.Equal(t, "test.F", u.d.Flow)
}

func TestReplayFailureOtherCall(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Add(fc, 1, 2) // was Echo("a")
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.OtherCall, u.d.Problem)
	assert.Equal(t, int64(0), u.d.Step)
	assert.Equal(t, `service("host").Echo("a") → ["a"]`, u.d.Logged)
	assert.Equal(t, `call service("host").Add(1, 2)`, u.d.Got)
	assert.Regexp(t, `^runtime/replay_test.go:\d+$`, u.d.Site)
	msg := u.d.Error()
	for _, want := range []string{"stuck", "different host method", "log step:  0", "build-one", "build-two", u.d.Site} {
		assert.Contains(t, msg, want)
	}
}

func TestReplayFailureOtherArguments(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		flow.Now(fc)
		_, _ = h.Add(fc, 1, 3) // was Add(1, 2)
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.OtherArguments, u.d.Problem)
	assert.Equal(t, int64(2), u.d.Step)
	assert.Equal(t, `service("host").Add(1, 2) → [3]`, u.d.Logged)
	assert.Equal(t, `call service("host").Add(1, 3)`, u.d.Got)
}

func TestReplayFailureExtraCall(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		_, _ = h.Echo(fc, "new") // the log has flow.Now here
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.ExtraCall, u.d.Problem)
	assert.Equal(t, int64(1), u.d.Step)
	assert.True(t, strings.HasPrefix(u.d.Logged, "flow.Now() = "), u.d.Logged)
}

func TestReplayFailureStoppedShort(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		flow.Now(fc)
		v := flow.After(fc, time.Hour) // the log has Add here
		flow.Await(fc, v)
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.StoppedShort, u.d.Problem)
	assert.Equal(t, int64(2), u.d.Step)
	assert.Equal(t, "flow.After(1h0m0s)", u.d.Got)
}

func TestReplayFailureReturnedEarly(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		return "short", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.ReturnedEarly, u.d.Problem)
	assert.Equal(t, int64(1), u.d.Step)
	assert.Equal(t, `return "short"`, u.d.Got)
	assert.Contains(t, u.d.Detail, "3 log entries remain")
}

func TestReplayFailureOtherStep(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		flow.Sleep(fc, time.Minute) // the log has flow.Now here
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.OtherStep, u.d.Problem)
	assert.Equal(t, "flow.After(1m0s)", u.d.Got)
}

func TestReplayFailureUndecodable(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		flow.Now(fc)
		// The result type changed from int64 to a struct.
		args, _ := codec.MarshalTuple(1, 2)
		res, err := flowimpl.Call(fc, h.(flowimpl.Referrer).FlowRef(), "Add", codec.NewEncoder(args))
		if err != nil {
			return "", err
		}
		var out struct{ Sum int }
		flowimpl.DecodeResult(fc, "Host.Add", res, &out)
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.Undecodable, u.d.Problem)
	assert.Equal(t, int64(2), u.d.Step)
	assert.Contains(t, u.d.Detail, "does not decode")
	assert.Contains(t, u.d.Logged, "Add(1, 2)")
}

func TestReplayFailureGuestPanic(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		var m map[string]int
		//lint:ignore SA5000 the bug in the new build that this test is about
		m["boom"]++
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.GuestPanic, u.d.Problem)
	assert.Contains(t, u.d.Detail, "assignment to entry in nil map")
	assert.Contains(t, u.d.Stack, "replay_test.go")
	assert.Regexp(t, `^runtime/replay_test.go:\d+$`, u.d.Site)
	assert.Equal(t, int64(1), u.d.Step)
}

func TestReplayFailureStall(t *testing.T) {
	unblock := make(chan struct{})
	defer close(unblock)
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Echo(fc, "a")
		<-unblock // blocks outside the membrane
		_, _ = h.Echo(fc, "never")
		return "", nil
	}, runtime.Options{ReplayStall: 200 * time.Millisecond})
	u.harmless(t)
	assert.Equal(t, diag.Stalled, u.d.Problem)
	assert.Equal(t, int64(1), u.d.Step)
	assert.Contains(t, u.d.Detail, "no crossing")
}

func TestRevokedGuestCannotActFromDefersOrRecover(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		defer func() {
			_, _ = h.Echo(fc, "from the outer defer") // ends the guest again
		}()
		defer func() {
			panic("a panic on the way out") // contained
		}()
		defer func() {
			recover() // cannot stop the membrane's exit
			_, _ = h.Echo(fc, "after recover")
		}()
		_, _ = h.Echo(fc, "a")
		_, _ = h.Echo(fc, "b") // diverges: the log has flow.Now
		return "", nil
	}, runtime.Options{})
	u.harmless(t)
	assert.Equal(t, diag.ExtraCall, u.d.Problem, "the first failure is the one recorded")
	assert.Equal(t, int64(1), u.d.Step)
}
