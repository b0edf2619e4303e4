package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ApplicationID marks a SQLite file as an asyncflow store ("AfLw").
const ApplicationID = 0x41664c77

//go:embed schema/*.sql
var schemaFS embed.FS

// migration is one numbered schema script.
type migration struct {
	version int
	name    string
	sql     string
}

var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, n := range names {
		base := filepath.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("store: schema file without a number: " + base)
		}
		b, err := schemaFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			panic("store: schema versions must be 1, 2, 3, …; found " + m.name)
		}
	}
	return ms
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// Sync chooses how commits reach the disk.
type Sync int

const (
	// SyncFull fsyncs every commit (synchronous=FULL): a commit survives
	// power loss. The default.
	SyncFull Sync = iota
	// SyncNormal (synchronous=NORMAL in WAL mode) syncs at checkpoints only:
	// commits survive a crash of the process but the last ones may be lost on
	// power loss or an operating system crash.
	SyncNormal
)

// Options configure a SQLite store. The zero value is sensible.
type Options struct {
	// Sync chooses durability against speed; default SyncFull.
	Sync Sync
	// NoGroupCommit applies each submission in its own transaction instead
	// of sharing transactions between concurrent submitters. It exists to
	// measure what group commit buys.
	NoGroupCommit bool
	// MaxBatch bounds the submissions in one transaction; default 4096.
	MaxBatch int
	// BusyTimeout is how long to wait on a lock held by a reader or an
	// inspection tool; default 5s.
	BusyTimeout time.Duration
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
}

// SQLite is the store on embedded SQLite.
type SQLite struct {
	path   string
	memory bool
	opts   Options
	log    *slog.Logger
	lockF  *os.File
	wdb    *sql.DB // one connection, owned by the committer
	rdb    *sql.DB // readers

	queue    chan *Pending
	stop     chan struct{}
	stopped  chan struct{}
	closing  atomic.Bool
	closeMu  sync.Mutex
	closeErr error
	closed   bool
}

var _ Store = (*SQLite)(nil)

var memSeq atomic.Int64

// Open opens the store at path, creating it if it does not exist. The path
// ":memory:" gives a private in-memory store (for tests and benchmarks). See
// the package documentation for what is checked.
func Open(ctx context.Context, path string, opts Options) (_ *SQLite, err error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &SQLite{
		path:    path,
		opts:    opts,
		log:     opts.Logger,
		queue:   make(chan *Pending, 4096),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if path == ":memory:" {
		s.memory = true
		name := fmt.Sprintf("file:asyncflow-mem-%d-%d?mode=memory&cache=shared", os.Getpid(), memSeq.Add(1))
		db, err := sql.Open("sqlite", name+"&"+s.pragmas(false))
		if err != nil {
			return nil, fmt.Errorf("store: open memory: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.wdb, s.rdb = db, db
	} else {
		if err := s.openFile(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	go s.commitLoop()
	return s, nil
}

func (s *SQLite) pragmas(readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(off)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		return q.Encode()
	}
	if !s.memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	if s.opts.Sync == SyncNormal {
		q.Add("_pragma", "synchronous(NORMAL)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	return q.Encode()
}

func (s *SQLite) openFile(ctx context.Context) error {
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	s.path = abs
	f, err := os.OpenFile(abs, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", abs, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return fmt.Errorf("store: %s: %w (only one process may run flows on a store)", abs, ErrLocked)
		}
		return fmt.Errorf("store: lock %s: %w", abs, err)
	}
	s.lockF = f
	if err := checkHeader(f, abs); err != nil {
		return err
	}

	// Read-only checks through SQLite before anything is written: journal
	// mode WAL and migrations write.
	s.rdb, err = sql.Open("sqlite", "file:"+uriPath(abs)+"?"+s.pragmas(true))
	if err != nil {
		return fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.rdb.SetMaxOpenConns(4)
	s.rdb.SetMaxIdleConns(4)
	if err := s.checkIdentity(ctx); err != nil {
		return err
	}
	s.wdb, err = sql.Open("sqlite", "file:"+uriPath(abs)+"?"+s.pragmas(false))
	if err != nil {
		return fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := s.wdb.PingContext(ctx); err != nil {
		return s.wrap("open", err)
	}
	return nil
}

func uriPath(p string) string {
	return (&url.URL{Path: filepath.ToSlash(p)}).EscapedPath()
}

// checkHeader looks at the SQLite header without SQLite, so a file that is
// not ours is refused before SQLite could write to it (journal mode, WAL
// recovery).
func checkHeader(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	size := st.Size()
	if size == 0 {
		return nil // new, or created empty by the caller
	}
	var h [100]byte
	n, err := f.ReadAt(h[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("store: %s: read header: %w", path, err)
	}
	const magic = "SQLite format 3\x00"
	if n < len(magic) || string(h[:len(magic)]) != magic {
		if n < len(magic) && string(h[:n]) == magic[:n] {
			return fmt.Errorf("store: %s: %w: truncated to %d bytes", path, ErrCorrupt, size)
		}
		return fmt.Errorf("store: %s: %w: not a SQLite database", path, ErrNotStore)
	}
	if n < len(h) {
		return fmt.Errorf("store: %s: %w: truncated to %d bytes", path, ErrCorrupt, size)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("store: %s: %w: bad page size %d", path, ErrCorrupt, pageSize)
	}
	appID := binary.BigEndian.Uint32(h[68:])
	if appID != 0 && appID != ApplicationID {
		return fmt.Errorf("store: %s: %w: it belongs to another application (application_id 0x%08x)", path, ErrNotStore, appID)
	}
	if appID == ApplicationID {
		if v := int32(binary.BigEndian.Uint32(h[60:])); int(v) > SchemaVersion() {
			return fmt.Errorf("store: %s: %w: schema version %d, this build knows up to %d; run a newer build", path, ErrNewerSchema, v, SchemaVersion())
		}
	}
	changes, validFor := binary.BigEndian.Uint32(h[24:]), binary.BigEndian.Uint32(h[92:])
	pages := int64(binary.BigEndian.Uint32(h[28:]))
	if changes == validFor && pages > 0 && pages*pageSize > size {
		return fmt.Errorf("store: %s: %w: truncated: %d bytes, the header says %d pages of %d", path, ErrCorrupt, size, pages, pageSize)
	}
	return nil
}

// checkIdentity checks, read-only, that the database is ours or empty.
func (s *SQLite) checkIdentity(ctx context.Context) error {
	var appID, version int64
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return s.wrap("check", err)
	}
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.wrap("check", err)
	}
	switch {
	case appID == 0:
		var tables int
		if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return s.wrap("check", err)
		}
		if tables > 0 {
			return fmt.Errorf("store: %s: %w: a SQLite database of another application (%d schema objects, no asyncflow application_id)", s.path, ErrNotStore, tables)
		}
	case appID != ApplicationID:
		return fmt.Errorf("store: %s: %w: it belongs to another application (application_id 0x%08x)", s.path, ErrNotStore, appID)
	case version > int64(SchemaVersion()):
		return fmt.Errorf("store: %s: %w: schema version %d, this build knows up to %d; run a newer build", s.path, ErrNewerSchema, version, SchemaVersion())
	case version < 1:
		return fmt.Errorf("store: %s: %w: marked as a store but without a schema version", s.path, ErrCorrupt)
	}
	return nil
}

// migrate brings the schema up to date in one transaction.
func (s *SQLite) migrate(ctx context.Context) error {
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return s.wrap("migrate", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.wrap("migrate", err)
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var appID, version int64
	if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return s.wrap("migrate", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.wrap("migrate", err)
	}
	if appID != 0 && appID != ApplicationID {
		return fmt.Errorf("store: %s: %w (application_id 0x%08x)", s.path, ErrNotStore, appID)
	}
	if version > int64(SchemaVersion()) {
		return fmt.Errorf("store: %s: %w: schema version %d, this build knows up to %d", s.path, ErrNewerSchema, version, SchemaVersion())
	}
	if version == int64(SchemaVersion()) {
		return nil
	}
	for _, m := range migrations[version:] {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: migrate to %s: %w", m.name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
		return s.wrap("migrate", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion())); err != nil {
		return s.wrap("migrate", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return s.wrap("migrate", err)
	}
	committed = true
	if version > 0 {
		s.log.Info("asyncflow store migrated", "path", s.path, "from", version, "to", SchemaVersion())
	}
	return nil
}

// wrap turns a SQLite error into one of the package's errors where one fits.
func (s *SQLite) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("store: %s %s: %w: %v", op, s.path, ErrNotStore, err)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("store: %s %s: %w: %v", op, s.path, ErrCorrupt, err)
		}
	}
	return fmt.Errorf("store: %s %s: %w", op, s.path, err)
}

// Path returns the store's file path.
func (s *SQLite) Path() string { return s.path }

// Submit implements Store.
func (s *SQLite) Submit(ops ...Op) *Pending {
	p := newPending(ops)
	if s.closing.Load() {
		p.err = ErrClosed
		close(p.done)
		return p
	}
	select {
	case s.queue <- p:
	case <-s.stop:
		p.err = ErrClosed
		close(p.done)
	}
	return p
}

func (s *SQLite) commitLoop() {
	defer close(s.stopped)
	ctx := context.Background()
	w, err := newWriter(ctx, s)
	if err != nil {
		s.log.Error("asyncflow store: writer unavailable", "path", s.path, "err", err)
	}
	batch := make([]*Pending, 0, 64)
	for {
		var first *Pending
		select {
		case first = <-s.queue:
		case <-s.stop:
			// Drain what was queued before the stop.
			for {
				select {
				case p := <-s.queue:
					s.run(w, err, []*Pending{p})
				default:
					if w != nil {
						w.close()
					}
					return
				}
			}
		}
		batch = append(batch[:0], first)
		if !s.opts.NoGroupCommit {
		gather:
			for len(batch) < s.opts.MaxBatch {
				select {
				case p := <-s.queue:
					batch = append(batch, p)
				default:
					break gather
				}
			}
		}
		s.run(w, err, batch)
	}
}

func (s *SQLite) run(w *writer, werr error, batch []*Pending) {
	if werr != nil {
		for _, p := range batch {
			p.err = werr
			close(p.done)
		}
		return
	}
	err := w.commit(batch)
	if err != nil && len(batch) > 1 {
		// Isolate the submission at fault: the others still commit.
		for _, p := range batch {
			p.err = w.commit([]*Pending{p})
			close(p.done)
		}
		return
	}
	for _, p := range batch {
		p.err = err
		close(p.done)
	}
}

// Close implements Store.
func (s *SQLite) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	s.closing.Store(true)
	close(s.stop)
	select {
	case <-s.stopped:
	case <-ctx.Done():
		s.closeErr = fmt.Errorf("store: close %s: commits still in flight: %w", s.path, ctx.Err())
		// The writer finishes its transaction and closes; SQLite keeps the
		// file consistent whatever happens next.
		go func() {
			<-s.stopped
			s.release()
		}()
		return s.closeErr
	}
	s.closeErr = s.release()
	return s.closeErr
}

func (s *SQLite) release() error {
	var errs []error
	if s.rdb != nil && s.rdb != s.wdb {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.lockF != nil {
		errs = append(errs, unlockFile(s.lockF), s.lockF.Close())
	}
	return errors.Join(errs...)
}

// Check implements Store: SQLite's integrity check.
func (s *SQLite) Check(ctx context.Context) error {
	var problems []string
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, "PRAGMA integrity_check")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return s.wrap("check", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: %s: %w: %s", s.path, ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// BeginIncarnation implements Store.
func (s *SQLite) BeginIncarnation(ctx context.Context, build string, pid int) (int64, error) {
	op := &beginIncarnation{build: build, pid: pid, started: time.Now()}
	if err := Apply(ctx, s, op); err != nil {
		return 0, err
	}
	return op.gen, nil
}

type beginIncarnation struct {
	build   string
	pid     int
	started time.Time
	gen     int64
}

func (*beginIncarnation) op() {}

func idFrom(b []byte, what string) ([16]byte, error) {
	var id [16]byte
	if len(b) != 16 {
		return id, fmt.Errorf("%w: %s id of %d bytes", ErrCorrupt, what, len(b))
	}
	copy(id[:], b)
	return id, nil
}
