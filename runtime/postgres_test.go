package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// pgIncarnation is incarnation on the store runtime.Open opens at url.
func pgIncarnation(t *testing.T, url string, build string, opts runtime.Options, f flowFunc) *env {
	t.Helper()
	opts.Build = build
	rt, err := runtime.Open(t.Context(), url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	e := &env{t: t, path: url, rt: rt}
	e.host = &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", e.host)
	e.h = testkit.Register(rt, "test.F", f)
	require.NoError(t, rt.Start(t.Context()))
	return e
}

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
	e1 := pgIncarnation(t, url, "b1", runtime.Options{Clock: clock}, body)
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var build string
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT build FROM asyncflow.incarnations`).Scan(&build))
	assert.Equal(t, "b1", build, "a postgres:// URL opens the PostgreSQL store")
	v := e1.start("ann")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	same, err := e1.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "bob")
	require.NoError(t, err)
	again, err := e1.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "bob")
	require.NoError(t, err)
	assert.Equal(t, same.ID(), again.ID(), "one activation per id")
	require.NoError(t, e1.rt.Close(t.Context()))

	e2 := pgIncarnation(t, url, "b2", runtime.Options{Clock: clock}, body)
	info, err := e2.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, info.State)
	assert.False(t, info.Resident, "a sleeping activation is not loaded at Start")
	asked, ok := e1.host.Asked("approve ann")
	require.True(t, ok)
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "yes"))
	e2.waitState(id, runtime.StateSuspended) // on the timer now
	require.NoError(t, e2.rt.Close(t.Context()))

	clock.Advance(49 * time.Hour) // the deadline passes while no process runs
	e3 := pgIncarnation(t, url, "b3", runtime.Options{Clock: clock}, body)
	got, err := e3.wait(flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "hi ann yes", got)
	assert.Equal(t, []string{"Echo", "Ask"}, e1.host.Methods()[:2])
	assert.Empty(t, e3.host.Methods(), "the last incarnation only replays")
	assert.NoError(t, e3.rt.Admin().Check(t.Context()))
}
