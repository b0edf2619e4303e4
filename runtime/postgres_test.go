package runtime_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestPostgresURL runs flows on a store that Open finds at a postgres://
// URL: to completion, across a restart while suspended on a vow and on a
// timer, and StartWithID at most once.
func TestPostgresURL(t *testing.T) {
	url := pgtest.DB(t)
	clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
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
		flow.Sleep(fc, 48*time.Hour)
		return greeting + " " + answer, nil
	}
	e1 := incarnation(t, url, "b1", runtime.Options{Clock: clock}, body)
	_, ok := e1.rt.Store().(*pgstore.Store)
	require.True(t, ok, "a postgres:// URL opens the PostgreSQL store")
	v := e1.start("ann")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	same, err := e1.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "bob")
	require.NoError(t, err)
	again, err := e1.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "bob")
	require.NoError(t, err)
	assert.Equal(t, same.ID(), again.ID(), "one activation per id")
	e1.close()

	e2 := incarnation(t, url, "b2", runtime.Options{Clock: clock}, body)
	info, err := e2.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, info.State)
	assert.False(t, info.Resident, "a sleeping activation is not loaded at Start")
	asked, ok := e1.host.Asked("approve ann")
	require.True(t, ok)
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "yes"))
	e2.waitState(id, runtime.StateSuspended) // on the timer now
	e2.close()

	clock.Advance(49 * time.Hour) // the deadline passes while no process runs
	e3 := incarnation(t, url, "b3", runtime.Options{Clock: clock}, body)
	got, err := e3.wait(flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "hi ann yes", got)
	assert.Equal(t, []string{"Echo", "Ask"}, e1.host.Methods()[:2])
	assert.Empty(t, e3.host.Methods(), "the last incarnation only replays")
	assert.NoError(t, e3.rt.Admin().Check(t.Context()))
}
