package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// where builds the conditions of a listing. The indexes all end in
// (created_ns, id), so that each way in — by creation, state, flow,
// creating incarnation — walks newest first and stops after a page.
func where(f store.Filter, arg func(any) string) string {
	var conds []string
	if f.State != 0 {
		conds = append(conds, "a.state = "+arg(int16(f.State)))
	}
	if f.Flow != "" {
		conds = append(conds, "a.flow = "+arg(f.Flow))
	}
	if f.Build != "" {
		conds = append(conds, "a.created_gen IN (SELECT i.gen FROM incarnations i WHERE i.build = "+arg(f.Build)+")")
	}
	if !f.Since.IsZero() {
		conds = append(conds, "a.created_ns >= "+arg(nsOf(f.Since)))
	}
	switch {
	case !f.After.IsZero():
		// A cursor from a listing with the same filter is before Until.
		conds = append(conds, "(a.created_ns, a.id) < ("+arg(nsOf(f.After.Created))+"::bigint, "+arg(f.After.ID[:])+"::bytea)")
	case !f.Until.IsZero():
		conds = append(conds, "a.created_ns < "+arg(nsOf(f.Until)))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func placeholders(args *[]any) func(any) string {
	return func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
}

// Activations implements store.Store. A row that cannot be read back is
// reported and left out, and the page is filled from the rows after it.
func (s *Store) Activations(ctx context.Context, f store.Filter) ([]store.Activation, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	var out []store.Activation
	var after *listed // the last row read, when it was damaged
	for {
		var args []any
		arg := placeholders(&args)
		cond := where(f, arg)
		if after != nil {
			past := "(a.created_ns, a.id) < (" + arg(after.created) + "::bigint, " + arg(after.id) + "::bytea)"
			if cond == "" {
				cond = " WHERE " + past
			} else {
				cond += " AND " + past
			}
		}
		want := limit - len(out)
		q := `SELECT ` + actColumns + ` FROM activations a` + cond + ` ORDER BY a.created_ns DESC, a.id DESC LIMIT ` + arg(want)
		page, last, read, err := s.listActivations(ctx, "activations", q, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if read < want || len(out) >= limit {
			return out, nil
		}
		after = &last
	}
}

// listed is the position of a row a listing read.
type listed struct {
	created int64
	id      []byte
}

// listActivations reads the activations q selects, reports the rows it
// cannot read back and leaves them out; it returns how many rows it read,
// and the position of the last.
func (s *Store) listActivations(ctx context.Context, what, q string, args ...any) (out []store.Activation, last listed, read int, err error) {
	err = s.read(ctx, func() error {
		out, read = nil, 0
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, id, err := scanActivationRaw(rows)
			if errors.Is(err, store.ErrCorrupt) {
				s.log.Error("asyncflow store: skipping a damaged activation row", "store", s.name, "id", fmt.Sprintf("%x", id), "err", err)
			} else if err != nil {
				return err
			} else {
				out = append(out, a)
			}
			read++
			last = listed{created: nsOf(a.Created), id: id}
		}
		return rows.Err()
	})
	return out, last, read, s.wrap(what, err)
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, f store.Filter) (int, error) {
	f.After = store.Cursor{}
	var args []any
	arg := placeholders(&args)
	q := `SELECT 1 FROM activations a` + where(f, arg)
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	var n int64
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, "SELECT count(*) FROM ("+q+") c", args...).Scan(&n)
	})
	return int(n), s.wrap("count", err)
}

// ActivationsByKey implements store.Store.
func (s *Store) ActivationsByKey(ctx context.Context, key string) ([]store.Activation, error) {
	out, _, _, err := s.listActivations(ctx, "activations by key", `SELECT `+actColumns+` FROM activations a
		WHERE a.start_key = $1 ORDER BY a.created_ns DESC, a.id DESC`, key)
	return out, err
}

// ActivationByOutcome implements store.Store.
func (s *Store) ActivationByOutcome(ctx context.Context, vow flow.VowID) (store.Activation, error) {
	var a store.Activation
	err := s.read(ctx, func() (err error) {
		a, err = scanActivation(s.pool.QueryRow(ctx, `SELECT `+actColumns+` FROM activations a WHERE a.outcome = $1`, vow[:]))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("pgstore: activation with outcome %s: %w", vow, store.ErrNotFound)
	}
	return a, s.wrap("activation by outcome", err)
}
