package sqlitestore_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// TestMigratesSchema1InPlace makes a store as schema 1 made them — its own
// script, rows as its writer wrote them — and opens it with this build: it
// is migrated in place, its rows keep what they held, and they get the times
// of the incarnations that wrote them.
func TestMigratesSchema1InPlace(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	script, err := os.ReadFile("schema/0001_init.sql")
	require.NoError(t, err)

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	exec(string(script))
	exec(fmt.Sprintf("PRAGMA application_id = %d", sqlitestore.ApplicationID))
	exec("PRAGMA user_version = 1")
	start1 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	start2 := start1.Add(48 * time.Hour)
	exec(`INSERT INTO incarnations (gen, build, started_ns, pid) VALUES (1, 'v1', ?, 100), (2, 'v2', ?, 200)`, start1.UnixNano(), start2.UnixNano())
	running, done, failed := flow.NewActivationID(), flow.NewActivationID(), flow.NewActivationID()
	orphan := flow.NewActivationID()
	outcomes := map[flow.ActivationID]flow.VowID{}
	for _, r := range []struct {
		id         flow.ActivationID
		key        any
		state, gen int
		created    int
		failure    any
	}{
		{running, nil, 1, 2, 1, nil},
		{done, "order-1", 4, 2, 1, nil},
		{failed, "order-2", 3, 2, 2, []byte(`{"problem":"other-call"}`)},
		{orphan, nil, 2, 9, 9, nil}, // written by an incarnation the store has no row for
	} {
		out := flow.NewVowID()
		outcomes[r.id] = out
		exec(`INSERT INTO activations (id, flow, start_key, args, state, outcome, created_gen, gen, failure) VALUES (?, 'pay.F', ?, x'0801', ?, ?, ?, ?, ?)`,
			r.id[:], r.key, r.state, out[:], r.created, r.gen, r.failure)
		exec(`INSERT INTO vows (id, state, gen) VALUES (?, 0, ?)`, out[:], r.created)
	}
	exec(`INSERT INTO entries (act, step, kind, gen, payload) VALUES (?, 0, 1, 1, x'01'), (?, 1, 5, 2, x'02')`, running[:], running[:])
	require.NoError(t, db.Close())

	s := open(t, path)
	a, err := s.Activation(ctx, running)
	require.NoError(t, err)
	assert.Equal(t, store.Running, a.State)
	assert.Equal(t, []byte{8, 1}, a.Args)
	assert.Equal(t, outcomes[running], a.Outcome)
	assert.True(t, a.Created.Equal(start1), "created: the start of the incarnation that created it, %v", a.Created)
	assert.True(t, a.StateSince.Equal(start2), "state since: the start of the one that last changed it, %v", a.StateSince)
	assert.True(t, a.Finished.IsZero())
	assert.Equal(t, int64(2), a.LastGen)
	log, err := s.Log(ctx, running)
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.True(t, log[0].At.Equal(start1) && log[1].At.Equal(start2), "entries: the start of the incarnation that wrote them")

	d, err := s.Activation(ctx, done)
	require.NoError(t, err)
	assert.True(t, d.Finished.Equal(start2), "a done one finished no later than its last incarnation began")
	f, err := s.ActivationsByKey(ctx, "order-2")
	require.NoError(t, err)
	require.Len(t, f, 1)
	assert.Equal(t, failed, f[0].ID)
	assert.Equal(t, []byte(`{"problem":"other-call"}`), f[0].Failure)
	byOutcome, err := s.ActivationByOutcome(ctx, outcomes[done])
	require.NoError(t, err)
	assert.Equal(t, done, byOutcome.ID)
	o, err := s.Activation(ctx, orphan)
	require.NoError(t, err)
	assert.True(t, o.Created.IsZero(), "no incarnation, no time: unknown rather than made up")

	list, err := s.Activations(ctx, store.Filter{})
	require.NoError(t, err)
	var ids []flow.ActivationID
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	require.Len(t, ids, 4)
	assert.Equal(t, failed, ids[0], "newest first: created by incarnation 2")
	assert.ElementsMatch(t, []flow.ActivationID{running, done}, ids[1:3])
	assert.Equal(t, orphan, ids[3], "unknown times last")
	failedOnes, err := s.Activations(ctx, store.Filter{State: store.Failed, Build: "v2"})
	require.NoError(t, err)
	require.Len(t, failedOnes, 1)
	assert.Equal(t, failed, failedOnes[0].ID)
	require.NoError(t, s.Check(ctx))

	// The migrated store takes this build's writes, and says its version.
	require.NoError(t, store.Apply(ctx, s, &store.Finish{Act: running, State: store.VowFulfilled, Gen: 3, At: start2.Add(time.Hour)}))
	require.NoError(t, s.Close(ctx))
	db, err = sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var version int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&version))
	assert.Equal(t, sqlitestore.SchemaVersion(), version)
}
