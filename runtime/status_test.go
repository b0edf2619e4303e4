package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// staged publishes its stage before and after waiting for an answer.
func staged(fc flow.Context, h testkit.Teller, a string) (string, error) {
	stage := flowimpl.Status[string]("stage")
	stage.Set(fc, "asking")
	v, err := h.Ask(fc, "q")
	if err != nil {
		return "", err
	}
	ans, err := flow.Await(fc, v)
	if err != nil {
		return "", err
	}
	stage.Set(fc, "answered "+ans)
	return ans, nil
}

func TestStatusIsReadWithoutWakingTheActivation(t *testing.T) {
	ctx := t.Context()
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, staged)
	v, err := e1.h.StartWithID(ctx, "order-1", testkit.TellerRef("host"), "")
	require.NoError(t, err)
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	asked, _ := e1.host.Asked("q")
	e1.close()

	e2 := incarnation(t, path, "b2", runtime.Options{}, staged)
	byKey := flowimpl.Recipient{Key: "order-1"}
	got, ok, err := testkit.Status[string](ctx, e2.h, byKey, "stage")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "asking", got)
	got, ok, err = runtime.ReadStatus[string](ctx, e2.rt, id, "stage")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "asking", got)
	_, ok, err = runtime.ReadStatus[string](ctx, e2.rt, id, "eta")
	require.NoError(t, err)
	assert.False(t, ok, "nothing published under that name")
	info, err := e2.rt.Admin().Get(ctx, id)
	require.NoError(t, err)
	assert.False(t, info.Resident, "reading woke nothing")
	assert.Equal(t, runtime.StateSuspended, info.State)
	assert.Equal(t, []runtime.Published{{Name: "stage", Text: `"asking"`, Value: info.Statuses[0].Value, Gen: e1.rt.Generation()}}, info.Statuses)

	// The replay that the answer wakes does not publish again; the flow
	// then publishes live.
	require.NoError(t, runtime.Resolve(ctx, e2.rt, flow.VowOf[string](asked), "yes"))
	_, err = e2.wait(v)
	require.NoError(t, err)
	sts, err := e2.rt.Admin().Statuses(ctx, id)
	require.NoError(t, err)
	require.Len(t, sts, 1)
	assert.Equal(t, runtime.Published{Name: "stage", Text: `"answered yes"`, Value: sts[0].Value, Gen: e2.rt.Generation()}, sts[0])
	got, ok, err = testkit.Status[string](ctx, e2.h, byKey, "stage")
	require.NoError(t, err)
	assert.True(t, ok, "a finished activation's status stays readable")
	assert.Equal(t, "answered yes", got)
	log, err := e2.rt.Admin().Log(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, log, "done: the log is gone, the status is not")

	_, _, err = testkit.Status[string](ctx, e2.h, flowimpl.Recipient{Key: "nope"}, "stage")
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation)
	_, _, err = testkit.Status[int](ctx, e2.h, byKey, "stage")
	assert.ErrorContains(t, err, `does not decode`, "a status read as the wrong type")
	e2.close()

	// An operator's tool reads it from the store alone.
	ad, err := runtime.OpenAdmin(ctx, path, runtime.AdminOptions{})
	require.NoError(t, err)
	defer ad.Close(ctx)
	found, err := ad.Find(ctx, "order-1")
	require.NoError(t, err)
	require.Len(t, found.Statuses, 1)
	assert.Equal(t, `"answered yes"`, found.Statuses[0].Text)
}

func TestStatusLogEntry(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, staged)
	e.start("")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	log, err := e.rt.Admin().Log(t.Context(), id)
	require.NoError(t, err)
	require.NotEmpty(t, log)
	assert.Equal(t, `flow.Status("stage").Set("asking")`, log[0].Text)
}
