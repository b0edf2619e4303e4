package runtime_test

import (
	"context"
	"database/sql"
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
	av, err := e.rt.Store().Vow(ctx, asked)
	require.NoError(t, err)
	ov, err := e.rt.Store().Vow(ctx, info.Outcome)
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

// suspendedV1 runs v1 in a first incarnation until it waits for its answer.
func suspendedV1(t *testing.T, path, build, arg string) (*env, flow.Vow[string], flow.ActivationID) {
	t.Helper()
	e := incarnation(t, path, build, runtime.Options{}, v1)
	v := e.start(arg)
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	return e, v, id
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

func TestCorruptLogRowFailsClearly(t *testing.T) {
	path := tempStore(t)
	e1, _, id := suspendedV1(t, path, "b1", "x")
	e1.close()

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE entries SET payload = x'ff00ff' WHERE step = 2`)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE entries SET kind = 99 WHERE step = 3`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, v1)
	info := e2.waitState(id, runtime.StateFailed)
	assert.Equal(t, diag.CorruptLog, info.Failure.Problem)
	assert.Equal(t, int64(2), info.Failure.Step)
	assert.Contains(t, info.Failure.Detail, "does not decode")
	assert.Empty(t, e2.host.Calls())
	log, err := e2.rt.Admin().Log(t.Context(), id)
	require.NoError(t, err)
	assert.Contains(t, log[2].Text, "corrupt entry")
	assert.Contains(t, log[3].Text, "unknown entry kind 99")
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

func TestUnknownServiceIsIllegal(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	_, err := e.h.Start(t.Context(), testkit.TellerRef("nowhere"), "x")
	require.NoError(t, err)
	info := e.waitState(e.only().ID, runtime.StateFailed)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, `service("nowhere") is not provided`)
}

func TestUnknownServiceIsIllegalForFuturesToo(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return flow.Await(fc, testkit.AsyncTeller(h).Echo(fc, a))
	})
	_, err := e.h.Start(t.Context(), testkit.TellerRef("nowhere"), "x")
	require.NoError(t, err)
	info := e.waitState(e.only().ID, runtime.StateFailed)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.Contains(t, info.Failure.Got, `go service("nowhere").Echo("x") as future#1`)
	assert.Contains(t, info.Failure.Detail, `service("nowhere") is not provided`)
	assert.Empty(t, e.host.Calls())
}

func TestFixedBuildUnsticksFailedActivations(t *testing.T) {
	u := upgradeTo(t, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		_, _ = h.Add(fc, 5, 5)
		return "", nil
	}, runtime.Options{})
	u.e2.close()

	// Build three is compatible again: Start retries the failed activation,
	// whose replay now reproduces the log; it suspends again, then finishes.
	e3 := incarnation(t, u.e1.path, "build-three", runtime.Options{}, v1)
	e3.waitState(u.id, runtime.StateSuspended)
	require.NoError(t, runtime.Resolve(t.Context(), e3.rt, flow.VowOf[string](u.asked), "ok"))
	info := e3.waitState(u.id, runtime.StateDone)
	assert.Nil(t, info.Failure)
	got, err := runtime.Wait(t.Context(), e3.rt, flow.VowOf[string](info.Outcome))
	require.NoError(t, err)
	assert.Equal(t, "after ok", got)
	assert.Equal(t, []string{"Echo"}, e3.host.Methods())
	failures, err := e3.rt.Admin().Failures(t.Context())
	require.NoError(t, err)
	assert.Empty(t, failures)
}

func TestPatchedKeepsOldPathForOldActivations(t *testing.T) {
	path := tempStore(t)
	e1, vOld, _ := suspendedV1(t, path, "b1", "old")
	asked, _ := e1.host.Asked("q")
	e1.close()

	v3 := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if _, err := h.Echo(fc, "a"); err != nil {
			return "", err
		}
		flow.Now(fc)
		if flow.Patched(fc, "skip-add") {
			if _, err := h.Echo(fc, "new path"); err != nil {
				return "", err
			}
		} else {
			if _, err := h.Add(fc, 1, 2); err != nil {
				return "", err
			}
		}
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		ans, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		return h.Echo(fc, "after "+ans)
	}
	e3 := incarnation(t, path, "b3", runtime.Options{}, v3)
	require.NoError(t, runtime.Resolve(t.Context(), e3.rt, flow.VowOf[string](asked), "yes"))
	got, err := e3.wait(vOld)
	require.NoError(t, err)
	assert.Equal(t, "after yes", got)
	assert.Equal(t, []string{"Echo"}, e3.host.Methods(), "the old activation replayed the old path")

	vNew := e3.start("new")
	eventually(t, func() bool { _, ok := e3.host.Asked("q"); return ok }, "the new activation to ask")
	newAsked, _ := e3.host.Asked("q")
	require.NoError(t, runtime.Resolve(t.Context(), e3.rt, flow.VowOf[string](newAsked), "ok"))
	got, err = e3.wait(vNew)
	require.NoError(t, err)
	assert.Equal(t, "after ok", got)
	assert.Equal(t, []string{"Echo", "Echo", "Echo", "Ask", "Echo"}, e3.host.Methods(), "the new activation took the new path")
}

// RecordV2 is testkit.Record with one more field.
type RecordV2 struct {
	Name   string
	Amount int64
	Tags   []string
	Memo   string
}

func TestNewStructFieldReplays(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		r, err := h.Save(fc, testkit.Record{Name: "n", Amount: 5})
		if err != nil {
			return "", err
		}
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		ans, err := flow.Await(fc, v)
		return r.Name + ans, err
	})
	vo := e1.start("")
	e1.waitState(e1.only().ID, runtime.StateSuspended)
	asked, _ := e1.host.Asked("q")
	e1.close()

	// Build two passes and reads a struct with one more field, left zero.
	e2 := incarnation(t, path, "b2", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		args, err := codec.MarshalTuple(RecordV2{Name: "n", Amount: 5})
		if err != nil {
			return "", err
		}
		res, err := flowimpl.Call(fc, h.(flowimpl.Referrer).FlowRef(), "Save", codec.NewEncoder(args))
		if err != nil {
			return "", err
		}
		var r RecordV2
		flowimpl.DecodeResult(fc, "Host.Save", res, &r)
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		ans, err := flow.Await(fc, v)
		return r.Name + r.Memo + ans + r.Tags[0], err
	})
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "!"))
	got, err := e2.wait(vo)
	require.NoError(t, err)
	assert.Equal(t, "n!saved", got)
	assert.Empty(t, e2.host.Calls())
}
