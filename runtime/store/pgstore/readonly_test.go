package pgstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
)

// TestReadOnly opens a store in use for reading only: it reads what the
// store holds, and backs it up, and writes nothing — no member joins, no
// write reaches the server, and a schema this build would create or
// migrate is refused as it is.
func TestReadOnly(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	conn := connect(t, url)

	before := snapshot(t, conn)
	_, err := pgstore.OpenReadOnly(ctx, url, pgstore.Options{})
	assert.ErrorIs(t, err, store.ErrNotStore, "no store yet")
	onePrefix(t, err)
	assert.Equal(t, before, snapshot(t, conn), "nothing is created")

	w := open(t, url, pgstore.Options{})
	acts, vows := population(t, w)
	want := contents(t, w, acts, vows)
	require.NoError(t, w.Close(ctx)) // its heartbeat writes
	before = snapshot(t, conn)
	r, err := pgstore.OpenReadOnly(ctx, url, pgstore.Options{})
	require.NoError(t, err)
	assert.True(t, r.ReadOnly())
	assert.Equal(t, want, contents(t, r, acts, vows), "it reads what the store holds")
	require.NoError(t, r.Check(ctx))
	n := 0
	require.NoError(t, r.Logs(ctx, acts, func(_ flow.ActivationID, log []store.Entry, err error) {
		assert.NoError(t, err)
		n += len(log)
	}))
	assert.Positive(t, n)
	require.NoError(t, r.Backup(ctx, filepath.Join(t.TempDir(), "copy.db")))

	id := acts[0]
	for what, err := range map[string]error{
		"submit":            store.Apply(ctx, r, &store.Append{Act: id, Entry: store.Entry{Step: 3, Kind: 1, Gen: 2}}),
		"begin incarnation": second(r.BeginIncarnation(ctx, "b", 1)),
		"claim":             second(r.Claim(ctx, id, true)),
		"adopt":             second(r.Adopt(ctx, []string{"test.F"}, 10, func(flow.ActivationID, string, store.State) error { return nil })),
		"release":           r.Release(ctx, id),
		"rejoin":            r.Rejoin(ctx),
	} {
		assert.ErrorIs(t, err, store.ErrReadOnly, what)
		onePrefix(t, err)
	}
	_, open := <-r.Events()
	assert.False(t, open, "a read-only store hears nothing")
	// The server refuses a write in its sessions, should one get past.
	_, err = pgstore.Pool(r).Exec(ctx, `DELETE FROM activations`)
	assert.ErrorContains(t, err, "read-only transaction")
	require.NoError(t, r.Close(ctx))
	assert.Equal(t, before, snapshot(t, conn), "nothing is written: no member, no row")
	_, err = r.Activation(ctx, id)
	assert.ErrorIs(t, err, store.ErrClosed)

	// A schema this build would migrate is read by no read-only store.
	old := pgtest.DB(t)
	oc := connect(t, old)
	exec(t, oc, `CREATE SCHEMA asyncflow`)
	exec(t, oc, `SET search_path = asyncflow`)
	exec(t, oc, pgstore.MigrationSQL(1))
	exec(t, oc, `INSERT INTO store_meta VALUES ('asyncflow', 1)`)
	before = snapshot(t, oc)
	_, err = pgstore.OpenReadOnly(ctx, old, pgstore.Options{})
	assert.ErrorIs(t, err, store.ErrNeedsMigration)
	onePrefix(t, err)
	assert.Equal(t, before, snapshot(t, oc), "nothing is migrated")
	exec(t, oc, `UPDATE store_meta SET version = $1`, pgstore.SchemaVersion()+1)
	_, err = pgstore.OpenReadOnly(ctx, old, pgstore.Options{})
	assert.ErrorIs(t, err, store.ErrNewerSchema)
}

func second[T any](_ T, err error) error { return err }
