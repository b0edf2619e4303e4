package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// checks are the consistency checks of Check: each query counts the rows
// that break one rule. The server checks its own pages and indexes; these
// check what the store's rules say of its rows.
var checks = []struct{ what, sql string }{
	{"activations with an id that is not 16 bytes", `SELECT count(*) FROM activations WHERE length(id) <> 16 OR length(outcome) <> 16`},
	{"activations in no known state", `SELECT count(*) FROM activations WHERE state NOT IN (1, 2, 3, 4)`},
	{"activations without their outcome vow", `SELECT count(*) FROM activations a WHERE NOT EXISTS (SELECT 1 FROM vows v WHERE v.id = a.outcome)`},
	{"done activations whose outcome is pending", `SELECT count(*) FROM activations a JOIN vows v ON v.id = a.outcome WHERE a.state = 4 AND v.state = 0`},
	{"vows with an id that is not 16 bytes", `SELECT count(*) FROM vows WHERE length(id) <> 16`},
	{"vows in no known state", `SELECT count(*) FROM vows WHERE state NOT IN (0, 1, 2)`},
	{"logs with a gap", `SELECT count(*) FROM (SELECT act FROM entries GROUP BY act HAVING min(step) <> 0 OR max(step) <> count(*) - 1) g`},
	{"waits on vows that do not exist", `SELECT count(*) FROM waits w WHERE NOT EXISTS (SELECT 1 FROM vows v WHERE v.id = w.vow)`},
	{"timers of vows that do not exist", `SELECT count(*) FROM timers t WHERE NOT EXISTS (SELECT 1 FROM vows v WHERE v.id = t.vow)`},
}

// Check implements store.Store: it checks the rules the store's rows obey.
// It reads every row: an inspection, not a hot path.
func (s *Store) Check(ctx context.Context) error {
	var problems []string
	for _, c := range checks {
		var n int64
		if err := s.read(ctx, func() error { return s.pool.QueryRow(ctx, c.sql).Scan(&n) }); err != nil {
			return s.wrap("check", err)
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("pgstore: %s: %w: %s", s.name, store.ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}
