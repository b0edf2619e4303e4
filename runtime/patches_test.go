package runtime_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// The patch story in one process: v1 reserves then charges; v2 charges
// first without a patch; v3 wraps the change in flow.Patched; v4 retires the
// patch.

func reserveThenCharge(fc flow.Context, h testkit.Teller) error {
	if _, err := h.Echo(fc, "reserve"); err != nil {
		return err
	}
	_, err := h.Echo(fc, "charge")
	return err
}

func chargeThenReserve(fc flow.Context, h testkit.Teller) error {
	if _, err := h.Echo(fc, "charge"); err != nil {
		return err
	}
	_, err := h.Echo(fc, "reserve")
	return err
}

// ship waits for the packing answer, then ships.
func ship(fc flow.Context, h testkit.Teller, a string) (string, error) {
	v, err := h.Ask(fc, "packed "+a)
	if err != nil {
		return "", err
	}
	ans, err := flow.Await(fc, v)
	if err != nil {
		return "", err
	}
	return h.Echo(fc, "ship "+ans)
}

func patchV1(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if err := reserveThenCharge(fc, h); err != nil {
		return "", err
	}
	return ship(fc, h, a)
}

func patchV2(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if err := chargeThenReserve(fc, h); err != nil {
		return "", err
	}
	return ship(fc, h, a)
}

func patchV3(fc flow.Context, h testkit.Teller, a string) (string, error) {
	var err error
	if flow.Patched(fc, "charge-first") {
		err = chargeThenReserve(fc, h)
	} else {
		err = reserveThenCharge(fc, h)
	}
	if err != nil {
		return "", err
	}
	return ship(fc, h, a)
}

// patchV4 retires the patch.
var patchV4 = patchV2

// waiting is an activation suspended on its packing question.
type waiting struct {
	v     flow.Vow[string]
	id    flow.ActivationID
	asked flow.Vow[string] // the question's vow, to answer in a later incarnation
}

// suspendAs starts arg under e and waits until it waits for its packing.
func suspendAs(e *env, arg string) waiting {
	e.t.Helper()
	w := waiting{v: e.start(arg)}
	eventually(e.t, func() bool { _, ok := e.host.Asked("packed " + arg); return ok }, "the question of "+arg)
	asked, _ := e.host.Asked("packed " + arg)
	w.asked = flow.VowOf[string](asked)
	list, err := e.rt.Admin().List(e.t.Context(), runtime.ListOptions{})
	require.NoError(e.t, err)
	for _, i := range list {
		if i.Outcome == w.v.ID() {
			w.id = i.ID
		}
	}
	e.waitState(w.id, runtime.StateSuspended)
	return w
}

func (e *env) answer(w waiting, ans string) {
	e.t.Helper()
	require.NoError(e.t, runtime.Resolve(e.t.Context(), e.rt, w.asked, ans))
}

func TestReplayResolvesAPatchTheLogLeavesOpen(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "v1", runtime.Options{}, patchV1)
	old := suspendAs(e1, "old")
	e1.close()
	e2 := incarnation(t, path, "v2", runtime.Options{}, patchV2)
	mid := suspendAs(e2, "mid")
	e2.close()

	// v3 finishes both: the old one by the old branch, the one v2 started
	// by the new branch, which replay finds by itself.
	e3 := incarnation(t, path, "v3", runtime.Options{}, patchV3)
	e3.answer(old, "ok")
	e3.answer(mid, "ok")
	for _, w := range []waiting{old, mid} {
		got, err := e3.wait(w.v)
		require.NoError(t, err)
		assert.Equal(t, "ship ok", got)
	}
	assert.Equal(t, []string{"Echo", "Echo"}, e3.host.Methods(), "each only shipped: nothing was charged or reserved again")
	failures, err := e3.rt.Admin().Failures(t.Context())
	require.NoError(t, err)
	assert.Empty(t, failures)
}

func TestAPatchDecisionIsKeptInTheLog(t *testing.T) {
	path := tempStore(t)
	e2 := incarnation(t, path, "v2", runtime.Options{}, patchV2)
	mid := suspendAs(e2, "mid")
	id := mid.id
	e2.close()

	// v3 decides when woken, and records the decision as it goes live.
	e3 := incarnation(t, path, "v3", runtime.Options{WakeAll: true}, patchV3)
	var log []runtime.LogEntry
	eventually(t, func() bool {
		var err error
		log, err = e3.rt.Admin().Log(t.Context(), id)
		require.NoError(t, err)
		return len(log) == 4 && e3.waitState(id, runtime.StateSuspended).ID == id
	}, "the decision to be logged")
	assert.Equal(t, `replay decided flow.Patched("charge-first") = true (no marker where asked)`, log[3].Text)
	assert.Empty(t, e3.host.Calls())
	e3.close()

	// Another build without the patch replays it too: the decision marker is
	// no effect.
	e4 := incarnation(t, path, "v4", runtime.Options{WakeAll: true}, patchV4)
	e4.answer(mid, "ok")
	info := e4.waitState(id, runtime.StateDone)
	got, err := runtime.Wait(t.Context(), e4.rt, flow.VowOf[string](info.Outcome))
	require.NoError(t, err)
	assert.Equal(t, "ship ok", got)
}

func TestRetiringAPatch(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "v1", runtime.Options{}, patchV1)
	old := suspendAs(e1, "old")
	e1.close()
	e3 := incarnation(t, path, "v3", runtime.Options{}, patchV3)
	fresh := suspendAs(e3, "new")
	e3.close()

	// v4 deletes the patch: the activation v3 started, marker and all,
	// replays; the one v1 started, which would take the old branch, is
	// stuck — the patch was retired too early, as the replay gate run with
	// v4 would have said.
	e4 := incarnation(t, path, "v4", runtime.Options{WakeAll: true}, patchV4)
	e4.answer(fresh, "ok")
	got, err := e4.wait(fresh.v)
	require.NoError(t, err)
	assert.Equal(t, "ship ok", got)
	assert.Equal(t, []string{"Echo"}, e4.host.Methods())
	info := e4.waitState(old.id, runtime.StateFailed)
	assert.Equal(t, diag.OtherArguments, info.Failure.Problem)
	assert.Equal(t, `call service("host").Echo("charge")`, info.Failure.Got)
}

func TestAFailedPatchSearchSaysWhatItTried(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "v1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if _, err := h.Echo(fc, "pack"); err != nil {
			return "", err
		}
		return ship(fc, h, a)
	})
	id := suspendAs(e1, "x").id
	e1.close()
	e3 := incarnation(t, path, "v3", runtime.Options{WakeAll: true}, patchV3)
	info := e3.waitState(id, runtime.StateFailed)
	d := info.Failure
	require.NotNil(t, d)
	assert.Equal(t, diag.OtherArguments, d.Problem)
	assert.Equal(t, `call service("host").Echo("reserve")`, d.Got)
	text := strings.Join(d.Patches, "\n")
	assert.Contains(t, text, `flow.Patched("charge-first") = false: the log has no marker for it at step 0`)
	assert.Contains(t, text, `tried flow.Patched("charge-first") = true: other-arguments at step 0 (code did call service("host").Echo("charge"))`)
	assert.Contains(t, d.Error(), "after flow.Patched answers")
	assert.Empty(t, e3.host.Calls())
}
