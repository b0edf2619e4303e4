package pgstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
	"github.com/asyncflow-go/asyncflow/runtime/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, url string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// TestConformance runs the suite with each case's store in a schema of its
// own, in one database.
func TestConformance(t *testing.T) {
	for _, opts := range []pgstore.Options{{}, {NoGroupCommit: true}} {
		t.Run(fmt.Sprintf("NoGroupCommit=%v", opts.NoGroupCommit), func(t *testing.T) {
			url := pgtest.DB(t)
			n := 0
			storetest.Run(t,
				func(t *testing.T) store.Store {
					n++
					o := opts
					o.Schema = fmt.Sprintf("case_%d", n)
					s, err := pgstore.Open(t.Context(), url, o)
					require.NoError(t, err)
					return s
				},
				func(t *testing.T, closed store.Store) store.Store {
					o := opts
					o.Schema = closed.(*pgstore.Store).Schema()
					s, err := pgstore.Open(t.Context(), url, o)
					require.NoError(t, err)
					return s
				})
		})
	}
}

func TestConformanceShared(t *testing.T) {
	var mu sync.Mutex
	urls := map[store.Shared]string{}
	opts := pgstore.Options{Lease: 2 * time.Second, Poll: 200 * time.Millisecond}
	openAt := func(t *testing.T, url string) store.Shared {
		s, err := pgstore.Open(t.Context(), url, opts)
		require.NoError(t, err)
		mu.Lock()
		urls[s] = url
		mu.Unlock()
		return s
	}
	storetest.RunShared(t, storetest.Shared{
		Open: func(t *testing.T) store.Shared { return openAt(t, pgtest.DB(t)) },
		Another: func(t *testing.T, s store.Shared) store.Shared {
			mu.Lock()
			url := urls[s]
			mu.Unlock()
			return openAt(t, url)
		},
		Lapse:  func(t *testing.T, s store.Shared) { require.NoError(t, pgstore.Lapse(s.(*pgstore.Store))) },
		Resume: func(t *testing.T, s store.Shared) { pgstore.Resume(s.(*pgstore.Store)) },
	})
}

var packagePrefix = regexp.MustCompile(`(^|: )(pg)?store: `)

// onePrefix checks an error names its package once, at the start.
func onePrefix(t *testing.T, err error) {
	t.Helper()
	if assert.Error(t, err) {
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "pgstore: "), msg)
		assert.Len(t, packagePrefix.FindAllString(msg, -1), 1, "one package prefix in %q", msg)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func exec(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	_, err := c.Exec(t.Context(), sql, args...)
	require.NoError(t, err, sql)
}

// snapshot describes every schema object and the rows of every table of the
// database outside the system catalogs, to show that nothing was written.
func snapshot(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	rows, err := c.Query(ctx, `SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var ns, rel, kind string
		require.NoError(t, rows.Scan(&ns, &rel, &kind))
		fmt.Fprintf(&b, "%s.%s %s\n", ns, rel, kind)
		if kind == "r" {
			tables = append(tables, pgx.Identifier{ns, rel}.Sanitize())
		}
	}
	require.NoError(t, rows.Err())
	for _, q := range []string{
		`SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' ORDER BY 1`,
		`SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
	} {
		rows, err := c.Query(ctx, q)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			fmt.Fprintln(&b, s)
		}
		require.NoError(t, rows.Err())
	}
	for _, tbl := range tables {
		rows, err := c.Query(ctx, `SELECT t::text FROM `+tbl+` t ORDER BY 1`)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			fmt.Fprintf(&b, "%s: %s\n", tbl, s)
		}
		require.NoError(t, rows.Err())
	}
	return b.String()
}

func TestRefusesSchemasThatAreNotStores(t *testing.T) {
	for _, c := range []struct{ name, setup, says string }{
		{"foreign tables", `CREATE SCHEMA asyncflow; CREATE TABLE asyncflow.customers (id int PRIMARY KEY, name text); INSERT INTO asyncflow.customers VALUES (1, 'ann')`,
			"schema asyncflow holds what asyncflow did not make (customers) and no asyncflow mark"},
		{"a foreign function", `CREATE SCHEMA asyncflow; CREATE FUNCTION asyncflow.f() RETURNS int LANGUAGE sql AS 'SELECT 1'`, "(f())"},
		{"another application's mark", `CREATE SCHEMA asyncflow; CREATE TABLE asyncflow.store_meta (application text, version int); INSERT INTO asyncflow.store_meta VALUES ('billing', 1)`, "billing"},
		{"a store_meta of another shape", `CREATE SCHEMA asyncflow; CREATE TABLE asyncflow.store_meta (k text, v text)`, "store_meta"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := pgtest.DB(t)
			conn := connect(t, url)
			exec(t, conn, c.setup)
			before := snapshot(t, conn)
			_, err := pgstore.Open(t.Context(), url, pgstore.Options{})
			assert.ErrorIs(t, err, store.ErrNotStore)
			assert.ErrorContains(t, err, c.says)
			onePrefix(t, err)
			assert.Equal(t, before, snapshot(t, conn), "nothing is written")
		})
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	url := pgtest.DB(t)
	s, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close(t.Context()))
	conn := connect(t, url)
	exec(t, conn, `UPDATE asyncflow.store_meta SET version = $1`, pgstore.SchemaVersion()+1)
	before := snapshot(t, conn)
	_, err = pgstore.Open(t.Context(), url, pgstore.Options{})
	assert.ErrorIs(t, err, store.ErrNewerSchema)
	onePrefix(t, err)
	assert.ErrorContains(t, err, "run a newer build")
	assert.Equal(t, before, snapshot(t, conn), "nothing is written")
}

func TestSharesADatabase(t *testing.T) {
	// The application's own tables, and an empty schema made for the store.
	url := pgtest.DB(t)
	conn := connect(t, url)
	exec(t, conn, `CREATE TABLE public.orders (id int PRIMARY KEY); INSERT INTO public.orders VALUES (7); CREATE SCHEMA tenant_b`)
	a := open(t, url, pgstore.Options{})
	b := open(t, url, pgstore.Options{Schema: "tenant_b"})
	assert.Equal(t, "tenant_b", b.Schema())
	id := flow.NewActivationID()
	require.NoError(t, store.Apply(t.Context(), a, &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	_, err := a.Activation(t.Context(), id)
	require.NoError(t, err)
	_, err = b.Activation(t.Context(), id)
	assert.ErrorIs(t, err, store.ErrNotFound, "two schemas, two stores")
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT id FROM public.orders`).Scan(&n))
	assert.Equal(t, 7, n)

	_, err = pgstore.Open(t.Context(), url, pgstore.Options{Schema: "Bad-Name"})
	assert.ErrorContains(t, err, "lower-case identifier")
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	url := pgtest.DB(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			s, err := pgstore.Open(t.Context(), url, pgstore.Options{})
			if err == nil {
				err = s.Close(t.Context())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "open %d", i)
	}
	conn := connect(t, url)
	var version int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT version FROM asyncflow.store_meta`).Scan(&version))
	assert.Equal(t, pgstore.SchemaVersion(), version)
}

func TestGroupCommitSharesTransactions(t *testing.T) {
	s := open(t, pgtest.DB(t), pgstore.Options{})
	ctx := t.Context()
	const flows, steps = 50, 20
	acts := make([]flow.ActivationID, flows)
	for i := range acts {
		acts[i] = flow.NewActivationID()
		require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: acts[i], Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	}
	before := pgstore.Commits(s)
	var wg sync.WaitGroup
	for _, id := range acts {
		wg.Go(func() {
			for step := range steps {
				assert.NoError(t, s.Submit(&store.Append{Act: id, Entry: store.Entry{Step: int64(step), Kind: 1, Gen: 1, Payload: []byte{byte(step)}}}).Wait())
			}
		})
	}
	wg.Wait()
	commits := pgstore.Commits(s) - before
	t.Logf("%d appends in %d transactions", flows*steps, commits)
	assert.Less(t, commits, int64(flows*steps), "concurrent appends share transactions")
	for _, id := range acts {
		log, err := s.Log(ctx, id)
		require.NoError(t, err)
		assert.Len(t, log, steps)
	}
}

func TestErrorsNameTheStoreOnce(t *testing.T) {
	s := open(t, pgtest.DB(t), pgstore.Options{})
	ctx := t.Context()
	_, err := s.Activation(ctx, flow.NewActivationID())
	assert.ErrorIs(t, err, store.ErrNotFound)
	onePrefix(t, err)
	a := flow.NewActivationID()
	err = store.Apply(ctx, s, &store.Append{Act: a, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1}})
	assert.ErrorIs(t, err, store.ErrNotFound, "no log without its activation")
	onePrefix(t, err)
	require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: a, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: a, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1}}))
	err = store.Apply(ctx, s, &store.Append{Act: a, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1}})
	onePrefix(t, err)
	assert.ErrorContains(t, err, "append to "+a.String())
	require.NoError(t, s.Close(ctx))
	_, err = s.Log(ctx, a)
	assert.ErrorIs(t, err, store.ErrClosed)
	onePrefix(t, err)
	err = s.Submit(&store.CreateVow{ID: flow.NewVowID(), Gen: 1}).Wait()
	assert.ErrorIs(t, err, store.ErrClosed)
	onePrefix(t, err)
}

// TestDamagedRows reads rows no store writes: they give ErrCorrupt, one
// damaged activation does not keep the others from being revived or listed,
// and Check names what is wrong.
func TestDamagedRows(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	var logs strings.Builder
	var logMu sync.Mutex
	s := open(t, url, pgstore.Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))})
	good := flow.NewActivationID()
	require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: good, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	require.NoError(t, s.Check(ctx))
	gapped := flow.NewActivationID()
	require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: gapped, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	for _, step := range []int64{0, 2} {
		require.NoError(t, store.Apply(ctx, s, &store.Append{Act: gapped, Entry: store.Entry{Step: step, Kind: 1, Gen: 1}}))
	}

	conn := connect(t, url)
	exec(t, conn, `INSERT INTO asyncflow.activations (id, flow, args, state, outcome, created_gen, gen) VALUES ('\x0102', 'test.F', '\x00', 1, '\x00', 1, 1)`)
	badState := flow.NewActivationID()
	exec(t, conn, `INSERT INTO asyncflow.activations (id, flow, args, state, outcome, created_gen, gen) VALUES ($1, 'test.F', '\x00', 9, $1, 1, 1)`, badState[:])
	badVow := flow.NewVowID()
	exec(t, conn, `INSERT INTO asyncflow.vows (id, state, gen) VALUES ($1, 7, 1)`, badVow[:])

	_, err := s.Log(ctx, gapped)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	assert.ErrorContains(t, err, "step 2 where 1 was expected")
	_, err = s.Activation(ctx, badState)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	_, err = s.Vow(ctx, badVow)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	var revivable []flow.ActivationID
	require.NoError(t, s.Revivable(ctx, func(id flow.ActivationID, _ string, _ store.State) error {
		revivable = append(revivable, id)
		return nil
	}))
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped}, revivable, "the damaged row is skipped")

	// A listing reports the damaged rows and goes on, page after page.
	all, err := s.Activations(ctx, store.Filter{})
	require.NoError(t, err, "one damaged row does not fail the listing")
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped}, listedIDs(all))
	var paged []flow.ActivationID
	f := store.Filter{Limit: 1}
	for range 10 {
		page, err := s.Activations(ctx, f)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		assert.Len(t, page, 1, "a page holds Limit readable rows while there are more")
		paged = append(paged, listedIDs(page)...)
		f.After = page[len(page)-1].Position()
	}
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped}, paged)
	logMu.Lock()
	assert.Contains(t, logs.String(), "damaged activation row")
	assert.Contains(t, logs.String(), "0102", "the report names the row")
	logMu.Unlock()
	err = s.Check(ctx)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	onePrefix(t, err)
	for _, want := range []string{"1 activations with an id that is not 16 bytes", "1 activations in no known state",
		"2 activations without their outcome vow", "1 vows in no known state", "1 logs with a gap"} {
		assert.ErrorContains(t, err, want)
	}
	var logErr error
	require.NoError(t, s.Logs(ctx, []flow.ActivationID{good, gapped}, func(id flow.ActivationID, log []store.Entry, err error) {
		if id == gapped {
			logErr = err
		}
	}))
	assert.ErrorIs(t, logErr, store.ErrCorrupt, "one damaged log among those read together")

	// A backup leaves out the rows it cannot read back, and copies the rest.
	dest := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, s.Backup(ctx, dest))
	c, err := sqlitestore.OpenReadOnly(ctx, dest, sqlitestore.Options{})
	require.NoError(t, err)
	defer c.Close(context.Background())
	copied, err := c.Activations(ctx, store.Filter{})
	require.NoError(t, err)
	var ids []flow.ActivationID
	for _, a := range copied {
		ids = append(ids, a.ID)
	}
	assert.ElementsMatch(t, []flow.ActivationID{good, gapped}, ids)
}

// TestConnectionLost ends the committer's session, as a server restart or a
// network failure would: the store connects again and goes on.
func TestConnectionLost(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	s := open(t, url, pgstore.Options{})
	a := flow.NewActivationID()
	require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: a, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	conn := connect(t, url)
	var ended int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'asyncflow%'`).Scan(&ended))
	require.GreaterOrEqual(t, ended, 2, "the committer and the listener, at least")
	// The first submission may find the connection dead, and fail; the
	// next ones go through a new one.
	step := int64(0)
	if err := store.Apply(ctx, s, &store.Append{Act: a, Entry: store.Entry{Step: step, Kind: 1, Gen: 1}}); err == nil {
		step++
	} else {
		onePrefix(t, err)
		t.Logf("the first submission after the loss: %v", err)
	}
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: a, Entry: store.Entry{Step: step, Kind: 1, Gen: 1}}))
	log, err := s.Log(ctx, a)
	require.NoError(t, err)
	assert.Len(t, log, int(step)+1)

	// What other processes said meanwhile was not heard: a Poll says so.
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-s.Events():
			if ev.Kind == store.Poll && ev.Missed {
				return
			}
		case <-deadline:
			t.Fatal("no Poll with Missed after the events connection was lost")
		}
	}
}

// TestMigratesSchemaOne opens a store written at schema version 1: it is
// migrated in place, and what it held is there and runs on.
func TestMigratesSchemaOne(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	conn := connect(t, url)
	exec(t, conn, `CREATE SCHEMA asyncflow`)
	exec(t, conn, `SET search_path = asyncflow`)
	exec(t, conn, pgstore.MigrationSQL(1))
	exec(t, conn, `INSERT INTO store_meta VALUES ('asyncflow', 1)`)
	id, outcome := flow.NewActivationID(), flow.NewVowID()
	exec(t, conn, `INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES ($1, 'test.F', '\x01', 1, $2, 1, 1)`, id[:], outcome[:])
	exec(t, conn, `INSERT INTO vows (id, state, gen) VALUES ($1, 0, 1)`, outcome[:])
	exec(t, conn, `INSERT INTO entries (act, step, kind, gen, payload) VALUES ($1, 0, 1, 1, '\x02')`, id[:])

	s := open(t, url, pgstore.Options{})
	var version int
	require.NoError(t, conn.QueryRow(ctx, `SELECT version FROM asyncflow.store_meta`).Scan(&version))
	assert.Equal(t, pgstore.SchemaVersion(), version)
	got, err := s.Activation(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.Running, got.State)
	ok, err := s.Claim(ctx, id, false)
	require.NoError(t, err)
	assert.True(t, ok, "nobody owns what an older schema held")
	require.NoError(t, store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: 1, Kind: 1, Gen: 2}}))
	fin := &store.Finish{Act: id, State: store.VowFulfilled, Gen: 2}
	require.NoError(t, store.Apply(ctx, s, fin))
	assert.True(t, fin.Finished)
	assert.NoError(t, s.Check(ctx))
}

func listedIDs(as []store.Activation) []flow.ActivationID {
	out := make([]flow.ActivationID, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// lockedWriter writes to w under mu: slog handlers may write from several
// goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestFenceWaitsForTheTransactionInFlight: a member's transaction holds its
// fence until it ends. A takeover waits for it, the reaper passes the
// member by, and what the member writes once the takeover has committed is
// refused.
func TestFenceWaitsForTheTransactionInFlight(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	a := open(t, url, pgstore.Options{})
	b := open(t, url, pgstore.Options{})
	x := flow.NewActivationID()
	require.NoError(t, store.Apply(ctx, a, &store.CreateActivation{Activation: store.Activation{ID: x, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	require.NoError(t, appendEntry(ctx, a, x, 0))
	member, epoch := pgstore.Member(a)

	// A transaction of a's on its way: fenced, not yet committed.
	inFlight := connect(t, url)
	exec(t, inFlight, `SET search_path = asyncflow`)
	tx, err := inFlight.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(context.Background())
	_, err = tx.Exec(ctx, `SELECT fence($1, $2)`, member, epoch)
	require.NoError(t, err)
	require.NoError(t, pgstore.Lapse(a))

	other := connect(t, url)
	exec(t, other, `SET search_path = asyncflow`)
	var fencedN int
	var stuck []int64
	require.NoError(t, other.QueryRow(ctx, `SELECT fenced, stuck FROM reap(0)`).Scan(&fencedN, &stuck))
	assert.Zero(t, fencedN, "the reaper does not fence a member whose transaction is on its way")
	assert.Contains(t, stuck, member, "and reports it stuck once its lease has lapsed for longer than the grace")

	claimed := make(chan error, 1)
	go func() {
		ok, err := b.Claim(context.Background(), x, false)
		if err == nil && !ok {
			err = fmt.Errorf("claim refused")
		}
		claimed <- err
	}()
	select {
	case err := <-claimed:
		t.Fatalf("the takeover did not wait for the transaction in flight: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	// The transaction in flight still writes, and commits, before the
	// takeover.
	_, err = tx.Exec(ctx, `INSERT INTO entries (act, step, kind, gen, at_ns, payload) VALUES ($1, 1, 1, 1, 0, '')`, x[:])
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	select {
	case err := <-claimed:
		require.NoError(t, err, "the takeover goes on once the transaction has ended")
	case <-time.After(10 * time.Second):
		t.Fatal("the takeover still waits after the transaction ended")
	}

	// Whatever a writes now is refused: its epoch was bumped.
	err = appendEntry(ctx, a, x, 2)
	require.ErrorIs(t, err, store.ErrFenced)
	_, err = inFlight.Exec(ctx, `SELECT fence($1, $2)`, member, epoch)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was fenced")
	log, err := b.Log(ctx, x)
	require.NoError(t, err)
	assert.Len(t, log, 2, "the entry of the transaction that was in flight, and none after the takeover")
}

func appendEntry(ctx context.Context, s store.Store, id flow.ActivationID, step int64) error {
	return store.Apply(ctx, s, &store.Append{Act: id, Entry: store.Entry{Step: step, Kind: 1, Gen: 1, Payload: []byte{1}}})
}
