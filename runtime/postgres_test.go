package runtime_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"sync/atomic"
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
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
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

// TestPostgresAdmin runs the operators' view on a PostgreSQL store as on a
// SQLite one: lists, counts, one activation with its waits and its log,
// failures with their diagnostics, a retry, a terminate; then a backup while
// the runtime runs, which the replay gate reads as it reads a SQLite
// snapshot (and an Admin opens as a store), and the gate run on the
// database itself.
func TestPostgresAdmin(t *testing.T) {
	url := pgtest.DB(t)
	var fixed atomic.Bool
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		switch a {
		case "done":
			return h.Echo(fc, a)
		case "fail":
			r, err := h.Save(fc, testkit.Record{Name: a})
			return r.Name, err
		}
		v, err := h.Ask(fc, a)
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	}
	e := pgIncarnation(t, url, "b1", runtime.Options{}, body)
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	e.host.SetHook(func(ctx context.Context, method string, args ...any) error {
		if method == "Save" && !fixed.Load() {
			panic("the host is broken")
		}
		return nil
	})
	ad := e.rt.Admin()
	ctx := t.Context()
	ids := map[string]flow.ActivationID{}
	for _, a := range []string{"done", "fail", "sleep", "cancel"} {
		v := e.start(a)
		info, err := ad.Find(ctx, v.ID().String()) // by its outcome
		require.NoError(t, err, a)
		require.False(t, info.ID.IsZero(), a)
		ids[a] = info.ID
	}
	e.waitState(ids["done"], runtime.StateDone)
	failed := e.waitState(ids["fail"], runtime.StateFailed)
	require.NotNil(t, failed.Failure, "a failed activation carries its diagnostic")
	assert.Contains(t, failed.Failure.Detail, "the host is broken")
	e.waitState(ids["sleep"], runtime.StateSuspended)
	e.waitState(ids["cancel"], runtime.StateSuspended)

	all, err := ad.List(ctx, runtime.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, all, 4)
	n, err := ad.Count(ctx, runtime.ListOptions{State: runtime.StateSuspended})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	fails, err := ad.Failures(ctx)
	require.NoError(t, err)
	require.Len(t, fails, 1)
	assert.Equal(t, ids["fail"], fails[0].ID)
	sleep, err := ad.Get(ctx, ids["sleep"])
	require.NoError(t, err)
	assert.Len(t, sleep.Waits, 1, "what it waits for")
	log, err := ad.Log(ctx, ids["sleep"])
	require.NoError(t, err)
	assert.NotEmpty(t, log)
	sum, err := e.rt.Summary(ctx)
	require.NoError(t, err)
	assert.Zero(t, sum.Revived)

	// The backup, taken while the runtime runs, is a SQLite snapshot the
	// gate replays: the build that runs replays everything; a build that
	// asks something first does not replay what waits.
	snap := filepath.Join(t.TempDir(), "snapshot.db")
	require.NoError(t, ad.Backup(ctx, snap))
	assert.ErrorIs(t, ad.Backup(ctx, snap), fs.ErrExist, "a backup never writes over a file")
	same := func(r runtime.Registry) { testkit.Register(r, "test.F", body) }
	changed := func(r runtime.Registry) {
		testkit.Register(r, "test.F", func(fc flow.Context, h testkit.Teller, a string) (string, error) {
			if _, err := h.Echo(fc, "first"); err != nil {
				return "", err
			}
			return body(fc, h, a)
		})
	}
	rep, err := verify.ReplayFile(ctx, snap, same, verify.Options{})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%s", rep)
	assert.Equal(t, 3, rep.Activations, "the unfinished ones: failed and suspended")
	rep, err = verify.ReplayFile(ctx, snap, changed, verify.Options{})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Stuck, "the two that wait past their first call")

	// The same gate straight on the database, through the runtime's Admin.
	rep, err = ad.VerifyBuild(ctx, changed, verify.Options{})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Stuck)
	assert.Equal(t, 3, rep.Activations)

	// An operator's Admin on the database reads, and the gate runs there,
	// writing nothing: no member joins the processes that run flows.
	oa, err := runtime.OpenAdmin(ctx, url, runtime.AdminOptions{})
	require.NoError(t, err)
	defer oa.Close(context.Background())
	listed, err := oa.List(ctx, runtime.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, listed, len(all))
	rep, err = oa.VerifyBuild(ctx, changed, verify.Options{})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Stuck)
	assert.ErrorIs(t, oa.Terminate(ctx, ids["sleep"]), store.ErrReadOnly)
	var members int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM asyncflow.members WHERE left_at IS NULL`).Scan(&members))
	assert.Equal(t, 1, members, "the runtime's process only")

	// An Admin on the snapshot sees what the live store held.
	sa, err := runtime.OpenAdmin(ctx, snap, runtime.AdminOptions{})
	require.NoError(t, err)
	defer sa.Close(context.Background())
	copied, err := sa.List(ctx, runtime.ListOptions{})
	require.NoError(t, err)
	require.Len(t, copied, len(all))
	for i := range all {
		assert.Equal(t, all[i].ID, copied[i].ID)
		assert.Equal(t, all[i].State, copied[i].State)
		assert.True(t, all[i].Created.Equal(copied[i].Created))
	}
	copiedLog, err := sa.Log(ctx, ids["sleep"])
	require.NoError(t, err)
	assert.Equal(t, log, copiedLog)
	assert.NoError(t, sa.Check(ctx))

	// Retry and cancel, on the live store.
	fixed.Store(true)
	require.NoError(t, ad.Retry(ctx, ids["fail"]))
	e.waitState(ids["fail"], runtime.StateDone)
	require.NoError(t, ad.Terminate(ctx, ids["cancel"]))
	info := e.waitState(ids["cancel"], runtime.StateDone)
	_, err = e.wait(flow.VowOf[string](info.Outcome))
	assert.ErrorIs(t, err, flow.ErrTerminated)
	e.ask("sleep", "yes")
	e.waitState(ids["sleep"], runtime.StateDone)
	fails, err = ad.Failures(ctx)
	require.NoError(t, err)
	assert.Empty(t, fails)
	assert.NoError(t, ad.Check(ctx))
}

// TestPostgresCancelAcrossProcesses asks, from one process, an activation
// that sleeps in another to cancel: the owner hears it, the flow
// compensates there and finishes. Terminating it from the process that does
// not hold it is refused; the one that holds it does.
func TestPostgresCancelAcrossProcesses(t *testing.T) {
	url := pgtest.DB(t)
	a := pgIncarnation(t, url, "a", runtime.Options{}, cancellable)
	b := pgIncarnation(t, url, "b", runtime.Options{}, cancellable)
	ctx := t.Context()
	v := a.start("x")
	info, err := a.rt.Admin().Find(ctx, v.ID().String())
	require.NoError(t, err)
	a.waitState(info.ID, runtime.StateSuspended)
	w := a.start("y")
	other, err := a.rt.Admin().Find(ctx, w.ID().String())
	require.NoError(t, err)
	a.waitState(other.ID, runtime.StateSuspended)

	require.NoError(t, b.rt.Admin().RequestCancel(ctx, info.ID, "customer called"))
	_, err = a.wait(v)
	assert.ErrorIs(t, err, flow.ErrCancelled)
	assert.Contains(t, err.Error(), "customer called")
	assert.Equal(t, []string{"Echo", "Ask", "Echo", "Ask", "Echo"}, a.host.Methods(), "the compensation ran where the activation lives")
	assert.Empty(t, b.host.Methods())

	assert.ErrorIs(t, b.rt.Admin().Terminate(ctx, other.ID), runtime.ErrElsewhere, "held by the other process")
	require.NoError(t, a.rt.Admin().Terminate(ctx, other.ID))
	_, err = b.wait(w)
	assert.ErrorIs(t, err, flow.ErrTerminated, "any process sees the outcome")
}
