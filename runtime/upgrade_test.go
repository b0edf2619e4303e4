package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

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
