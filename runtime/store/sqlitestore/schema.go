package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// schemaObject is one row of sqlite_schema: a table, an index, a trigger or
// a view, with the statement that made it.
type schemaObject struct {
	typ, name, table, sql string
}

func (o schemaObject) String() string {
	if o.table != o.name {
		return o.typ + " " + strconv.Quote(o.name) + " on " + o.table
	}
	return o.typ + " " + strconv.Quote(o.name)
}

// checkSchema compares, read-only, the schema of a store at the given
// version with the one the migrations make: the same tables and indexes,
// made by the same statements, and nothing else — no trigger, no view. It
// runs before anything is written, so nothing a crafted schema holds ever
// runs. Tables SQLite makes for ANALYZE are allowed.
func (s *Store) checkSchema(ctx context.Context, version int64) error {
	if version == 0 {
		return nil // empty: checkIdentity saw no schema objects
	}
	want, err := expectedSchema(int(version))
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: schema of version %d: %w", s.path, version, err)
	}
	got, err := readSchema(ctx, s.rdb)
	if err != nil {
		return s.wrap("check schema", err)
	}
	var problems []string
	for _, o := range got {
		if strings.HasPrefix(o.name, "sqlite_stat") && o.typ == "table" {
			continue
		}
		i := slices.IndexFunc(want, func(w schemaObject) bool { return w.typ == o.typ && w.name == o.name })
		switch {
		case i < 0:
			problems = append(problems, "unexpected "+o.String())
		case want[i] != o:
			problems = append(problems, o.String()+" differs from what the migrations made")
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(o schemaObject) bool { return w.typ == o.typ && w.name == o.name }) {
			problems = append(problems, "missing "+w.String())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlitestore: %s: %w: the schema is not the one schema version %d has (refused before anything ran): %s",
			s.path, store.ErrCorrupt, version, strings.Join(problems, "; "))
	}
	return nil
}

func readSchema(ctx context.Context, q querier) ([]schemaObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

var (
	schemasMu sync.Mutex
	schemas   = map[int][]schemaObject{}
)

// expectedSchema returns the schema the first version migrations make, as
// SQLite records it: it runs them on a private in-memory database.
func expectedSchema(version int) ([]schemaObject, error) {
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if s, ok := schemas[version]; ok {
		return s, nil
	}
	if version < 1 || version > len(migrations) {
		return nil, fmt.Errorf("no such schema version")
	}
	name := fmt.Sprintf("file:asyncflow-schema-%d-%d?mode=memory&cache=private", version, memSeq.Add(1))
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, m := range migrations[:version] {
		if _, err := db.ExecContext(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
	}
	got, err := readSchema(ctx, db)
	if err != nil {
		return nil, err
	}
	schemas[version] = got
	return got, nil
}
