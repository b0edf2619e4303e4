package sqlitestore_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// TestMigratesAStoreWithoutMailboxes opens a store written by schema 1,
// before mailboxes, statuses and lineage: an activation it holds keeps
// everything it had, has no parent, and takes messages and statuses.
func TestMigratesAStoreWithoutMailboxes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	init, err := os.ReadFile("schema/0001_init.sql")
	require.NoError(t, err)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	act, outcome := flow.ActivationID{1}, flow.VowID{2}
	for _, q := range []string{
		string(init),
		fmt.Sprintf("PRAGMA application_id = %d", sqlitestore.ApplicationID),
		"PRAGMA user_version = 1",
		"INSERT INTO incarnations (build, started_ns, pid) VALUES ('old', 1, 1)",
	} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	_, err = db.Exec(`INSERT INTO activations (id, flow, start_key, args, state, outcome, created_gen, gen) VALUES (?, 'test.F', 'order-1', x'0800', 2, ?, 1, 1)`, act[:], outcome[:])
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO vows (id, state, gen) VALUES (?, 0, 1)`, outcome[:])
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	a, err := s.Activation(ctx, act)
	require.NoError(t, err)
	assert.Equal(t, "order-1", a.StartKey)
	assert.Equal(t, store.Suspended, a.State)
	assert.Equal(t, outcome, a.Outcome)
	assert.True(t, a.Parent.IsZero())

	send := &store.Send{Act: act, Name: "x", Payload: []byte("p"), Gen: 2}
	require.NoError(t, store.Apply(ctx, s, send, &store.Publish{Act: act, Name: "progress", Payload: []byte("s"), Gen: 2}))
	assert.Equal(t, store.Queued, send.Result)
	assert.Equal(t, int64(1), send.Seq, "an old activation's messages are numbered from 1")
	st, err := s.Status(ctx, act, "progress")
	require.NoError(t, err)
	assert.Equal(t, "s", string(st.Payload))
	assert.NoError(t, s.Check(ctx))
}
