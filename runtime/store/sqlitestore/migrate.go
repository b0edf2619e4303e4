package sqlitestore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

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
			panic("sqlitestore: schema file without a number: " + base)
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
			panic("sqlitestore: schema versions must be 1, 2, 3, …; found " + m.name)
		}
	}
	return ms
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the schema up to date in one transaction.
func (s *Store) migrate(ctx context.Context) error {
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
		return fmt.Errorf("sqlitestore: %s: %w (application_id 0x%08x)", s.path, store.ErrNotStore, appID)
	}
	if version > int64(SchemaVersion()) {
		return fmt.Errorf("sqlitestore: %s: %w: schema version %d, this build knows up to %d", s.path, store.ErrNewerSchema, version, SchemaVersion())
	}
	if version == int64(SchemaVersion()) {
		return nil
	}
	for _, m := range migrations[version:] {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return s.wrap("migrate to "+m.name, err)
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
