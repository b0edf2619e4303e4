package store_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

func open(t *testing.T, path string) *store.SQLite {
	t.Helper()
	s, err := store.Open(t.Context(), path, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func newActivation(t *testing.T, s store.Store, gen int64) (flow.ActivationID, flow.VowID) {
	t.Helper()
	id, outcome := flow.NewActivationID(), flow.NewVowID()
	op := &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Args: []byte{1}, Outcome: outcome, CreatedGen: gen}}
	require.NoError(t, store.Apply(t.Context(), s, op))
	require.Nil(t, op.Existing)
	return id, outcome
}

func TestCreateReopenAndLog(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	s := open(t, path)
	gen, err := s.BeginIncarnation(ctx, "build-1", os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, int64(1), gen)

	id, outcome := newActivation(t, s, gen)
	for i := range 3 {
		require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: int64(i), Kind: 1, Gen: gen, Payload: []byte{byte(i)}}}))
	}
	// A repeated id does not start a second activation.
	again := &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: gen}}
	require.NoError(t, store.Apply(ctx, s, again))
	require.NotNil(t, again.Existing)
	assert.Equal(t, outcome, again.Existing.Outcome)
	require.NoError(t, s.Close(ctx))

	s2 := open(t, path)
	gen2, err := s2.BeginIncarnation(ctx, "build-2", os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, int64(2), gen2)
	log, err := s2.Log(ctx, id)
	require.NoError(t, err)
	require.Len(t, log, 3)
	assert.Equal(t, []byte{2}, log[2].Payload)
	inc, err := s2.Incarnation(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "build-1", inc.Build)

	var revivable []flow.ActivationID
	require.NoError(t, s2.Revivable(ctx, func(id flow.ActivationID, name string, st store.State) error {
		revivable = append(revivable, id)
		assert.Equal(t, "test.F", name)
		assert.Equal(t, store.Running, st)
		return nil
	}))
	assert.Equal(t, []flow.ActivationID{id}, revivable)

	// Finishing settles the outcome, deletes the log, marks it done.
	fin := &store.Finish{Act: id, State: store.VowFulfilled, Payload: []byte{9}, Gen: gen2}
	require.NoError(t, store.Apply(ctx, s2, fin))
	assert.True(t, fin.Finished)
	log, err = s2.Log(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, log)
	v, err := s2.Vow(ctx, outcome)
	require.NoError(t, err)
	assert.Equal(t, store.VowFulfilled, v.State)
	assert.Equal(t, []byte{9}, v.Payload)
	a, err := s2.Activation(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.Done, a.State)
	require.NoError(t, s2.Check(ctx))
}

func TestVowsWaitsAndTimers(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "app.db"))
	act, _ := newActivation(t, s, 1)
	v1, v2 := flow.NewVowID(), flow.NewVowID()
	require.NoError(t, store.Apply(ctx, s, &store.CreateVow{ID: v1, Gen: 1}, &store.CreateVow{ID: v2, Gen: 1}))

	w := &store.Watch{Act: act, Vows: []flow.VowID{v1, v2}, Suspend: true, Gen: 1}
	require.NoError(t, store.Apply(ctx, s, w))
	assert.Equal(t, -1, w.Index)
	assert.Equal(t, -1, w.Missing)
	a, _ := s.Activation(ctx, act)
	assert.Equal(t, store.Suspended, a.State)
	waits, _ := s.Waits(ctx, act)
	assert.Len(t, waits, 2)

	settle := &store.SettleVow{ID: v2, State: store.VowFulfilled, Payload: []byte{7}, Gen: 1}
	require.NoError(t, store.Apply(ctx, s, settle))
	assert.True(t, settle.Settled)
	assert.Equal(t, []flow.ActivationID{act}, settle.Waiters)
	a, _ = s.Activation(ctx, act)
	assert.Equal(t, store.Running, a.State)
	waits, _ = s.Waits(ctx, act)
	assert.Empty(t, waits)

	// Settled at most once.
	again := &store.SettleVow{ID: v2, State: store.VowRejected, Gen: 1}
	require.NoError(t, store.Apply(ctx, s, again))
	assert.False(t, again.Settled)
	missing := &store.SettleVow{ID: flow.NewVowID(), State: store.VowRejected, Gen: 1}
	require.NoError(t, store.Apply(ctx, s, missing))
	assert.True(t, missing.Missing)

	// Watching a settled vow answers at once, first in argument order.
	w2 := &store.Watch{Act: act, Vows: []flow.VowID{v1, v2}, Suspend: true, Gen: 1}
	require.NoError(t, store.Apply(ctx, s, w2))
	assert.Equal(t, 1, w2.Index)
	assert.Equal(t, []byte{7}, w2.Vow.Payload)
	w3 := &store.Watch{Act: act, Vows: []flow.VowID{flow.NewVowID()}, Gen: 1}
	require.NoError(t, store.Apply(ctx, s, w3))
	assert.Equal(t, 0, w3.Missing)

	// Timers.
	base := time.Unix(1_800_000_000, 0)
	t1, t2 := flow.NewVowID(), flow.NewVowID()
	require.NoError(t, store.Apply(ctx, s,
		&store.CreateVow{ID: t1, Gen: 1, Deadline: base.Add(time.Minute)},
		&store.CreateVow{ID: t2, Gen: 1, Deadline: base.Add(time.Hour)}))
	next, ok, err := s.NextDeadline(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, next.Equal(base.Add(time.Minute)))
	require.NoError(t, store.Apply(ctx, s, &store.Watch{Act: act, Vows: []flow.VowID{t1}, Suspend: true, Gen: 1}))
	fire := &store.FireTimers{Now: base.Add(2 * time.Minute), Gen: 1, EncodeDeadline: func(t time.Time) []byte { return []byte(t.UTC().Format(time.RFC3339)) }}
	require.NoError(t, store.Apply(ctx, s, fire))
	require.Len(t, fire.Fired, 1)
	assert.Equal(t, t1, fire.Fired[0].Vow)
	assert.Equal(t, []flow.ActivationID{act}, fire.Fired[0].Waiters)
	v, _ := s.Vow(ctx, t1)
	assert.Equal(t, "2027-01-15T08:01:00Z", string(v.Payload))
	next, _, _ = s.NextDeadline(ctx)
	assert.True(t, next.Equal(base.Add(time.Hour)))
}

func TestGroupCommitConcurrent(t *testing.T) {
	for _, noGroup := range []bool{false, true} {
		t.Run(fmt.Sprint("noGroupCommit=", noGroup), func(t *testing.T) {
			ctx := t.Context()
			s, err := store.Open(ctx, filepath.Join(t.TempDir(), "app.db"), store.Options{NoGroupCommit: noGroup, Sync: store.SyncNormal})
			require.NoError(t, err)
			defer s.Close(ctx)
			const flows, steps = 50, 20
			ids := make([]flow.ActivationID, flows)
			for i := range ids {
				ids[i], _ = newActivation(t, s, 1)
			}
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Go(func() {
					for step := range steps {
						err := s.Submit(&store.Append{Act: id, Entry: store.Entry{Step: int64(step), Kind: 1, Gen: 1, Payload: []byte("x")}}).Wait()
						assert.NoError(t, err)
					}
				})
			}
			wg.Wait()
			for _, id := range ids {
				log, err := s.Log(ctx, id)
				require.NoError(t, err)
				assert.Len(t, log, steps)
			}
		})
	}
}

func TestBadSubmissionDoesNotSinkTheBatch(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "app.db"))
	id, _ := newActivation(t, s, 1)
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte{}}}))
	// Submit a duplicate step and a good one together, many times, so they
	// share batches.
	var bad, good []*store.Pending
	for i := range 200 {
		bad = append(bad, s.Submit(&store.Append{Act: id, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte{}}}))
		good = append(good, s.Submit(&store.Append{Act: id, Entry: store.Entry{Step: int64(i + 1), Kind: 1, Gen: 1, Payload: []byte{}}}))
	}
	for i := range bad {
		assert.Error(t, bad[i].Wait())
		assert.NoError(t, good[i].Wait())
	}
	log, err := s.Log(ctx, id)
	require.NoError(t, err)
	assert.Len(t, log, 201)
}

func TestMemoryStore(t *testing.T) {
	ctx := t.Context()
	s, err := store.Open(ctx, ":memory:", store.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	id, _ := newActivation(t, s, 1)
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte{1}}}))
	log, err := s.Log(ctx, id)
	require.NoError(t, err)
	assert.Len(t, log, 1)
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func TestRefusesFilesThatAreNotStores(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()

	text := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte("hello, this is not a database at all, not even close to one!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"), 0o644))

	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'ann')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	marked := filepath.Join(dir, "marked.db")
	db, err = sql.Open("sqlite", marked)
	require.NoError(t, err)
	_, err = db.Exec(`PRAGMA application_id = 1234; CREATE TABLE t (x)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	for _, path := range []string{text, foreign, marked} {
		before := fileBytes(t, path)
		_, err := store.Open(ctx, path, store.Options{})
		assert.ErrorIs(t, err, store.ErrNotStore, path)
		assert.Equal(t, before, fileBytes(t, path), "file must not be written")
		_, statErr := os.Stat(path + "-wal")
		assert.True(t, os.IsNotExist(statErr), "no WAL created for %s", path)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	s, err := store.Open(ctx, path, store.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	// Pretend a newer build wrote it.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion()+1))
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	before := fileBytes(t, path)
	_, err = store.Open(ctx, path, store.Options{})
	assert.ErrorIs(t, err, store.ErrNewerSchema)
	assert.ErrorContains(t, err, "run a newer build")
	assert.Equal(t, before, fileBytes(t, path))
}

func TestRefusesTruncatedAndCorruptStores(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	s, err := store.Open(ctx, path, store.Options{})
	require.NoError(t, err)
	id, _ := newActivation(t, s, 1)
	for i := range 500 {
		require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: int64(i), Kind: 1, Gen: 1, Payload: make([]byte, 200)}}))
	}
	require.NoError(t, s.Close(ctx)) // checkpoints the WAL into the file
	full := fileBytes(t, path)
	require.Greater(t, len(full), 8192)

	truncated := filepath.Join(dir, "truncated.db")
	require.NoError(t, os.WriteFile(truncated, full[:len(full)/2], 0o644))
	_, err = store.Open(ctx, truncated, store.Options{})
	assert.ErrorIs(t, err, store.ErrCorrupt)
	assert.ErrorContains(t, err, "truncated")

	tiny := filepath.Join(dir, "tiny.db")
	require.NoError(t, os.WriteFile(tiny, full[:10], 0o644))
	_, err = store.Open(ctx, tiny, store.Options{})
	assert.ErrorIs(t, err, store.ErrCorrupt)

	// Garbage over the schema page: SQLite cannot read it.
	corrupt := filepath.Join(dir, "corrupt.db")
	damaged := append([]byte(nil), full...)
	pageSize := int(binary.BigEndian.Uint16(damaged[16:]))
	for i := 100; i < pageSize; i++ {
		damaged[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(corrupt, damaged, 0o644))
	_, err = store.Open(ctx, corrupt, store.Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	assert.Equal(t, damaged, fileBytes(t, corrupt))
}

// TestSecondProcessIsRefused opens a store, then runs this test binary as a
// second process that tries to open it too.
func TestSecondProcessIsRefused(t *testing.T) {
	if path := os.Getenv("ASYNCFLOW_STORE_HELPER"); path != "" {
		_, err := store.Open(context.Background(), path, store.Options{})
		if err == nil {
			fmt.Println("OPENED")
			os.Exit(0)
		}
		fmt.Println(err)
		os.Exit(3)
	}
	path := filepath.Join(t.TempDir(), "app.db")
	s := open(t, path)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessIsRefused$")
	cmd.Env = append(os.Environ(), "ASYNCFLOW_STORE_HELPER="+path)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, string(out))
	assert.Contains(t, string(out), "in use by another process")

	// Once this process lets go, another may open it.
	require.NoError(t, s.Close(t.Context()))
	cmd = exec.Command(os.Args[0], "-test.run=^TestSecondProcessIsRefused$")
	cmd.Env = append(os.Environ(), "ASYNCFLOW_STORE_HELPER="+path)
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "OPENED")
}
