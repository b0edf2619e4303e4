package pgstore

import (
	"context"
	"fmt"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// OpenReadOnly opens the store at url for reading only, as the operators'
// tools and the replay gate do: it checks the schema as Open does, but
// creates and migrates nothing, joins no lease (the processes that run
// flows do not see it), hears nothing and runs nothing in the background.
// Its sessions are read-only (default_transaction_read_only), so the server
// itself refuses a write. A schema this build would migrate is refused with
// store.ErrNeedsMigration, one that does not exist or holds no store with
// store.ErrNotStore. Every write returns store.ErrReadOnly; reads, Census,
// Logs and Backup work as on a store opened with Open. Each read sees what
// was committed when it began: for one view of the whole store, Backup.
func OpenReadOnly(ctx context.Context, url string, opts Options) (_ *Store, err error) {
	s, err := newStore(ctx, url, opts, true)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.pool.Close()
		}
	}()
	version, exists, err := s.identity(ctx, s.pool)
	switch {
	case err != nil:
		return nil, err
	case !exists || version == 0:
		return nil, fmt.Errorf("pgstore: %s: %w: schema %s holds no store yet (a process that opens it for writing creates it)", s.name, store.ErrNotStore, s.schema)
	case version < SchemaVersion():
		return nil, fmt.Errorf("pgstore: %s: %w: schema %s is at version %d, this build reads %d; a process of this build that opens it for writing migrates it",
			s.name, store.ErrNeedsMigration, s.schema, version, SchemaVersion())
	}
	close(s.stopped) // no committer
	close(s.events)  // nothing to hear
	return s, nil
}

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// writable refuses a write to a read-only store.
func (s *Store) writable(op string) error {
	if s.readOnly {
		return fmt.Errorf("pgstore: %s %s: %w", op, s.name, store.ErrReadOnly)
	}
	return nil
}

// closeReadOnly closes a store opened with OpenReadOnly.
func (s *Store) closeReadOnly() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if !s.closed {
		s.closed = true
		s.closing.Store(true)
		s.pool.Close()
	}
	return nil
}
