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
}

// Store is the store on embedded SQLite.
type Store struct {
	path   string
	memory bool
	opts   Options
	log    *slog.Logger
	lockF  *os.File
	wdb    *sql.DB // one connection, owned by the committer
	rdb    *sql.DB // readers

	queue    chan job
	submitMu sync.RWMutex // held to queue a job, and to stop queueing
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
	go s.commitLoop()
	return s, nil
}

// Path returns the store's file path, absolute, or Memory.
func (s *Store) Path() string { return s.path }

func (s *Store) pragmas(readOnly bool) string {
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

func (s *Store) openFile(ctx context.Context) error {
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", s.path, err)
	}
	s.path = abs
	f, err := os.OpenFile(abs, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("sqlitestore: %s: %w (only one process may run flows on a store)", abs, store.ErrLocked)
		}
		return fmt.Errorf("sqlitestore: lock %s: %w", abs, err)
	}
	s.lockF = f
	if err := checkHeader(f, abs); err != nil {
		return err
	}

	// Read-only checks through SQLite before anything is written: journal
	// mode WAL and migrations write.
	s.rdb, err = sql.Open("sqlite", "file:"+uriPath(abs)+"?"+s.pragmas(true))
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	s.rdb.SetMaxOpenConns(4)
	s.rdb.SetMaxIdleConns(4)
	if err := s.checkIdentity(ctx); err != nil {
		return err
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

func uriPath(p string) string {
	return (&url.URL{Path: filepath.ToSlash(p)}).EscapedPath()
}
