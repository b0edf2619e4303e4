package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Snapshots: a consistent copy of a store in use, which the replay gate
// reads with OpenReadOnly.

// Backup writes a consistent copy of the store to the new file dest, while
// the store is in use: the copy holds every submission released before
// Backup began and none after, and is itself a store (SQLite's VACUUM INTO,
// from a read transaction, so commits go on meanwhile). dest must not exist.
func (s *Store) Backup(ctx context.Context, dest string) error {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("sqlitestore: backup %s to %s: %w", s.path, dest, err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("sqlitestore: backup %s to %s: %w", s.path, abs, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlitestore: backup %s to %s: %w", s.path, abs, err)
	}
	if s.memory {
		return fmt.Errorf("sqlitestore: backup to %s: an in-memory store has no file to copy", abs)
	}
	if s.closing.Load() {
		return fmt.Errorf("sqlitestore: backup %s: %w", s.path, store.ErrClosed)
	}
	// The readers are read-only, and SQLite opens the copy as it opened
	// the connection: VACUUM INTO needs a connection of its own, which only
	// reads the store.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", s.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "trusted_schema(off)")
	db, err := sql.Open("sqlite", "file:"+uriPath(s.path)+"?"+q.Encode())
	if err == nil {
		_, err = db.ExecContext(ctx, "VACUUM INTO ?", abs)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = os.Remove(abs) // a partial copy is no copy
		return s.wrap("backup to "+abs+" of", err)
	}
	return nil
}
