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

// maxCompound bounds the terms a listing merges (SQLite allows 500 in a
// compound select): the incarnations of one build, and the flows of
// unfinished activations. Past it, a build is listed by walking the
// creation index, and unfinished activations by sorting them.
const maxCompound = 400

// listing is a listing's query. Done activations and unfinished ones are in
// indexes of their own (schema 7): done ones in the history indexes, each
// with columns ending in (created_ns, id); unfinished ones in
// activations_live, by state and flow and then (created_ns, id). A listing
// merges a term for each way in it needs, each walking its index newest
// first, so rows come in order without a sort and a page stops after its
// limit. Filters an index does not cover are checked on the rows it walks.
type listing struct {
	terms []string // one SELECT … WHERE … per term, joined by UNION ALL
	args  []any
}

// plan builds the query for f, selecting cols, in listing order if ordered.
// It reads the incarnations of f.Build and, for an ordered listing of
// unfinished activations of any flow, which flows have some; ok is false
// when f can select nothing.
func plan(ctx context.Context, q querier, f store.Filter, cols string, ordered bool) (l listing, ok bool, err error) {
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
	term := func(index string, extra []string, extraArgs ...any) {
		all := append(extra[:len(extra):len(extra)], conds...)
		t := "SELECT " + cols + " FROM activations AS a INDEXED BY " + index
		if len(all) > 0 {
			t += " WHERE " + strings.Join(all, " AND ")
		}
		l.terms = append(l.terms, t)
		l.args = append(l.args, extraArgs...)
		l.args = append(l.args, args...)
	}
	genIn := ""
	if len(gens) > 0 {
		in := make([]string, len(gens))
		for i, g := range gens {
			in[i] = fmt.Sprint(g)
		}
		genIn = "a.created_gen IN (" + strings.Join(in, ", ") + ")"
	}

	// Done activations, from the history indexes.
	if f.State == 0 || f.State == store.Done {
		done := []string{"a.state = 4"}
		switch {
		case len(gens) > 0 && len(gens) <= maxCompound:
			// One term per incarnation of the build, merged in order.
			for _, g := range gens {
				term("activations_gen", append(done, "a.created_gen = ?"), g)
			}
		case len(gens) > 0 && f.Flow != "":
			term("activations_flow", append(done, genIn))
		case len(gens) > 0:
			term("activations_created", append(done, genIn))
		case f.Flow != "":
			term("activations_flow", done)
		default:
			term("activations_created", done)
		}
	}

	// Unfinished ones, from activations_live: a term per state and flow.
	if f.State == store.Done {
		return l, true, nil
	}
	states := []int{int(f.State)}
	if f.State == 0 {
		states = []int{int(store.Running), int(store.Suspended), int(store.Failed)}
	}
	// The partial index is used only for a query that states its
	// condition, in the same words; states are written in, not bound.
	live := []string{liveCond}
	if genIn != "" {
		live = append(live, genIn)
	}
	switch {
	case f.Flow != "" || !ordered:
		// The flow is the filter's (the shared conditions hold it), or
		// order does not matter.
		for _, st := range states {
			term("activations_live", append(live, fmt.Sprintf("a.state = %d", st)))
		}
	default:
		pairs, all, err := livePairs(ctx, q, states, maxCompound-len(l.terms))
		if err != nil {
			return l, false, err
		}
		if !all {
			// Too many flows to merge: the unfinished ones are sorted.
			if len(states) == 1 {
				live = append(live, fmt.Sprintf("a.state = %d", states[0]))
			}
			term("activations_live", live)
			break
		}
		for _, p := range pairs {
			term("activations_live", append(live, fmt.Sprintf("a.state = %d", p.state), "a.flow = ?"), p.flow)
		}
	}
	return l, len(l.terms) > 0, nil
}

// livePair is a state and a flow that unfinished activations have.
type livePair struct {
	state int
	flow  string
}

// livePairs returns the flows of unfinished activations in states, each
// state with each of its flows, found by seeking activations_live from one
// to the next; all is false if there are more than max.
func livePairs(ctx context.Context, q querier, states []int, max int) (pairs []livePair, all bool, err error) {
	for _, st := range states {
		query, flow := qFirstLiveFlow, ""
		for {
			if len(pairs) >= max {
				return pairs, false, nil
			}
			var next string
			err := q.QueryRowContext(ctx, query, st, flow).Scan(&next)
			if errors.Is(err, sql.ErrNoRows) {
				break
			}
			if err != nil {
				return nil, false, err
			}
			pairs = append(pairs, livePair{st, next})
			query, flow = qNextLiveFlow, next
		}
	}
	return pairs, true, nil
}

// liveCond is the condition of activations_live, which a query must state
// to use it.
const liveCond = "a.state IN (1, 2, 3)"

const (
	qFirstLiveFlow = `SELECT flow FROM activations AS a INDEXED BY activations_live WHERE ` + liveCond + ` AND a.state = ? AND a.flow >= ? ORDER BY a.flow LIMIT 1`
	qNextLiveFlow  = `SELECT flow FROM activations AS a INDEXED BY activations_live WHERE ` + liveCond + ` AND a.state = ? AND a.flow > ? ORDER BY a.flow LIMIT 1`
)

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
	// The flows of unfinished activations are found in the snapshot that
	// lists them.
	err := s.readConsistent(ctx, func(qr querier) error {
		l, ok, err := plan(ctx, qr, f, actColumns, true)
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
		l, ok, err := plan(ctx, qr, f, "1", false)
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
