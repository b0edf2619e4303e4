package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// actColumns are the columns scanActivation reads, from activations as a:
// the row, then the time and incarnation of its last log entry, then its
// parent.
const actColumns = `a.id, a.flow, a.start_key, a.args, a.state, a.outcome, a.created_gen, a.gen, a.failure,
	a.created_ns, a.state_ns, a.finished_ns,
	(SELECT e.at_ns FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
	(SELECT e.gen FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
	a.parent, a.run, a.run_args`

// reading checks a read may go ahead. The caller names the store.
func (s *Store) reading(ctx context.Context) error {
	if s.closing.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// read runs a read, and runs it again once if its connection was lost (the
// server restarted, or ended the session): reads have no effects.
func (s *Store) read(ctx context.Context, fn func() error) error {
	if err := s.reading(ctx); err != nil {
		return err
	}
	err := fn()
	if err != nil && ctx.Err() == nil && !errors.Is(err, pgx.ErrNoRows) && !errors.Is(err, store.ErrCorrupt) && severity(err) != "ERROR" {
		err = fn()
	}
	return err
}

// scanActivation reads a row of actColumns.
func scanActivation(r pgx.Row) (store.Activation, error) {
	a, _, err := scanActivationRaw(r)
	return a, err
}

// scanActivationRaw is scanActivation that also returns the row's id as
// stored. On an error that is store.ErrCorrupt, a.Created and the id are
// the row's: a listing that leaves the row out goes on after it.
func scanActivationRaw(r pgx.Row) (a store.Activation, id []byte, err error) {
	var outcome, parent []byte
	var key *string
	var state int16
	var created, since int64
	var finished, lastAt, lastGen *int64
	var run int32
	if err := r.Scan(&id, &a.Flow, &key, &a.Args, &state, &outcome, &a.CreatedGen, &a.Gen, &a.Failure,
		&created, &since, &finished, &lastAt, &lastGen, &parent, &run, &a.RunArgs); err != nil {
		return a, nil, err
	}
	a.Run = int(run)
	a.Created, a.StateSince = timeOf(created), timeOf(since)
	if finished != nil {
		a.Finished = timeOf(*finished)
	}
	a.Changed, a.LastGen = a.StateSince, a.Gen
	if lastAt != nil && *lastAt > since {
		a.Changed = timeOf(*lastAt)
	}
	if lastGen != nil && *lastGen > a.Gen {
		a.LastGen = *lastGen
	}
	if a.ID, err = idFrom(id, "activation"); err != nil {
		return a, id, err
	}
	if a.Outcome, err = idFrom(outcome, "outcome vow"); err != nil {
		return a, id, fmt.Errorf("activation %s: %w", a.ID, err)
	}
	if key != nil {
		a.StartKey = *key
	}
	if parent != nil {
		if a.Parent, err = idFrom(parent, "parent activation"); err != nil {
			return a, id, fmt.Errorf("activation %s: %w", a.ID, err)
		}
	}
	a.State = store.State(state)
	if a.State < store.Running || a.State > store.Done {
		return a, id, fmt.Errorf("%w: activation %s has state %d", store.ErrCorrupt, a.ID, state)
	}
	return a, id, nil
}

// Revivable implements store.Store.
func (s *Store) Revivable(ctx context.Context, fn func(flow.ActivationID, string, store.State) error) error {
	type row struct {
		id    flow.ActivationID
		flow  string
		state store.State
	}
	var all []row
	err := s.read(ctx, func() error {
		all = all[:0]
		rows, err := s.pool.Query(ctx, `SELECT id, flow, state FROM activations WHERE state IN (1, 3)`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			var r row
			var st int16
			if err := rows.Scan(&b, &r.flow, &st); err != nil {
				return err
			}
			r.state = store.State(st)
			if r.id, err = idFrom(b, "activation"); err != nil {
				// One damaged row must not keep every other activation
				// from being revived.
				s.log.Error("asyncflow store: skipping a damaged activation row", "store", s.name, "err", err)
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

// Activation implements store.Store.
func (s *Store) Activation(ctx context.Context, id flow.ActivationID) (store.Activation, error) {
	var a store.Activation
	err := s.read(ctx, func() (err error) {
		a, err = scanActivation(s.pool.QueryRow(ctx, `SELECT `+actColumns+` FROM activations a WHERE a.id = $1`, id[:]))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("pgstore: activation %s: %w", id, store.ErrNotFound)
	}
	return a, s.wrap("activation", err)
}

// Log implements store.Store.
func (s *Store) Log(ctx context.Context, id flow.ActivationID) ([]store.Entry, error) {
	var out []store.Entry
	err := s.read(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT step, kind, gen, at_ns, payload FROM entries WHERE act = $1 ORDER BY step`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e store.Entry
			var kind int32
			var at int64
			if err := rows.Scan(&e.Step, &kind, &e.Gen, &at, &e.Payload); err != nil {
				return err
			}
			e.Kind, e.At = int(kind), timeOf(at)
			if e.Step != int64(len(out)) {
				return fmt.Errorf("%w: log of %s has step %d where %d was expected", store.ErrCorrupt, id, e.Step, len(out))
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

// Vow implements store.Store.
func (s *Store) Vow(ctx context.Context, id flow.VowID) (store.Vow, error) {
	v := store.Vow{ID: id}
	var kind, state int16
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT kind, state, payload, gen FROM vows WHERE id = $1`, id[:]).Scan(&kind, &state, &v.Payload, &v.Gen)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("pgstore: vow %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return v, s.wrap("vow", err)
	}
	v.Kind, v.State = store.VowKind(kind), store.VowState(state)
	if v.State < store.VowPending || v.State > store.VowRejected {
		return v, fmt.Errorf("pgstore: vow %s: %w: state %d", id, store.ErrCorrupt, state)
	}
	if v.Kind < store.HostVow || v.Kind > store.CancelVow {
		return v, fmt.Errorf("pgstore: vow %s: %w: kind %d", id, store.ErrCorrupt, kind)
	}
	return v, nil
}

// Waits implements store.Store.
func (s *Store) Waits(ctx context.Context, id flow.ActivationID) ([]flow.VowID, error) {
	var out []flow.VowID
	err := s.read(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT vow FROM waits WHERE act = $1 ORDER BY vow`, id[:])
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

// NextDeadline implements store.Store.
func (s *Store) NextDeadline(ctx context.Context) (time.Time, bool, error) {
	var ns *int64
	if err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT min(deadline) FROM timers`).Scan(&ns)
	}); err != nil {
		return time.Time{}, false, s.wrap("timers", err)
	}
	if ns == nil {
		return time.Time{}, false, nil
	}
	return unixNano(*ns), true, nil
}

// Incarnation implements store.Store.
func (s *Store) Incarnation(ctx context.Context, gen int64) (store.Incarnation, error) {
	inc := store.Incarnation{Gen: gen}
	var started int64
	var pid int32
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT build, started_ns, pid FROM incarnations WHERE gen = $1`, gen).Scan(&inc.Build, &started, &pid)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return inc, fmt.Errorf("pgstore: incarnation %d: %w", gen, store.ErrNotFound)
	}
	inc.Started, inc.PID = unixNano(started), int(pid)
	return inc, s.wrap("incarnation", err)
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

// activationIDs reads an array of activation ids.
func activationIDs(raw [][]byte) ([]flow.ActivationID, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]flow.ActivationID, len(raw))
	for i, b := range raw {
		id, err := idFrom(b, "waiting activation")
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns) }

// nsOf is a time as stored: Unix nanoseconds, 0 for the zero time.
func nsOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeOf reads what nsOf stores.
func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
