package runtime_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

func TestFlowRunsToCompletion(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		s, err := h.Echo(fc, a)
		if err != nil {
			return "", err
		}
		n, err := h.Add(fc, 40, 2)
		if err != nil {
			return "", err
		}
		r, err := h.Save(fc, testkit.Record{Name: s, Amount: n})
		if err != nil {
			return "", err
		}
		return r.Name + ":" + r.Tags[0], nil
	})
	v := e.start("hello")
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "hello:saved", got)
	assert.Equal(t, []string{"Echo", "Add", "Save"}, e.host.Methods())

	info := e.only()
	assert.Equal(t, runtime.StateDone, info.State)
	log, err := e.rt.Admin().Log(t.Context(), info.ID)
	require.NoError(t, err)
	assert.Empty(t, log, "a done activation's log is deleted")

	// Idempotency keys: activation, call index, target and method.
	calls := e.host.Calls()
	assert.Equal(t, info.ID.String()+"/0/host.Echo", calls[0].Key)
	assert.Equal(t, info.ID.String()+"/2/host.Save", calls[2].Key)
}

func TestSuspendAndReplayAfterRestart(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		greeting, err := h.Echo(fc, "hi "+a)
		if err != nil {
			return "", err
		}
		v, err := h.Ask(fc, "approve "+a)
		if err != nil {
			return "", err
		}
		answer, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		n, err := h.Add(fc, 1, 2)
		if err != nil {
			return "", err
		}
		return greeting + " " + answer + " " + flow.Now(fc).UTC().Format("2006") + string(rune('0'+n)), nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	v := e1.start("ann")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	vowID, ok := e1.host.Asked("approve ann")
	require.True(t, ok)
	e1.close()

	// A new incarnation does not load the sleeping activation at Start.
	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	info, err := e2.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, info.State)
	assert.False(t, info.Resident)
	assert.Equal(t, []flow.VowID{vowID}, info.Waits)

	// Settling the vow replays it: logged calls are answered from the log.
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](vowID), "yes"))
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "hi ann yes "+time.Now().UTC().Format("2006")+"3", got)
	assert.Equal(t, []string{"Add"}, e2.host.Methods(), "only the unlogged call reaches the host")
}

func TestErrorsCrossAndKeepTheirIdentity(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		err := h.Fail(fc, "denied")
		if !errors.Is(err, testkit.ErrDenied) {
			return "", errors.New("lost identity: " + err.Error())
		}
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		if _, err := flow.Await(fc, v); err != nil {
			return "", err // a rejection, returned as the flow's error
		}
		return "unreachable", nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	v := e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	vowID, ok := e1.host.Asked("q") // made in the first incarnation
	require.True(t, ok)
	require.NoError(t, runtime.Reject(t.Context(), e2.rt, flow.VowOf[string](vowID), errors.Join(errors.New("manager said no"), testkit.ErrDenied)))
	_, err := e2.wait(v)
	require.Error(t, err)
	assert.ErrorIs(t, err, testkit.ErrDenied, "after replay, in the outcome")
	assert.Contains(t, err.Error(), "manager said no")
	var re *runtime.RejectionError
	assert.ErrorAs(t, err, &re)
	assert.Empty(t, e2.host.Calls(), "replay makes no host call")
}

func TestStartWithIDIsAtMostOnce(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	v1, err := e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	v2, err := e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	assert.Equal(t, v1.ID(), v2.ID())
	_, err = e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "y")
	assert.ErrorIs(t, err, runtime.ErrStartConflict)
	got, err := e.wait(v1)
	require.NoError(t, err)
	assert.Equal(t, "x", got)
	// Even after it finished.
	v3, err := e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	assert.Equal(t, v1.ID(), v3.ID())
	assert.Len(t, e.host.Calls(), 1)
	assert.Equal(t, "order-1", e.only().StartKey)
}
