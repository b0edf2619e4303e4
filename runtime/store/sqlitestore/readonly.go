package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// ErrReadOnly is returned by every write to a store opened with
// OpenReadOnly: store.ErrReadOnly, which pgstore returns too.
var ErrReadOnly = store.ErrReadOnly

// ErrNeedsMigration is returned by OpenReadOnly for a store of an older
// schema, which reading it as it is would need migrating first:
// store.ErrNeedsMigration.
var ErrNeedsMigration = store.ErrNeedsMigration

// OpenReadOnly opens the store at path for reading only, as inspection tools
// do. It takes a shared lock, so a runtime cannot start on the store while it
// is read — and it fails at once, with store.ErrLocked and the process
// holding it, if one runs on it now (reach that process instead). It checks
// the store as Open does, and never writes: not the store, not its WAL, and
// no file beside them unless a process left its WAL behind (SQLite then keeps
// its index of the WAL in the -shm file). A store of an older schema is
// refused with ErrNeedsMigration; Open migrates it. Every write returns
// ErrReadOnly.
func OpenReadOnly(ctx context.Context, path string, opts Options) (_ *Store, err error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %s: %w", path, err)
	}
	s := &Store{path: abs, opts: opts, log: opts.Logger, readOnly: true, stop: make(chan struct{}), stopped: make(chan struct{})}
	close(s.stopped) // no committer
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	f, err := openForReading(abs)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	if err := s.register(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := lockShared(f); err != nil {
		pid := holder(f)
		f.Close()
		if errors.Is(err, store.ErrLocked) {
			if pid > 0 {
				return nil, fmt.Errorf("sqlitestore: %s: %w: in use by process %d", abs, store.ErrLocked, pid)
			}
			return nil, fmt.Errorf("sqlitestore: %s: %w: in use by another process", abs, store.ErrLocked)
		}
		return nil, fmt.Errorf("sqlitestore: lock %s: %w", abs, err)
	}
	s.lockF = f
	h, err := checkHeader(f, abs)
	if err != nil {
		return nil, err
	}
	if h.size == 0 {
		return nil, fmt.Errorf("sqlitestore: %s: %w: an empty file", abs, store.ErrNotStore)
	}
	dsn := "file:" + uriPath(abs) + "?" + s.pragmas(true)
	if !h.wal {
		// Nothing to read from a WAL, and no writer can start while the
		// shared lock is held: SQLite need not look for either, and so
		// creates no file beside the store.
		dsn += "&immutable=1"
	}
	if s.rdb, err = sql.Open("sqlite", dsn); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", abs, err)
	}
	s.rdb.SetMaxOpenConns(4)
	s.rdb.SetMaxIdleConns(4)
	version, err := s.checkIdentity(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case version == 0:
		return nil, fmt.Errorf("sqlitestore: %s: %w: an empty database", abs, store.ErrNotStore)
	case version < int64(SchemaVersion()):
		return nil, fmt.Errorf("sqlitestore: %s: %w: schema version %d, this build reads %d; open it read-write once (a runtime of this build, or a command that writes) to migrate it",
			abs, ErrNeedsMigration, version, SchemaVersion())
	}
	if err := s.checkSchema(ctx, version); err != nil {
		return nil, err
	}
	if h.wal {
		if err := s.quickCheck(ctx, h); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) readOnlyErr() error {
	return fmt.Errorf("sqlitestore: %s: %w", s.path, ErrReadOnly)
}

// LockHolder returns the process that holds the store at path, if one does
// and the system says which (Linux does); 0 otherwise.
func LockHolder(path string) int {
	f, err := openForReading(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	return holder(f)
}
