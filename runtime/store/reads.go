package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

const (
	actColumns  = `id, flow, start_key, args, state, outcome, created_gen, gen, failure`
	qActivation = `SELECT ` + actColumns + ` FROM activations WHERE id = ?`
)

type scanner interface{ Scan(...any) error }

// querier is what reads need: the reader pool, or the write connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readOp runs a read on the write connection, in order with the writes. An
// in-memory store has a single connection, so its reads go this way.
type readOp struct {
	fn  func(q querier) error
	err error
}

func (*readOp) op() {}

// read runs fn against the readers, or, for an in-memory store, through the
// committer.
func (s *SQLite) read(ctx context.Context, fn func(q querier) error) error {
	if !s.memory {
		return fn(s.rdb)
	}
	op := &readOp{fn: fn}
	if err := Apply(ctx, s, op); err != nil {
		return err
	}
	return op.err
}

func scanActivation(r scanner) (Activation, error) {
	var a Activation
	var id, outcome []byte
	var key sql.NullString
	var state int
	if err := r.Scan(&id, &a.Flow, &key, &a.Args, &state, &outcome, &a.CreatedGen, &a.Gen, &a.Failure); err != nil {
		return a, err
	}
	var err error
	if a.ID, err = idFrom(id, "activation"); err != nil {
		return a, err
	}
	if a.Outcome, err = idFrom(outcome, "outcome vow"); err != nil {
		return a, fmt.Errorf("activation %s: %w", a.ID, err)
	}
	a.StartKey = key.String
	a.State = State(state)
	if a.State < Running || a.State > Done {
		return a, fmt.Errorf("%w: activation %s has state %d", ErrCorrupt, a.ID, state)
	}
	return a, nil
}

// Revivable implements Store.
func (s *SQLite) Revivable(ctx context.Context, fn func(flow.ActivationID, string, State) error) error {
	type row struct {
		id    flow.ActivationID
		flow  string
		state State
	}
	var all []row
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT id, flow, state FROM activations WHERE state IN (1, 3)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			var r row
			if err := rows.Scan(&b, &r.flow, &r.state); err != nil {
				return err
			}
			if r.id, err = idFrom(b, "activation"); err != nil {
				// One damaged row must not keep every other activation
				// from being revived.
				s.log.Error("asyncflow store: skipping a damaged activation row", "path", s.path, "err", err)
				continue
			}
			all = append(all, r)
		}
		return rows.Err()
	})
	if err != nil {
		return s.wrap("revivable", err)
	}
	for _, r := range all {
		if err := fn(r.id, r.flow, r.state); err != nil {
			return err
		}
	}
	return nil
}

// Activation implements Store.
func (s *SQLite) Activation(ctx context.Context, id flow.ActivationID) (Activation, error) {
	var a Activation
	err := s.read(ctx, func(q querier) (err error) {
		a, err = scanActivation(q.QueryRowContext(ctx, qActivation, id[:]))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("store: activation %s: %w", id, ErrNotFound)
	}
	return a, s.wrap("activation", err)
}

// Activations implements Store.
func (s *SQLite) Activations(ctx context.Context, f Filter) ([]Activation, error) {
	var where []string
	var args []any
	if f.State != 0 {
		where = append(where, "state = ?")
		args = append(args, int(f.State))
	}
	if f.Flow != "" {
		where = append(where, "flow = ?")
		args = append(args, f.Flow)
	}
	if !f.After.IsZero() {
		where = append(where, "id > ?")
		args = append(args, f.After[:])
	}
	q := `SELECT ` + actColumns + ` FROM activations`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limit)
	var out []Activation
	err := s.read(ctx, func(qr querier) error {
		rows, err := qr.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanActivation(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, s.wrap("activations", err)
}

// Log implements Store.
func (s *SQLite) Log(ctx context.Context, id flow.ActivationID) ([]Entry, error) {
	var out []Entry
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT step, kind, gen, payload FROM entries WHERE act = ? ORDER BY step`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e Entry
			if err := rows.Scan(&e.Step, &e.Kind, &e.Gen, &e.Payload); err != nil {
				return err
			}
			if e.Step != int64(len(out)) {
				return fmt.Errorf("%w: log of %s has step %d where %d was expected", ErrCorrupt, id, e.Step, len(out))
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("log", err)
	}
	return out, nil
}

// Vow implements Store.
func (s *SQLite) Vow(ctx context.Context, id flow.VowID) (Vow, error) {
	v := Vow{ID: id}
	var state int
	err := s.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT state, payload, gen FROM vows WHERE id = ?`, id[:]).Scan(&state, &v.Payload, &v.Gen)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("store: vow %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return v, s.wrap("vow", err)
	}
	v.State = VowState(state)
	if v.State < VowPending || v.State > VowRejected {
		return v, fmt.Errorf("store: vow %s: %w: state %d", id, ErrCorrupt, state)
	}
	return v, nil
}

// Waits implements Store.
func (s *SQLite) Waits(ctx context.Context, id flow.ActivationID) ([]flow.VowID, error) {
	var out []flow.VowID
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT vow FROM waits WHERE act = ? ORDER BY vow`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return err
			}
			v, err := idFrom(b, "vow")
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, s.wrap("waits", err)
}

// NextDeadline implements Store.
func (s *SQLite) NextDeadline(ctx context.Context) (time.Time, bool, error) {
	var ns sql.NullInt64
	if err := s.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT min(deadline) FROM timers`).Scan(&ns)
	}); err != nil {
		return time.Time{}, false, s.wrap("timers", err)
	}
	if !ns.Valid {
		return time.Time{}, false, nil
	}
	return unixNano(ns.Int64), true, nil
}

// Incarnation implements Store.
func (s *SQLite) Incarnation(ctx context.Context, gen int64) (Incarnation, error) {
	inc := Incarnation{Gen: gen}
	var started int64
	err := s.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT build, started_ns, pid FROM incarnations WHERE gen = ?`, gen).Scan(&inc.Build, &started, &inc.PID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return inc, fmt.Errorf("store: incarnation %d: %w", gen, ErrNotFound)
	}
	inc.Started = unixNano(started)
	return inc, s.wrap("incarnation", err)
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns) }
