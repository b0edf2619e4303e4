package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

func TestTrustedSchemaIsOff(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "app.db"), Options{})
	require.NoError(t, err)
	defer s.Close(context.Background())
	var readers, writing int
	require.NoError(t, s.rdb.QueryRowContext(t.Context(), "PRAGMA trusted_schema").Scan(&readers))
	assert.Equal(t, 0, readers, "readers")
	// The write connection is the committer's: ask through it.
	p := s.enqueue(job{p: store.NewPending(), own: func(w *writer) error {
		return w.conn.QueryRowContext(w.ctx, "PRAGMA trusted_schema").Scan(&writing)
	}}, s.closedErr())
	require.NoError(t, p.Wait())
	assert.Equal(t, 0, writing, "writer")
}

// TestCreationRace: another process creates the store between this one
// finding no file and creating it. This one opens the file the other made and
// gets the lock error, not "file exists".
func TestCreationRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	var other *exec.Cmd
	testHookBeforeCreate = func(p string) {
		testHookBeforeCreate = nil
		// The "hold" helper of this test binary's TestMain.
		other = exec.Command(os.Args[0], p)
		other.Env = append(os.Environ(), "ASYNCFLOW_STORE_HELPER=hold")
		stdin, err := other.StdinPipe()
		require.NoError(t, err)
		t.Cleanup(func() { stdin.Close(); _ = other.Wait() })
		stdout, err := other.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, other.Start())
		line := make([]byte, 7)
		_, err = stdout.Read(line)
		require.NoError(t, err)
		require.Equal(t, "OPENED\n", string(line))
	}
	defer func() { testHookBeforeCreate = nil }()
	_, err := Open(t.Context(), path, Options{})
	require.NotNil(t, other, "the hook ran")
	assert.ErrorIs(t, err, store.ErrLocked)
	assert.ErrorContains(t, err, "in use by another process")
	assert.NotContains(t, err.Error(), "file exists")
}

// TestSecondOpenInProcess: a store open in this process is not "in use by
// another process" when it is opened again here, under the same name or
// another.
func TestSecondOpenInProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	s, err := Open(t.Context(), path, Options{})
	require.NoError(t, err)
	link := filepath.Join(dir, "link.db")
	require.NoError(t, os.Symlink(path, link))
	for _, p := range []string{path, link} {
		_, err = Open(t.Context(), p, Options{})
		assert.ErrorIs(t, err, store.ErrLocked)
		assert.ErrorContains(t, err, "already open in this process")
		assert.NotContains(t, err.Error(), "another process")
	}
	require.NoError(t, s.Close(t.Context()))
	s, err = Open(t.Context(), path, Options{})
	require.NoError(t, err, "closed, it opens again")
	require.NoError(t, s.Close(t.Context()))
}

// TestMigrateVowKinds: a store of schema 1 knows nothing of vow kinds; once
// migrated, outcomes and pending timers have theirs, and other vows are the
// host's.
func TestMigrateVowKinds(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(migrations[0].sql)
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 1", ApplicationID))
	require.NoError(t, err)
	act, outcome, timer, host := flow.NewActivationID(), flow.NewVowID(), flow.NewVowID(), flow.NewVowID()
	_, err = db.Exec(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (?, 'test.F', x'0800', 2, ?, 1, 1)`, act[:], outcome[:])
	require.NoError(t, err)
	for _, v := range []flow.VowID{outcome, timer, host} {
		_, err = db.Exec(`INSERT INTO vows (id, state, gen) VALUES (?, 0, 1)`, v[:])
		require.NoError(t, err)
	}
	_, err = db.Exec(`INSERT INTO timers (deadline, vow) VALUES (1, ?)`, timer[:])
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)
	defer s.Close(context.Background())
	for v, want := range map[flow.VowID]store.VowKind{outcome: store.OutcomeVow, timer: store.TimerVow, host: store.HostVow} {
		got, err := s.Vow(ctx, v)
		require.NoError(t, err)
		assert.Equal(t, want, got.Kind)
	}
}
