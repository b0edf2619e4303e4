package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// actColumns are the columns scanActivation reads, from activations as a:
// the row, then the time and incarnation of its last log entry.
const actColumns = `a.id, a.flow, a.start_key, a.args, a.state, a.outcome, a.created_gen, a.gen, a.failure, a.parent,
	a.created_ns, a.state_ns, a.finished_ns, a.run, a.run_args,
	(SELECT e.at_ns FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
	(SELECT e.gen FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1)`

const (
	qActivation = `SELECT ` + actColumns + ` FROM activations a WHERE a.id = ?`
	qRevivable  = `SELECT id, flow, state FROM activations INDEXED BY activations_live WHERE state IN (1, 2, 3) AND state IN (1, 3)`
	qByKey      = `SELECT ` + actColumns + ` FROM activations AS a INDEXED BY activations_key
		WHERE a.start_key = ? ORDER BY a.created_ns DESC, a.id DESC`
	qByOutcome = `SELECT ` + actColumns + ` FROM vows AS v JOIN activations AS a ON a.id = v.act WHERE v.id = ? AND v.kind = 1`
)

type scanner interface{ Scan(...any) error }

// querier is what reads need: the reader pool, or the write connection.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read runs fn against the readers or, for an in-memory store, which has a
// single connection, on the write connection, in order with the writes.
func (s *Store) read(ctx context.Context, fn func(q querier) error) error {
	if s.closing.Load() {
		return store.ErrClosed // the caller names the store
	}
	if !s.memory {
		return fn(s.rdb)
	}
	var err error
	p := s.enqueue(job{p: store.NewPending(), own: func(w *writer) error {
		err = fn(w.conn)
		return nil // a failed read does not fail the writes beside it
	}}, store.ErrClosed)
	if werr := p.WaitContext(ctx); werr != nil {
		return werr
	}
	return err
}

// readConsistent is read, with every query fn makes seeing the store as of
// one moment: on a file, in one read transaction.
func (s *Store) readConsistent(ctx context.Context, fn func(q querier) error) error {
	if s.memory {
		return s.read(ctx, fn) // in the writer's transaction
	}
	return s.read(ctx, func(q querier) error {
		tx, err := s.rdb.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		return fn(tx)
	})
}

// scanActivation reads an activation's row. On an error, raw is the row's id
// as stored, for a report that names it.
func scanActivation(r scanner) (a store.Activation, raw []byte, err error) {
	var outcome, parent []byte
	var key sql.NullString
	var state int
	var created, since int64
	var finished, lastAt, lastGen sql.NullInt64
	if err := r.Scan(&raw, &a.Flow, &key, &a.Args, &state, &outcome, &a.CreatedGen, &a.Gen, &a.Failure, &parent,
		&created, &since, &finished, &a.Run, &a.RunArgs, &lastAt, &lastGen); err != nil {
		return a, raw, scanErr(err)
	}
	a.Created, a.StateSince, a.Finished = timeOf(created), timeOf(since), timeOf(finished.Int64)
	a.Changed, a.LastGen = a.StateSince, a.Gen
	if lastAt.Valid && lastAt.Int64 > since {
		a.Changed = timeOf(lastAt.Int64)
	}
	if lastGen.Valid && lastGen.Int64 > a.Gen {
		a.LastGen = lastGen.Int64
	}
	if a.ID, err = idFrom(raw, "activation"); err != nil {
		return a, raw, err
	}
	if a.Outcome, err = idFrom(outcome, "outcome vow"); err != nil {
		return a, raw, fmt.Errorf("activation %s: %w", a.ID, err)
	}
	if parent != nil {
		if a.Parent, err = idFrom(parent, "parent activation"); err != nil {
			return a, raw, fmt.Errorf("activation %s: %w", a.ID, err)
		}
	}
	a.StartKey = key.String
	a.State = store.State(state)
	if a.State < store.Running || a.State > store.Done {
		return a, raw, fmt.Errorf("%w: activation %s has state %d", store.ErrCorrupt, a.ID, state)
	}
	return a, raw, nil
}

// scanErr marks an error converting a stored value — a NULL where there must
// be a value, text where there must be a number, as a flipped byte leaves
// them — as damage. Other errors (the read itself failed) pass as they are.
func scanErr(err error) error {
	if err != nil && strings.HasPrefix(err.Error(), "sql: Scan error") {
		return fmt.Errorf("%w: %v", store.ErrCorrupt, err)
	}
	return err
}

// skipDamaged reports a row a listing cannot read back and leaves out.
func (s *Store) skipDamaged(what string, raw []byte, err error) {
	s.log.Error("asyncflow store: skipping a damaged "+what+" row", "path", s.path, "id", fmt.Sprintf("%x", raw), "err", err)
}

// Revivable implements store.Store.
func (s *Store) Revivable(ctx context.Context, fn func(flow.ActivationID, string, store.State) error) error {
	type row struct {
		id    flow.ActivationID
		flow  string
		state store.State
	}
	var all []row
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, qRevivable)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			var r row
			err := scanErr(rows.Scan(&b, &r.flow, &r.state))
			if err == nil {
				r.id, err = idFrom(b, "activation")
			}
			if errors.Is(err, store.ErrCorrupt) {
				// One damaged row must not keep every other activation
				// from being revived.
				s.skipDamaged("activation", b, err)
				continue
			}
			if err != nil {
				return err
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
	err := s.read(ctx, func(q querier) (err error) {
		a, _, err = scanActivation(q.QueryRowContext(ctx, qActivation, id[:]))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sqlitestore: activation %s: %w", id, store.ErrNotFound)
	}
	return a, s.wrap("activation", err)
}

// Log implements store.Store.
func (s *Store) Log(ctx context.Context, id flow.ActivationID) ([]store.Entry, error) {
	var out []store.Entry
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT step, kind, gen, at_ns, payload FROM entries WHERE act = ? ORDER BY step`, id[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		var payloads arena
		for rows.Next() {
			var e store.Entry
			var at int64
			var payload sql.RawBytes
			if err := rows.Scan(&e.Step, &e.Kind, &e.Gen, &at, &payload); err != nil {
				return scanErr(err)
			}
			e.At = timeOf(at)
			if e.Step != int64(len(out)) {
				return fmt.Errorf("%w: log of %s has step %d where %d was expected", store.ErrCorrupt, id, e.Step, len(out))
			}
			e.Payload = payloads.copy(payload)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.wrap("log", err)
	}
	return out, nil
}

// arena copies the payloads of a log into a few large allocations rather
// than one each: a replay reads thousands of small ones. Each copy is capped,
// so appending to one cannot overwrite the next.
type arena struct{ buf []byte }

// arenaChunk is the size of an arena's allocations; a payload over a quarter
// of it gets one of its own.
const arenaChunk = 32 << 10

func (a *arena) copy(b []byte) []byte {
	if len(b) > arenaChunk/4 {
		return append(make([]byte, 0, len(b)), b...)
	}
	if len(b) > cap(a.buf)-len(a.buf) {
		a.buf = make([]byte, 0, arenaChunk)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

// Vow implements store.Store.
func (s *Store) Vow(ctx context.Context, id flow.VowID) (store.Vow, error) {
	v := store.Vow{ID: id}
	var kind, state int
	err := s.read(ctx, func(q querier) error {
		return scanErr(q.QueryRowContext(ctx, `SELECT kind, state, payload, gen FROM vows WHERE id = ?`, id[:]).Scan(&kind, &state, &v.Payload, &v.Gen))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("sqlitestore: vow %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return v, s.wrap("vow", err)
	}
	v.Kind, v.State = store.VowKind(kind), store.VowState(state)
	if v.State < store.VowPending || v.State > store.VowRejected {
		return v, fmt.Errorf("sqlitestore: vow %s: %w: state %d", id, store.ErrCorrupt, state)
	}
	if v.Kind < store.HostVow || v.Kind > store.CancelVow {
		return v, fmt.Errorf("sqlitestore: vow %s: %w: kind %d", id, store.ErrCorrupt, kind)
	}
	return v, nil
}

// Waits implements store.Store.
func (s *Store) Waits(ctx context.Context, id flow.ActivationID) ([]flow.VowID, error) {
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
				return scanErr(err)
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
	var ns sql.NullInt64
	if err := s.read(ctx, func(q querier) error {
		return scanErr(q.QueryRowContext(ctx, `SELECT min(deadline) FROM timers`).Scan(&ns))
	}); err != nil {
		return time.Time{}, false, s.wrap("timers", err)
	}
	if !ns.Valid {
		return time.Time{}, false, nil
	}
	return unixNano(ns.Int64), true, nil
}

// Incarnation implements store.Store.
func (s *Store) Incarnation(ctx context.Context, gen int64) (store.Incarnation, error) {
	inc := store.Incarnation{Gen: gen}
	var started int64
	err := s.read(ctx, func(q querier) error {
		return scanErr(q.QueryRowContext(ctx, `SELECT build, started_ns, pid FROM incarnations WHERE gen = ?`, gen).Scan(&inc.Build, &started, &inc.PID))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return inc, fmt.Errorf("sqlitestore: incarnation %d: %w", gen, store.ErrNotFound)
	}
	inc.Started = unixNano(started)
	return inc, s.wrap("incarnation", err)
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
