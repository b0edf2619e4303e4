package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/internal/handoff"
)

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
	// MaxValueSize bounds each value a submission writes: a log entry's
	// payload, an activation's arguments, a vow's value or error, a failure
	// diagnostic. A submission with a larger one fails with store.ErrRefused
	// and a message giving both sizes. Default and ceiling: SQLite's own
	// limit, 1,000,000,000 bytes.
	MaxValueSize int
}

// sqliteMaxLength is SQLite's limit on the size of one value
// (SQLITE_MAX_LENGTH).
const sqliteMaxLength = 1_000_000_000

// Store is the store on embedded SQLite.
type Store struct {
	path     string
	memory   bool
	readOnly bool // OpenReadOnly: no committer, no writes
	onCommit atomic.Pointer[func(store.CommitStats)]
	opts     Options
	log      *slog.Logger
	lockF    *os.File
	wdb      *sql.DB // one connection, owned by the committer
	rdb      *sql.DB // readers

	queue    chan job
	inflight atomic.Int64        // jobs queued or being committed
	wr       handoff.Writer[job] // the hold on w
	w        *writer             // the write connection, used with wr held
	werr     error               // why there is no writer
	submitMu sync.RWMutex        // held to queue a job, and to stop queueing
	stop     chan struct{}
	stopped  chan struct{}
	closing  atomic.Bool
	closeMu  sync.Mutex
	closeErr error
	closed   bool
}

var _ store.Store = (*Store)(nil)

// Memory is the path that gives a private in-memory store.
const Memory = ":memory:"

var memSeq atomic.Int64

// Open opens the store at path, creating it if it does not exist. The path
// [Memory] gives a private in-memory store (for tests, examples and
// benchmarks). See the package documentation for what is checked.
func Open(ctx context.Context, path string, opts Options) (_ *Store, err error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxValueSize <= 0 || opts.MaxValueSize > sqliteMaxLength {
		opts.MaxValueSize = sqliteMaxLength
	}
	s := &Store{
		path:    path,
		opts:    opts,
		log:     opts.Logger,
		queue:   make(chan job, 4096),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if path == Memory {
		s.memory = true
		name := fmt.Sprintf("file:asyncflow-mem-%d-%d?mode=memory&cache=shared", os.Getpid(), memSeq.Add(1))
		db, err := sql.Open("sqlite", name+"&"+s.pragmas(false))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: open memory: %w", err)
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
	s.w, s.werr = newWriter(context.Background(), s)
	if s.werr != nil {
		s.log.Error("asyncflow store: writer unavailable", "path", s.path, "err", s.werr)
	}
	go s.commitLoop()
	return s, nil
}

// Path returns the store's file path, absolute, or Memory.
func (s *Store) Path() string { return s.path }

func (s *Store) pragmas(readOnly bool) string {
	q := url.Values{}
	if readOnly {
		// Opened read-only, SQLite never writes the main file, not even to
		// checkpoint the WAL when the connection closes: a store refused by
		// the checks run through it stays as it was.
		q.Add("mode", "ro")
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(off)")
	// Functions called from the schema (triggers, views, indexes on
	// expressions) are limited to harmless ones, should a crafted schema get
	// past the check.
	q.Add("_pragma", "trusted_schema(off)")
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

func (s *Store) openFile(ctx context.Context) error {
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", s.path, err)
	}
	s.path = abs
	f, err := openOrCreate(abs)
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	if err := s.register(f); err != nil {
		f.Close()
		return err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("sqlitestore: %s: %w: in use by another process (only one process may run flows on a store)", abs, store.ErrLocked)
		}
		return fmt.Errorf("sqlitestore: lock %s: %w", abs, err)
	}
	s.lockF = f
	h, err := checkHeader(f, abs)
	if err != nil {
		return err
	}

	// Read-only checks through SQLite before anything is written: journal
	// mode WAL and migrations write, and so would a trigger of a crafted
	// schema.
	s.rdb, err = sql.Open("sqlite", "file:"+uriPath(abs)+"?"+s.pragmas(true))
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	s.rdb.SetMaxOpenConns(4)
	s.rdb.SetMaxIdleConns(4)
	version, err := s.checkIdentity(ctx)
	if err != nil {
		return err
	}
	if err := s.checkSchema(ctx, version); err != nil {
		return err
	}
	if h.wal {
		// The last process did not close the store: it may have died in the
		// middle of anything, a checkpoint included. SQLite has recovered
		// the WAL; check that what it reads is whole.
		if err := s.quickCheck(ctx, h); err != nil {
			return err
		}
	}
	s.wdb, err = sql.Open("sqlite", "file:"+uriPath(abs)+"?"+s.pragmas(false))
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", abs, err)
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

// openOrCreate opens the file at path for reading and writing, creating it if
// it does not exist. When another process creates it first, it opens that
// one: which process may use it is the lock's to say.
func openOrCreate(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		if testHookBeforeCreate != nil {
			testHookBeforeCreate(path)
		}
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// testHookBeforeCreate, if set, runs between finding that a store's file does
// not exist and creating it: tests use it to create the file from another
// process in that window.
var testHookBeforeCreate func(path string)

// The files of the stores open in this process. The file lock is held by the
// open file, so a second Open of the same file in this process would get the
// lock error meant for another process.
var (
	openMu    sync.Mutex
	openFiles = map[*Store]os.FileInfo{}
)

// register records that s has f open, unless a store of this process already
// has that file open.
func (s *Store) register(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", s.path, err)
	}
	openMu.Lock()
	defer openMu.Unlock()
	for other, ofi := range openFiles {
		if os.SameFile(fi, ofi) {
			how := "already open in this process (close it before opening it again)"
			if other.path != s.path {
				how = fmt.Sprintf("already open in this process, as %s (close it before opening it again)", other.path)
			}
			return fmt.Errorf("sqlitestore: %s: %w: %s", s.path, store.ErrLocked, how)
		}
	}
	openFiles[s] = fi
	return nil
}

func (s *Store) unregister() {
	openMu.Lock()
	delete(openFiles, s)
	openMu.Unlock()
}

func uriPath(p string) string {
	return (&url.URL{Path: filepath.ToSlash(p)}).EscapedPath()
}
