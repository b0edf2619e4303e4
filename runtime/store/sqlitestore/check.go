package sqlitestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// ApplicationID marks a SQLite file as an asyncflow store ("AfLw").
const ApplicationID = 0x41664c77

// header is what checkHeader found.
type header struct {
	// wal is true if a WAL with frames lies beside the file: the last
	// process to have the store open did not close it.
	wal bool
	// short is true if the file holds fewer pages than its header says:
	// truncated, or torn by a checkpoint the WAL can finish.
	short bool
	size  int64
	pages int64
}

// walHeaderSize is the size of a WAL's header; a WAL no longer than that
// holds no frames.
const walHeaderSize = 32

// checkHeader looks at the SQLite header without SQLite, so a file that is
// not ours is refused before SQLite could write to it (journal mode, WAL
// recovery).
func checkHeader(f *os.File, path string) (header, error) {
	var hd header
	st, err := f.Stat()
	if err != nil {
		return hd, fmt.Errorf("sqlitestore: %s: %w", path, err)
	}
	size := st.Size()
	hd.size = size
	if wst, err := os.Stat(path + "-wal"); err == nil && wst.Size() > walHeaderSize {
		hd.wal = true
	}
	if size == 0 {
		return hd, nil // new, or created empty by the caller
	}
	var h [100]byte
	n, err := f.ReadAt(h[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return hd, fmt.Errorf("sqlitestore: %s: read header: %w", path, err)
	}
	const magic = "SQLite format 3\x00"
	if n < len(magic) || string(h[:len(magic)]) != magic {
		if n < len(magic) && string(h[:n]) == magic[:n] {
			return hd, fmt.Errorf("sqlitestore: %s: %w: truncated to %d bytes", path, store.ErrCorrupt, size)
		}
		return hd, fmt.Errorf("sqlitestore: %s: %w: not a SQLite database", path, store.ErrNotStore)
	}
	if n < len(h) {
		return hd, fmt.Errorf("sqlitestore: %s: %w: truncated to %d bytes", path, store.ErrCorrupt, size)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return hd, fmt.Errorf("sqlitestore: %s: %w: bad page size %d", path, store.ErrCorrupt, pageSize)
	}
	appID := binary.BigEndian.Uint32(h[68:])
	if appID != 0 && appID != ApplicationID {
		return hd, fmt.Errorf("sqlitestore: %s: %w: it belongs to another application (application_id 0x%08x)", path, store.ErrNotStore, appID)
	}
	if appID == ApplicationID {
		if v := int32(binary.BigEndian.Uint32(h[60:])); int(v) > SchemaVersion() {
			return hd, fmt.Errorf("sqlitestore: %s: %w: schema version %d, this build knows up to %d; run a newer build", path, store.ErrNewerSchema, v, SchemaVersion())
		}
	}
	changes, validFor := binary.BigEndian.Uint32(h[24:]), binary.BigEndian.Uint32(h[92:])
	pages := int64(binary.BigEndian.Uint32(h[28:]))
	if changes == validFor && pages > 0 && pages*pageSize > size {
		hd.short, hd.pages = true, pages
		if !hd.wal {
			// Nothing can bring the missing pages back.
			return hd, fmt.Errorf("sqlitestore: %s: %w: truncated: %d bytes, the header says %d pages of %d", path, store.ErrCorrupt, size, pages, pageSize)
		}
		// In WAL mode a checkpoint writes page 1, with the new page count,
		// before the file has grown: killed in between, it leaves the file
		// short and the pages in the WAL, which SQLite finishes. Let SQLite
		// read it, and check what it reads.
	}
	return hd, nil
}

// quickCheck runs SQLite's quick check, read-only, on a store the last
// process did not close.
func (s *Store) quickCheck(ctx context.Context, h header) error {
	problems, err := s.checkLines(ctx, s.rdb, "PRAGMA quick_check")
	if err != nil {
		return s.wrap("check", err)
	}
	if len(problems) == 0 {
		return nil
	}
	what := "damaged"
	if h.short {
		what = fmt.Sprintf("truncated: %d bytes, the header says %d pages, and the WAL does not hold the rest", h.size, h.pages)
	}
	return fmt.Errorf("sqlitestore: %s: %w: %s: %s", s.path, store.ErrCorrupt, what, strings.Join(problems, "; "))
}

// checkLines runs one of SQLite's integrity checks and returns the problems
// it reports.
func (s *Store) checkLines(ctx context.Context, q querier, pragma string) ([]string, error) {
	rows, err := q.QueryContext(ctx, pragma)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return problems, rows.Err()
}

// checkIdentity checks, read-only, that the database is ours or empty, and
// returns its schema version.
func (s *Store) checkIdentity(ctx context.Context) (int64, error) {
	var appID, version int64
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, s.wrap("check", err)
	}
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, s.wrap("check", err)
	}
	switch {
	case appID == 0:
		var tables int
		if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return 0, s.wrap("check", err)
		}
		if tables > 0 {
			return 0, fmt.Errorf("sqlitestore: %s: %w: a SQLite database of another application (%d schema objects, no asyncflow application_id)", s.path, store.ErrNotStore, tables)
		}
	case appID != ApplicationID:
		return 0, fmt.Errorf("sqlitestore: %s: %w: it belongs to another application (application_id 0x%08x)", s.path, store.ErrNotStore, appID)
	case version > int64(SchemaVersion()):
		return 0, fmt.Errorf("sqlitestore: %s: %w: schema version %d, this build knows up to %d; run a newer build", s.path, store.ErrNewerSchema, version, SchemaVersion())
	case version < 1:
		return 0, fmt.Errorf("sqlitestore: %s: %w: marked as a store but without a schema version", s.path, store.ErrCorrupt)
	}
	return version, nil
}

// wrap names the operation and the store around an error, and turns a
// SQLite error into one of the store package's errors where one fits. An
// error that already is one of the store package's errors (a damaged row) is
// wrapped as it is.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("sqlitestore: %s %s: %w: %v", op, s.path, store.ErrNotStore, err)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("sqlitestore: %s %s: %w: %v", op, s.path, store.ErrCorrupt, err)
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return fmt.Errorf("sqlitestore: %s %s: %w: %w", op, s.path, store.ErrUnavailable, err)
		case sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH:
			return fmt.Errorf("sqlitestore: %s %s: %w: %w", op, s.path, store.ErrRefused, err)
		}
	}
	return fmt.Errorf("sqlitestore: %s %s: %w", op, s.path, err)
}

// idFrom reads a 16-byte id from a row.
func idFrom(b []byte, what string) ([16]byte, error) {
	var id [16]byte
	if len(b) != 16 {
		return id, fmt.Errorf("%w: %s id of %d bytes", store.ErrCorrupt, what, len(b))
	}
	copy(id[:], b)
	return id, nil
}
