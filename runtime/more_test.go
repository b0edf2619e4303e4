package runtime_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

func TestAdminRetry(t *testing.T) {
	var fixed atomic.Bool
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	e.host.Hook = func(ctx context.Context, method string, args ...any) error {
		if !fixed.Load() {
			panic("not yet")
		}
		return nil
	}
	v := e.start("again")
	id := e.only().ID
	e.waitState(id, runtime.StateFailed)
	assert.ErrorIs(t, e.rt.Admin().Retry(t.Context(), flow.NewActivationID()), runtime.ErrUnknownActivation)
	fixed.Store(true)
	// The failed run may not have left yet; the retry is kept until it has.
	require.NoError(t, e.rt.Admin().Retry(t.Context(), id))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "again", got)
	assert.ErrorIs(t, e.rt.Admin().Retry(t.Context(), id), runtime.ErrNotFailed)
}

func TestCloseCutsHostCallsShortWithoutLogging(t *testing.T) {
	path := tempStore(t)
	entered := make(chan struct{}, 1)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		if _, err := h.Echo(fc, "first"); err != nil {
			return "", err
		}
		return h.Echo(fc, "slow")
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	e1.host.Hook = func(ctx context.Context, method string, args ...any) error {
		if args[0] == "slow" {
			entered <- struct{}{}
			<-ctx.Done() // shutdown cancels the call's context
			return ctx.Err()
		}
		return nil
	}
	v := e1.start("")
	id := e1.only().ID
	<-entered
	e1.close()

	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	log, err := st.Log(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, log, 1, "the cut-short call was not logged")
	require.NoError(t, st.Close(t.Context()))

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "slow", got)
	assert.Equal(t, []string{"Echo"}, e2.host.Methods(), "it is made again; the first is answered from the log")
	assert.Equal(t, e1.host.Calls()[1].Key, e2.host.Calls()[0].Key)
}

func TestRaceAgainstATimer(t *testing.T) {
	path := tempStore(t)
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		approval, err := h.Ask(fc, "approve?")
		if err != nil {
			return "", err
		}
		timeout := flow.After(fc, 72*time.Hour)
		if flow.Race(fc, approval, timeout) == 1 {
			at, _ := flow.Await(fc, timeout)
			return "timed out at " + at.UTC().Format(time.RFC3339), nil
		}
		return flow.Await(fc, approval)
	}
	e1 := incarnation(t, path, "b1", runtime.Options{Clock: clock}, body)
	v := e1.start("")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	info, err := e1.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Len(t, info.Waits, 2, "it waits for the approval and the timer")
	e1.close()

	clock.Advance(73 * time.Hour)
	e2 := incarnation(t, path, "b2", runtime.Options{Clock: clock}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "timed out at 2026-01-04T00:00:00Z", got)
	// Approving now changes nothing: the race is decided and logged.
	asked, _ := e1.host.Asked("approve?")
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "too late"))
}

func TestGarbageRowsGiveClearErrors(t *testing.T) {
	path := tempStore(t)
	e1, _, id := suspendedV1(t, path, "b1", "x")
	asked, _ := e1.host.Asked("q")
	e1.close()

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	// A damaged activation row, a running activation whose arguments are
	// garbage, and a garbage value in the vow the first one waits for.
	_, err = db.Exec(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (x'0102', 'test.F', x'00', 1, x'00', 1, 1)`)
	require.NoError(t, err)
	bad := flow.NewActivationID()
	_, err = db.Exec(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (?, 'test.F', x'ffff', 1, ?, 1, 1)`, bad[:], bad[:])
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO vows (id, state, gen) VALUES (?, 0, 1)`, bad[:])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE vows SET state = 1, payload = x'0608' WHERE id = ?`, asked[:])
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE activations SET state = 1 WHERE id = ?`, id[:])
	require.NoError(t, err)
	require.NoError(t, db.Close())

	e2 := incarnation(t, path, "b2", runtime.Options{}, v1)
	info := e2.waitState(bad, runtime.StateFailed)
	assert.Equal(t, diag.Undecodable, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "test.F")
	info = e2.waitState(id, runtime.StateFailed)
	assert.Equal(t, diag.Undecodable, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "does not decode")
	assert.Empty(t, e2.host.Calls())
}
