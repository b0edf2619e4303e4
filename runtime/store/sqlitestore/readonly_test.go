package sqlitestore_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

func init() { helpers["read"] = helperRead }

// helperRead opens the store at args[0] read-only, says so, and holds it
// until its standard input closes.
func helperRead(args []string) int {
	s, err := sqlitestore.OpenReadOnly(context.Background(), args[0], sqlitestore.Options{})
	if err != nil {
		fmt.Println(err)
		return 3
	}
	fmt.Println("OPENED")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Close(context.Background())
	return 0
}

// dirBytes returns every file of dir and its bytes.
func dirBytes(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range es {
		out[e.Name()] = string(fileBytes(t, filepath.Join(dir, e.Name())))
	}
	return out
}

// started runs a helper that holds the store, and waits until it has it.
func started(t *testing.T, name, path string) (pid int, stop func()) {
	t.Helper()
	cmd := helper(t, name, path)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "OPENED\n", line)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			in.Close()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return cmd.Process.Pid, stop
}

// TestReadOnlyNeverWrites reads a store closed cleanly and one a process
// left with its WAL: every read works, every write is refused, and the
// files are as they were, byte for byte, with none added.
func TestReadOnlyNeverWrites(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	s := open(t, path)
	g0, err := s.BeginIncarnation(ctx, "b", 1)
	require.NoError(t, err)
	id, _ := newActivation(t, s, 1)
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, At: time.Now(), Payload: []byte("x")}}))
	require.NoError(t, s.Close(ctx))

	uncleanDir := t.TempDir()
	unclean := filepath.Join(uncleanDir, "app.db")
	copyUnclean(t, path, unclean, 0) // adds an incarnation to both; the copy has it in its WAL only

	for _, c := range []struct {
		name, path string
		wal        bool
	}{{"closed cleanly", path, false}, {"with a WAL", unclean, true}} {
		t.Run(c.name, func(t *testing.T) {
			before := dirBytes(t, filepath.Dir(c.path))
			assert.Equal(t, c.wal, len(before["app.db-wal"]) > 32)
			r, err := sqlitestore.OpenReadOnly(ctx, c.path, sqlitestore.Options{})
			require.NoError(t, err)
			a, err := r.Activation(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, id, a.ID)
			log, err := r.Log(ctx, id)
			require.NoError(t, err)
			assert.Len(t, log, 1)
			list, err := r.Activations(ctx, store.Filter{})
			require.NoError(t, err)
			assert.Len(t, list, 1)
			_, err = r.Incarnation(ctx, g0+1)
			assert.NoError(t, err, "what a WAL holds is read")
			require.NoError(t, r.Check(ctx))

			err = store.Apply(ctx, r, &store.SetState{Act: id, State: store.Failed, Gen: 1})
			assert.ErrorIs(t, err, sqlitestore.ErrReadOnly)
			onePrefix(t, err)
			_, err = r.BeginIncarnation(ctx, "b", 1)
			assert.ErrorIs(t, err, sqlitestore.ErrReadOnly)
			require.NoError(t, r.Close(ctx))

			after := dirBytes(t, filepath.Dir(c.path))
			delete(after, "app.db-shm") // SQLite's index of a WAL it read
			delete(before, "app.db-shm")
			assert.Equal(t, before, after, "the store and its WAL are as they were, and nothing was added")
		})
	}
}

// TestReadOnlyAndProcesses: a reader is refused at once, naming the process,
// while a runtime's store holds the file; readers share it; and a writer is
// refused while a reader holds it.
func TestReadOnlyAndProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	s := open(t, path)
	require.NoError(t, s.Close(ctx))

	pid, stop := started(t, "hold", path)
	begun := time.Now()
	_, err := sqlitestore.OpenReadOnly(ctx, path, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrLocked)
	assert.ErrorContains(t, err, "in use by process "+strconv.Itoa(pid))
	onePrefix(t, err)
	assert.Less(t, time.Since(begun), 3*time.Second, "refused at once, not after waiting")
	assert.Equal(t, pid, sqlitestore.LockHolder(path))
	stop()
	assert.Zero(t, sqlitestore.LockHolder(path), "no holder once it has gone")

	_, stopReader := started(t, "read", path)
	r, err := sqlitestore.OpenReadOnly(ctx, path, sqlitestore.Options{})
	require.NoError(t, err, "readers share the store")
	require.NoError(t, r.Close(ctx))
	_, err = sqlitestore.Open(ctx, path, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrLocked, "no writer while a reader holds it")
	stopReader()
	w, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	require.NoError(t, err)
	require.NoError(t, w.Close(ctx))
}

// TestReadOnlyRefuses what it cannot read as it is, and leaves it alone.
func TestReadOnlyRefuses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()

	_, err := sqlitestore.OpenReadOnly(ctx, filepath.Join(dir, "none.db"), sqlitestore.Options{})
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, statErr := os.Stat(filepath.Join(dir, "none.db"))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing created")

	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("hello, not a database at all, as anyone can see\n"), 0o644))
	_, err = sqlitestore.OpenReadOnly(ctx, text, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrNotStore)
	onePrefix(t, err)

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = sqlitestore.OpenReadOnly(ctx, empty, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrNotStore)

	// A schema 1 store: this build reads it once migrated.
	old := filepath.Join(t.TempDir(), "old.db")
	script, err := os.ReadFile("schema/0001_init.sql")
	require.NoError(t, err)
	db, err := sql.Open("sqlite", old)
	require.NoError(t, err)
	_, err = db.Exec(string(script))
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 1", sqlitestore.ApplicationID))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	before := dirBytes(t, filepath.Dir(old))
	_, err = sqlitestore.OpenReadOnly(ctx, old, sqlitestore.Options{})
	assert.ErrorIs(t, err, sqlitestore.ErrNeedsMigration)
	assert.ErrorContains(t, err, "schema version 1")
	onePrefix(t, err)
	assert.Equal(t, before, dirBytes(t, filepath.Dir(old)))
}
