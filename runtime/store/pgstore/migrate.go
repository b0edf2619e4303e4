package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("pgstore: schema file without a number: " + base)
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
			panic("pgstore: schema versions must be 1, 2, 3, …; found " + m.name)
		}
	}
	return ms
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// application marks a schema as an asyncflow store, in its store_meta row.
const application = "asyncflow"

// queryer is what the identity check needs: the pool, or a transaction.
type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// identity looks, reading only, at the store's schema: absent or empty
// (version 0, to be created), an asyncflow store at some version, or
// something else, which is refused.
func (s *Store) identity(ctx context.Context, q queryer) (version int, exists bool, err error) {
	var objects, meta int
	var names string // some of what it holds, for the refusal
	err = q.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid)
				+ (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid)
				+ (SELECT count(*) FROM pg_type t WHERE t.typnamespace = n.oid AND t.typrelid = 0),
			(SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'store_meta' AND c.relkind = 'r'),
			(SELECT coalesce(string_agg(name, ', ' ORDER BY name), '') FROM (
				SELECT name FROM (
					SELECT c.relname::text AS name FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
					UNION ALL SELECT p.proname::text || '()' FROM pg_proc p WHERE p.pronamespace = n.oid
					UNION ALL SELECT t.typname::text FROM pg_type t WHERE t.typnamespace = n.oid AND t.typrelid = 0 AND t.typcategory <> 'A'
				) o ORDER BY name LIMIT 5) f)
		FROM pg_namespace n WHERE n.nspname = $1`, s.schema).Scan(&objects, &meta, &names)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, s.wrap("open", err)
	}
	if meta == 0 {
		if objects == 0 {
			return 0, true, nil
		}
		if names == "" {
			names = fmt.Sprint(objects, " objects")
		}
		return 0, true, fmt.Errorf("pgstore: %s: %w: schema %s holds what asyncflow did not make (%s) and no asyncflow mark (store_meta)", s.name, store.ErrNotStore, s.schema, names)
	}
	var app string
	var rows int
	err = q.QueryRow(ctx, `SELECT count(*), coalesce(min(application::text), ''), coalesce(max(version::bigint), 0) FROM `+
		pgx.Identifier{s.schema, "store_meta"}.Sanitize()).Scan(&rows, &app, &version)
	if err != nil {
		var pe interface{ SQLState() string }
		if errors.As(err, &pe) {
			// A store_meta table of another shape: not ours.
			return 0, true, fmt.Errorf("pgstore: %s: %w: schema %s has a store_meta table asyncflow did not make: %v", s.name, store.ErrNotStore, s.schema, err)
		}
		return 0, true, s.wrap("open", err)
	}
	switch {
	case rows != 1:
		return 0, true, fmt.Errorf("pgstore: %s: %w: schema %s: store_meta holds %d rows, not one", s.name, store.ErrCorrupt, s.schema, rows)
	case app != application:
		return 0, true, fmt.Errorf("pgstore: %s: %w: schema %s belongs to another application (%q)", s.name, store.ErrNotStore, s.schema, app)
	case version > SchemaVersion():
		return version, true, fmt.Errorf("pgstore: %s: %w: schema %s is at version %d, this build knows up to %d; run a newer build", s.name, store.ErrNewerSchema, s.schema, version, SchemaVersion())
	case version < 1:
		return version, true, fmt.Errorf("pgstore: %s: %w: schema %s is marked as a store but at version %d", s.name, store.ErrCorrupt, s.schema, version)
	}
	return version, true, nil
}

// migrate checks the schema, reading only, and brings it up to date in one
// transaction, under an advisory lock so that processes opening the store at
// once migrate it once. Nothing is written to a schema that is not ours or is
// newer.
func (s *Store) migrate(ctx context.Context) error {
	version, _, err := s.identity(ctx, s.pool)
	if err != nil || version == SchemaVersion() {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap("migrate", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('asyncflow store ' || $1, 0))`, s.schema); err != nil {
		return s.wrap("migrate", err)
	}
	version, exists, err := s.identity(ctx, tx) // another process may have been first
	if err != nil || version == SchemaVersion() {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return s.wrap("create schema", err)
		}
	}
	for _, m := range migrations[version:] {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return s.wrap("migrate to "+m.name, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM store_meta`); err != nil {
		return s.wrap("migrate", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO store_meta (application, version) VALUES ($1, $2)`, application, SchemaVersion()); err != nil {
		return s.wrap("migrate", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.wrap("migrate", err)
	}
	if version > 0 {
		s.log.Info("asyncflow store migrated", "store", s.name, "from", version, "to", SchemaVersion())
	}
	return nil
}
