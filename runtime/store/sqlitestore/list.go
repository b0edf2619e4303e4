package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// maxCompound bounds the incarnations of one build that a build listing
// merges term by term (SQLite allows 500 terms in a compound select); a
// build with more is listed by walking the creation index instead.
const maxCompound = 400

// listing is a listing's query: every way in walks an index whose columns
// end in (created_ns, id), so rows come newest first without a sort and a
// page stops after its limit. Filters the index does not cover are checked
// on the rows it walks.
type listing struct {
	terms []string // one SELECT … WHERE … per term, joined by UNION ALL
	args  []any
}

// plan builds the query for f, selecting cols. It reads the incarnations of
// f.Build; ok is false when f can select nothing.
func plan(ctx context.Context, q querier, f store.Filter, cols string) (l listing, ok bool, err error) {
	var gens []int64
	if f.Build != "" {
		if gens, err = buildGens(ctx, q, f.Build); err != nil || len(gens) == 0 {
			return l, false, err
		}
	}
	// The conditions every term shares.
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Flow != "" {
		add("a.flow = ?", f.Flow)
	}
	if f.State != 0 {
		add("a.state = ?", int(f.State))
	}
	if !f.Since.IsZero() {
		add("a.created_ns >= ?", nsOf(f.Since))
	}
	switch {
	case !f.After.IsZero():
		// A cursor from a listing with the same filter is before Until.
		add("(a.created_ns, a.id) < (?, ?)", nsOf(f.After.Created), f.After.ID[:])
	case !f.Until.IsZero():
		add("a.created_ns < ?", nsOf(f.Until))
	}

	term := func(index string, extra string, extraArgs ...any) {
		all := conds
		if extra != "" {
			all = append([]string{extra}, conds...)
		}
		t := "SELECT " + cols + " FROM activations AS a INDEXED BY " + index
		if len(all) > 0 {
			t += " WHERE " + strings.Join(all, " AND ")
		}
		l.terms = append(l.terms, t)
		l.args = append(l.args, extraArgs...)
		l.args = append(l.args, args...)
	}
	switch {
	case len(gens) > 0 && (f.State == 0 || f.State == store.Done) && len(gens) <= maxCompound:
		// One term per incarnation of the build, merged in order.
		for _, g := range gens {
			term("activations_gen", "a.created_gen = ?", g)
		}
		return l, true, nil
	case len(gens) > 0:
		in := make([]string, len(gens))
		for i, g := range gens {
			in[i] = fmt.Sprint(g)
		}
		conds = append(conds, "a.created_gen IN ("+strings.Join(in, ", ")+")")
	}
	switch {
	case f.State != 0 && (f.State != store.Done || f.Flow == ""):
		// Unfinished states are few beside done ones: their index is the
		// narrowest way in, with a flow too.
		term("activations_state", "")
	case f.Flow != "":
		term("activations_flow", "")
	default:
		term("activations_created", "")
	}
	return l, true, nil
}

// query is the listing's SQL: its terms merged newest first if ordered, at
// most limit rows (negative: all; SQLite's cursor walks the index no
// further than it is read).
func (l listing) query(ordered bool, limit int) (string, []any) {
	q := strings.Join(l.terms, " UNION ALL ")
	if ordered {
		if len(l.terms) > 1 {
			q += " ORDER BY created_ns DESC, id DESC"
		} else {
			q += " ORDER BY a.created_ns DESC, a.id DESC"
		}
	}
	return q + " LIMIT ?", append(l.args, limit)
}

func buildGens(ctx context.Context, q querier, build string) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT gen FROM incarnations INDEXED BY incarnations_build WHERE build = ? ORDER BY gen`, build)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var gens []int64
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, err
		}
		gens = append(gens, g)
	}
	return gens, rows.Err()
}

// Activations implements store.Store.
func (s *Store) Activations(ctx context.Context, f store.Filter) ([]store.Activation, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	var out []store.Activation
	err := s.read(ctx, func(qr querier) error {
		l, ok, err := plan(ctx, qr, f, actColumns)
		if err != nil || !ok {
			return err
		}
		// Rows are read until limit of them could be read back: a damaged
		// row is reported and left out, and the listing goes on.
		q, args := l.query(true, -1)
		rows, err := qr.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for len(out) < limit && rows.Next() {
			a, raw, err := scanActivation(rows)
			if errors.Is(err, store.ErrCorrupt) {
				s.skipDamaged("activation", raw, err)
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, s.wrap("activations", err)
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, f store.Filter) (int, error) {
	f.After = store.Cursor{}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	var n int
	err := s.read(ctx, func(qr querier) error {
		l, ok, err := plan(ctx, qr, f, "1")
		if err != nil || !ok {
			return err
		}
		q, args := l.query(false, limit)
		return qr.QueryRowContext(ctx, "SELECT count(*) FROM ("+q+")", args...).Scan(&n)
	})
	return n, s.wrap("count", err)
}

// ActivationsByKey implements store.Store.
func (s *Store) ActivationsByKey(ctx context.Context, key string) ([]store.Activation, error) {
	return s.activations(ctx, "activations by key", qByKey, key)
}

// activations reads the activations a query of actColumns selects; a
// damaged row is reported and left out. what names the read in errors.
func (s *Store) activations(ctx context.Context, what, query string, args ...any) ([]store.Activation, error) {
	var out []store.Activation
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, raw, err := scanActivation(rows)
			if errors.Is(err, store.ErrCorrupt) {
				s.skipDamaged("activation", raw, err)
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, s.wrap(what, err)
}

// ActivationByOutcome implements store.Store.
func (s *Store) ActivationByOutcome(ctx context.Context, vow flow.VowID) (store.Activation, error) {
	var a store.Activation
	err := s.read(ctx, func(q querier) (err error) {
		a, _, err = scanActivation(q.QueryRowContext(ctx, qByOutcome, vow[:]))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sqlitestore: activation with outcome %s: %w", vow, store.ErrNotFound)
	}
	return a, s.wrap("activation by outcome", err)
}
