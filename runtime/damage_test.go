package runtime_test

import (
	"context"
	"database/sql"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

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

// TestUnconvertibleRowFailsAtRevival: a log row holding a value that does
// not convert (text where a number must be, as a flipped byte leaves it) is
// damage: the activation revived from it fails with a corrupt-log
// diagnostic, rather than stopping with nothing recorded.
func TestUnconvertibleRowFailsAtRevival(t *testing.T) {
	path := tempStore(t)
	e1, _, id := suspendedV1(t, path, "b1", "x")
	e1.close()

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE entries SET gen = 'not a number' WHERE step = 1`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, v1)
	info := e2.waitState(id, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Equal(t, diag.CorruptLog, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "corrupt")
	assert.Empty(t, e2.host.Calls(), "nothing is called")
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
	assert.Equal(t, diag.BadArguments, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "test.F: the stored arguments do not decode")
	info = e2.waitState(id, runtime.StateFailed)
	assert.Equal(t, diag.Undecodable, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "does not decode")
	assert.Empty(t, e2.host.Calls())
}

// nullIn stores NULL in a column the schema declares NOT NULL, as a flipped
// byte in a row's header can: the declaration is lifted for the write and
// put back word for word, so the store's schema check still passes.
func nullIn(t *testing.T, path, table, column, where string, args ...any) {
	t.Helper()
	var declared string
	withDB := func(fn func(db *sql.DB)) {
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		defer db.Close()
		db.SetMaxOpenConns(1)
		fn(db)
	}
	setSchema := func(db *sql.DB, text string) {
		_, err := db.Exec(`PRAGMA writable_schema = ON`)
		require.NoError(t, err)
		_, err = db.Exec(`UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?`, text, table)
		require.NoError(t, err)
		_, err = db.Exec(`PRAGMA writable_schema = OFF`)
		require.NoError(t, err)
	}
	withDB(func(db *sql.DB) {
		require.NoError(t, db.QueryRow(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&declared))
		lifted := regexp.MustCompile(`(\b`+column+`\s+INTEGER)\s+NOT NULL`).ReplaceAllString(declared, "$1")
		require.NotEqual(t, declared, lifted, "%s.%s is declared NOT NULL", table, column)
		setSchema(db, lifted)
	})
	withDB(func(db *sql.DB) {
		res, err := db.Exec(`UPDATE `+table+` SET `+column+` = NULL WHERE `+where, args...)
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.Positive(t, n)
		setSchema(db, declared)
	})
}

// TestNullInALogRowFailsAtRevival: a NULL where the schema wants a number
// (a flipped byte in a row's header) is damage too: the activation revived
// from that log fails with a corrupt-log diagnostic instead of stopping with
// nothing recorded.
func TestNullInALogRowFailsAtRevival(t *testing.T) {
	for _, c := range []struct{ column, where string }{{"gen", "step = 1"}, {"kind", "step = 2"}} {
		t.Run(c.column, func(t *testing.T) {
			path := tempStore(t)
			e1, _, id := suspendedV1(t, path, "b1", "x")
			e1.close()
			nullIn(t, path, "entries", c.column, c.where)

			e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, v1)
			info := e2.waitState(id, runtime.StateFailed)
			require.NotNil(t, info.Failure)
			assert.Equal(t, diag.CorruptLog, info.Failure.Problem)
			assert.Contains(t, info.Failure.Detail, "NULL")
			assert.Empty(t, e2.host.Calls(), "nothing is called")
		})
	}
}

// TestAdminListGoesOnPastADamagedRow: an activation row that cannot be read
// back is reported, once per listing, and left out; the listing goes on with
// the others, page after page. The damaged activation itself gives a clear
// error.
func TestAdminListGoesOnPastADamagedRow(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, askThenEcho)
	var ids []flow.ActivationID
	for _, arg := range []string{"a", "b", "c", "d"} {
		ids = append(ids, e1.waitByOutcome(e1.start(arg).ID(), runtime.StateSuspended).ID)
	}
	e1.close()
	damaged := ids[1]
	nullIn(t, path, "activations", "created_gen", "id = ?", damaged[:])

	var lines logLines
	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{Logger: lines.logger()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	e2 := incarnationOn(t, st, path, "b2", runtime.Options{Logger: lines.logger()}, askThenEcho)
	ad := e2.rt.Admin()

	list, err := ad.List(t.Context(), runtime.ListOptions{})
	require.NoError(t, err, "one damaged row does not fail the listing")
	var listed []flow.ActivationID
	for _, info := range list {
		listed = append(listed, info.ID)
	}
	assert.ElementsMatch(t, []flow.ActivationID{ids[0], ids[2], ids[3]}, listed)
	assert.Equal(t, 1, lines.count("damaged activation row"), "reported")
	assert.Equal(t, 1, lines.count(damaged.String()), "by its id")

	var paged []flow.ActivationID
	o := runtime.ListOptions{Limit: 1}
	for range 10 {
		page, err := ad.List(t.Context(), o)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page[0].ID)
		o.After = page[0].Cursor()
	}
	assert.ElementsMatch(t, listed, paged, "page by page too")
	suspended, err := ad.List(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
	require.NoError(t, err)
	assert.Len(t, suspended, 3)

	_, err = ad.Get(t.Context(), damaged)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	assert.ErrorContains(t, err, "created_gen")
}

// TestMissingRowsFailTheActivation: what a log or an activation refers to
// and the store no longer holds — the vow a flow awaits, its outcome vow —
// fails the activation with a diagnostic when it is revived, rather than
// stopping it in silence or marking it done with no outcome.
func TestMissingRowsFailTheActivation(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, askThenEcho)
	awaits, finishes := e1.start("awaits"), e1.start("finishes")
	awaitsID := e1.waitByOutcome(awaits.ID(), runtime.StateSuspended).ID
	finishesID := e1.waitByOutcome(finishes.ID(), runtime.StateSuspended).ID
	asked, ok := e1.host.Asked("approve awaits")
	require.True(t, ok)
	answer, ok := e1.host.Asked("approve finishes")
	require.True(t, ok)
	e1.close()

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`DELETE FROM vows WHERE id = ?`, asked[:])
	require.NoError(t, err)
	outcome := finishes.ID()
	_, err = db.Exec(`DELETE FROM vows WHERE id = ?`, outcome[:])
	require.NoError(t, err)
	require.NoError(t, db.Close())

	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, askThenEcho)
	info := e2.waitState(awaitsID, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "no such vow")

	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](answer), "yes"))
	info = e2.waitState(finishesID, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Contains(t, info.Failure.Detail, "outcome vow")
	assert.Contains(t, info.Failure.Detail, "missing")
	assert.Equal(t, []string{"Echo"}, e2.host.Methods(), "the one live call, made once")
}
