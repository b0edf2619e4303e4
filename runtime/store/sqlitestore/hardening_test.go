package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// filledStore makes a store with n log entries, closed cleanly (no WAL).
func filledStore(t *testing.T, path string, n int) {
	t.Helper()
	ctx := t.Context()
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	require.NoError(t, err)
	id, _ := newActivation(t, s, 1)
	for i := range n {
		require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: int64(i), Kind: 1, Gen: 1, Payload: make([]byte, 200)}}))
	}
	require.NoError(t, s.Close(ctx))
	_, err = os.Stat(path + "-wal")
	require.True(t, os.IsNotExist(err), "a clean close leaves no WAL")
}

// copyUnclean copies the store at from to to as a process that dies with it
// open would leave it: with a WAL holding a commit not yet checkpointed.
// keep, if positive, is how much of the main file to copy.
func copyUnclean(t *testing.T, from, to string, keep int) {
	t.Helper()
	db, err := sql.Open("sqlite", from)
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec("PRAGMA wal_autocheckpoint = 0")
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO incarnations (build, started_ns, pid) VALUES ('b', 0, 1)")
	require.NoError(t, err)
	main := fileBytes(t, from)
	if keep > 0 {
		main = main[:keep]
	}
	require.NoError(t, os.WriteFile(to, main, 0o644))
	require.NoError(t, os.WriteFile(to+"-wal", fileBytes(t, from+"-wal"), 0o644))
}

// TestTruncatedCopyWithWAL: a file cut short is refused even with a WAL
// beside it, when the WAL does not hold the missing pages, and it is left as
// it was.
func TestTruncatedCopyWithWAL(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "app.db")
	filledStore(t, full, 500)
	size := len(fileBytes(t, full))
	truncated := filepath.Join(dir, "truncated.db")
	copyUnclean(t, full, truncated, size/2)

	before := fileBytes(t, truncated)
	_, err := sqlitestore.Open(t.Context(), truncated, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	assert.ErrorContains(t, err, "truncated")
	assert.Equal(t, before, fileBytes(t, truncated), "the refused file is not written")

	// The whole file with the same WAL opens, and has the WAL's commit.
	whole := filepath.Join(dir, "whole.db")
	copyUnclean(t, full, whole, 0)
	s := open(t, whole)
	inc, err := s.Incarnation(t.Context(), 1)
	require.NoError(t, err)
	assert.Equal(t, "b", inc.Build)
}

// TestTornByCheckpointOpens makes, byte for byte, what a checkpoint killed
// after its first write leaves: the WAL holds commits that grew the store,
// and the main file has the WAL's page 1 — with the new page count — but
// not yet the pages past its end. SQLite finishes that from the WAL: the
// store opens, with every commit, and is whole.
func TestTornByCheckpointOpens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	filledStore(t, path, 100)
	s := open(t, path)
	id, _ := newActivation(t, s, 1)
	require.NoError(t, s.Close(t.Context()))

	// Commits that grow the file, left in the WAL.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec("PRAGMA wal_autocheckpoint = 0")
	require.NoError(t, err)
	const grown = 300
	for i := range grown {
		_, err := db.Exec(`INSERT INTO entries (act, step, kind, gen, at_ns, payload) VALUES (?, ?, 1, 1, 0, zeroblob(2000))`, id[:], i)
		require.NoError(t, err)
	}
	main, wal := fileBytes(t, path), fileBytes(t, path+"-wal")
	pageSize := int(binary.BigEndian.Uint32(wal[8:]))
	require.Equal(t, int(binary.BigEndian.Uint16(main[16:])), pageSize)

	// The newest page 1 in the WAL, as the checkpoint writes it first.
	var page1 []byte
	for off := 32; off+24+pageSize <= len(wal); off += 24 + pageSize {
		if binary.BigEndian.Uint32(wal[off:]) == 1 {
			page1 = wal[off+24 : off+24+pageSize]
		}
	}
	require.NotNil(t, page1, "the commits wrote page 1")
	torn := filepath.Join(dir, "torn.db")
	require.NoError(t, os.WriteFile(torn, append(append([]byte(nil), page1...), main[pageSize:]...), 0o644))
	require.NoError(t, os.WriteFile(torn+"-wal", wal, 0o644))
	pages := int(binary.BigEndian.Uint32(page1[28:]))
	require.Greater(t, pages*pageSize, len(main), "the file is shorter than its header says")

	s, err = sqlitestore.Open(t.Context(), torn, sqlitestore.Options{})
	require.NoError(t, err, "a store torn by a checkpoint opens")
	defer s.Close(context.Background())
	require.NoError(t, s.Check(t.Context()))
	log, err := s.Log(t.Context(), id)
	require.NoError(t, err)
	assert.Len(t, log, grown, "every commit in the WAL is there")
	require.NoError(t, s.Close(t.Context()))
	assert.GreaterOrEqual(t, len(fileBytes(t, torn)), pages*pageSize, "closed, the file is whole")
}

// TestQuickCheckAfterUncleanClose: a store the last process did not close is
// checked when it is opened again; damage that the checks of every open do
// not read is found then.
func TestQuickCheckAfterUncleanClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	filledStore(t, path, 2000)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	var root int64
	require.NoError(t, db.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'entries'`).Scan(&root))
	require.NoError(t, db.Close())
	require.Greater(t, root, int64(1))

	damaged := filepath.Join(dir, "damaged.db")
	copyUnclean(t, path, damaged, 0)
	b := fileBytes(t, damaged)
	pageSize := int64(binary.BigEndian.Uint16(b[16:]))
	for i := (root - 1) * pageSize; i < root*pageSize; i++ {
		b[i] = byte(i * 13)
	}
	require.NoError(t, os.WriteFile(damaged, b, 0o644))

	_, err = sqlitestore.Open(t.Context(), damaged, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
}

// TestCraftedSchemaIsRefused: a store whose schema is not the one the
// migrations made — a trigger, a view, an index dropped or changed — is
// refused before anything in it could run, and nothing is written.
func TestCraftedSchemaIsRefused(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"trigger that deletes", `CREATE TRIGGER wipe AFTER INSERT ON incarnations BEGIN DELETE FROM activations; END`, `unexpected trigger "wipe" on incarnations`},
		{"endless trigger", `CREATE TRIGGER spin BEFORE INSERT ON incarnations BEGIN
			SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c); END`, `unexpected trigger "spin"`},
		{"view", `CREATE VIEW everything AS SELECT * FROM activations`, `unexpected view "everything"`},
		{"index dropped", `DROP INDEX activations_live`, `missing index "activations_live"`},
		{"index on an expression", `CREATE INDEX sneaky ON entries (length(payload))`, `unexpected index "sneaky" on entries`},
		{"table changed", `ALTER TABLE vows ADD COLUMN extra TEXT DEFAULT 'x'`, `table "vows" differs`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			s := open(t, path)
			id, _ := newActivation(t, s, 1)
			require.NoError(t, s.Close(t.Context()))
			db, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			_, err = db.Exec(c.sql)
			require.NoError(t, err)
			require.NoError(t, db.Close())
			before := fileBytes(t, path)

			for range 2 { // and again: the refusal let go of the file
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
				if err == nil {
					_, _ = s.BeginIncarnation(ctx, "b", 1)
					_ = s.Close(ctx)
				}
				cancel()
				require.ErrorIs(t, err, store.ErrCorrupt)
				onePrefix(t, err)
				assert.ErrorContains(t, err, c.want)
				assert.ErrorContains(t, err, "refused before anything ran")
			}
			out, err := helper(t, "open", path).CombinedOutput()
			require.Error(t, err)
			assert.Contains(t, string(out), c.want, "another process gets the same refusal, not the lock")
			assert.Equal(t, before, fileBytes(t, path), "nothing is written")

			db, err = sql.Open("sqlite", path)
			require.NoError(t, err)
			defer db.Close()
			var n int
			require.NoError(t, db.QueryRow(`SELECT count(*) FROM activations WHERE id = ?`, id[:]).Scan(&n))
			assert.Equal(t, 1, n)
		})
	}
}
