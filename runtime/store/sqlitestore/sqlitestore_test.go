package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
	"github.com/asyncflow-go/asyncflow/runtime/store/storetest"
)

func open(t *testing.T, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func TestConformance(t *testing.T) {
	for _, opts := range []sqlitestore.Options{{}, {NoGroupCommit: true, Sync: sqlitestore.SyncNormal}} {
		t.Run(fmt.Sprintf("NoGroupCommit=%v", opts.NoGroupCommit), func(t *testing.T) {
			storetest.Run(t,
				func(t *testing.T) store.Store {
					s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "app.db"), opts)
					require.NoError(t, err)
					return s
				},
				func(t *testing.T, closed store.Store) store.Store {
					s, err := sqlitestore.Open(t.Context(), closed.(*sqlitestore.Store).Path(), opts)
					require.NoError(t, err)
					return s
				})
		})
	}
}

var packagePrefix = regexp.MustCompile(`(^|: )(sqlite)?store: `)

// onePrefix checks an error names its package once, at the start.
func onePrefix(t *testing.T, err error) {
	t.Helper()
	if assert.Error(t, err) {
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "sqlitestore: "), msg)
		assert.Len(t, packagePrefix.FindAllString(msg, -1), 1, "one package prefix in %q", msg)
	}
}

func newActivation(t *testing.T, s store.Store, gen int64) (flow.ActivationID, flow.VowID) {
	t.Helper()
	id, outcome := flow.NewActivationID(), flow.NewVowID()
	op := &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Args: []byte{1}, Outcome: outcome, CreatedGen: gen}}
	require.NoError(t, store.Apply(t.Context(), s, op))
	require.Nil(t, op.Existing)
	return id, outcome
}

func TestMemoryStore(t *testing.T) {
	ctx := t.Context()
	s, err := sqlitestore.Open(ctx, sqlitestore.Memory, sqlitestore.Options{})
	require.NoError(t, err)
	id, _ := newActivation(t, s, 1)
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte{1}}}))
	log, err := s.Log(ctx, id)
	require.NoError(t, err)
	assert.Len(t, log, 1)
	// Reads go through the committer, in order with the writes.
	p := s.Submit(&store.Append{Act: id, Entry: store.Entry{Step: 1, Kind: 1, Gen: 1, Payload: []byte{2}}})
	log, err = s.Log(ctx, id)
	require.NoError(t, err)
	assert.Len(t, log, 2)
	require.NoError(t, p.Wait())
	require.NoError(t, s.Close(ctx))
	_, err = s.Log(ctx, id)
	assert.ErrorIs(t, err, store.ErrClosed)
	onePrefix(t, err)
}

// TestDamagedRows reads rows no store writes: they give ErrCorrupt, and one
// damaged activation does not keep the others from being revived.
func TestDamagedRows(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	s := open(t, path)
	good, _ := newActivation(t, s, 1)
	gapped, _ := newActivation(t, s, 1)
	for _, step := range []int64{0, 2} {
		require.NoError(t, store.Apply(ctx, s, &store.Append{Act: gapped, Entry: store.Entry{Step: step, Kind: 1, Gen: 1, Payload: []byte{}}}))
	}
	require.NoError(t, s.Close(ctx))

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (x'0102', 'test.F', x'00', 1, x'00', 1, 1)`)
	require.NoError(t, err)
	badState := flow.NewActivationID()
	_, err = db.Exec(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (?, 'test.F', x'00', 9, ?, 1, 1)`, badState[:], badState[:])
	require.NoError(t, err)
	badGen := flow.NewActivationID()
	_, err = db.Exec(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (?, 'test.F', x'00', 1, ?, 1, 'abc')`, badGen[:], badGen[:])
	require.NoError(t, err)
	badVow := flow.NewVowID()
	_, err = db.Exec(`INSERT INTO vows (id, state, gen) VALUES (?, 7, 1)`, badVow[:])
	require.NoError(t, err)
	require.NoError(t, db.Close())

	var logs syncBuffer
	s, err = sqlitestore.Open(ctx, path, sqlitestore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer s.Close(context.Background())
	_, err = s.Log(ctx, gapped)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	assert.ErrorContains(t, err, "step 2 where 1 was expected")
	_, err = s.Activation(ctx, badState)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	_, err = s.Activation(ctx, badGen)
	assert.ErrorIs(t, err, store.ErrCorrupt, "text where a number must be")
	onePrefix(t, err)
	_, err = s.Vow(ctx, badVow)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	var revivable []flow.ActivationID
	require.NoError(t, s.Revivable(ctx, func(id flow.ActivationID, _ string, _ store.State) error {
		revivable = append(revivable, id)
		return nil
	}))
	// The row with a bad generation reads its id, flow and state: revival
	// finds the damage when it reads the row.
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped, badGen}, revivable, "the damaged row is skipped")

	// A listing reports the damaged rows and goes on, page after page.
	all, err := s.Activations(ctx, store.Filter{})
	require.NoError(t, err, "one damaged row does not fail the listing")
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped}, ids(all))
	var paged []flow.ActivationID
	f := store.Filter{Limit: 1}
	for range 10 {
		page, err := s.Activations(ctx, f)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		assert.Len(t, page, 1, "a page holds Limit readable rows while there are more")
		paged = append(paged, ids(page)...)
		f.After = page[len(page)-1].Position()
	}
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped}, paged)
	assert.Contains(t, logs.String(), "damaged activation row")
	assert.Contains(t, logs.String(), "0102", "the report names the row")
}

func ids(as []store.Activation) []flow.ActivationID {
	out := make([]flow.ActivationID, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
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
		_, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		assert.ErrorIs(t, err, store.ErrNotStore, path)
		onePrefix(t, err)
		assert.Equal(t, before, fileBytes(t, path), "file must not be written")
		_, statErr := os.Stat(path + "-wal")
		assert.True(t, os.IsNotExist(statErr), "no WAL created for %s", path)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	// Pretend a newer build wrote it.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = %d", sqlitestore.SchemaVersion()+1))
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	before := fileBytes(t, path)
	_, err = sqlitestore.Open(ctx, path, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrNewerSchema)
	onePrefix(t, err)
	assert.ErrorContains(t, err, "run a newer build")
	assert.Equal(t, before, fileBytes(t, path))
}

func TestRefusesTruncatedAndCorruptStores(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
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
	_, err = sqlitestore.Open(ctx, truncated, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	assert.ErrorContains(t, err, "truncated")
	assert.Equal(t, full[:len(full)/2], fileBytes(t, truncated), "a truncated copy is left as it was")
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		_, statErr := os.Stat(truncated + suffix)
		assert.True(t, os.IsNotExist(statErr), "nothing made beside it: %s", suffix)
	}

	tiny := filepath.Join(dir, "tiny.db")
	require.NoError(t, os.WriteFile(tiny, full[:10], 0o644))
	_, err = sqlitestore.Open(ctx, tiny, sqlitestore.Options{})
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)

	// Garbage over the schema page: SQLite cannot read it.
	corrupt := filepath.Join(dir, "corrupt.db")
	damaged := append([]byte(nil), full...)
	pageSize := int(binary.BigEndian.Uint16(damaged[16:]))
	for i := 100; i < pageSize; i++ {
		damaged[i] = byte(i * 7)
	}
	require.NoError(t, os.WriteFile(corrupt, damaged, 0o644))
	_, err = sqlitestore.Open(ctx, corrupt, sqlitestore.Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	assert.Equal(t, damaged, fileBytes(t, corrupt))
}

// TestSecondProcessIsRefused opens a store, then runs this test binary as a
// second process that tries to open it too.
func TestSecondProcessIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	s := open(t, path)
	out, err := helper(t, "open", path).CombinedOutput()
	require.Error(t, err, string(out))
	assert.Contains(t, string(out), "in use by another process")

	// Once this process lets go, another may open it.
	require.NoError(t, s.Close(t.Context()))
	out, err = helper(t, "open", path).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "OPENED")
}

// helper returns the command that runs this test binary as the named helper
// program (see TestMain).
func helper(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ASYNCFLOW_STORE_HELPER="+name)
	return cmd
}

// helperOpen opens the store at args[0] and says whether it could.
func helperOpen(args []string) int {
	_, err := sqlitestore.Open(context.Background(), args[0], sqlitestore.Options{})
	if err != nil {
		fmt.Println(err)
		return 3
	}
	fmt.Println("OPENED")
	return 0
}

// helperHold opens the store at args[0], says so, and holds it until its
// standard input closes.
func helperHold(args []string) int {
	s, err := sqlitestore.Open(context.Background(), args[0], sqlitestore.Options{})
	if err != nil {
		fmt.Println(err)
		return 3
	}
	fmt.Println("OPENED")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Close(context.Background())
	return 0
}

// syncBuffer is a buffer a logger writes to from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
