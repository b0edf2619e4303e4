package runtime_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
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
