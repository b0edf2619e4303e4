package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// writer owns the write connection and its prepared statements.
type writer struct {
	s     *Store
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	ctx   context.Context
}

func newWriter(ctx context.Context, s *Store) (*writer, error) {
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return nil, s.wrap("writer", err)
	}
	return &writer{s: s, conn: conn, stmts: map[string]*sql.Stmt{}, ctx: ctx}, nil
}

func (w *writer) close() {
	for _, st := range w.stmts {
		st.Close()
	}
	if w.conn != nil {
		w.conn.Close()
	}
}

func (w *writer) stmt(q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(w.ctx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

func (w *writer) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *writer) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

// commit applies every job of the batch in one immediate transaction.
func (w *writer) commit(batch []job) (err error) {
	if w.conn == nil {
		if err := w.reconnect(); err != nil {
			return err
		}
	}
	if _, err := w.exec("BEGIN IMMEDIATE"); err != nil {
		return w.s.wrap("begin", err)
	}
	defer func() {
		if err != nil {
			w.rollback()
		}
	}()
	for _, j := range batch {
		if j.own != nil {
			if err := j.own(w); err != nil {
				return w.s.wrap("write", err)
			}
			continue
		}
		for _, op := range j.p.Ops() {
			if err := w.checkSizes(op); err != nil {
				return fmt.Errorf("sqlitestore: %s %s: %w", opName(op), w.s.path, err)
			}
			if err := w.apply(op); err != nil {
				return w.s.wrap(opName(op), err)
			}
		}
	}
	if _, err := w.exec("COMMIT"); err != nil {
		return w.s.wrap("commit", err)
	}
	return nil
}

// rollback ends a failed transaction. SQLite has rolled it back already
// after some errors (a full disk, an I/O error): that is not a second error.
// If the rollback itself fails, the connection may still be in the
// transaction: it is dropped, and the next commit opens another.
func (w *writer) rollback() {
	_, err := w.exec("ROLLBACK")
	if err == nil || strings.Contains(err.Error(), "no transaction is active") {
		return
	}
	w.s.log.Error("asyncflow store: rollback failed; reconnecting", "path", w.s.path, "err", err)
	w.drop()
}

// drop discards the write connection; the next commit reconnects.
func (w *writer) drop() {
	for _, st := range w.stmts {
		st.Close()
	}
	clear(w.stmts)
	// Returning ErrBadConn makes database/sql close the connection rather
	// than keep it, with whatever transaction it holds, for reuse.
	_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = w.conn.Close()
	w.conn = nil
}

func (w *writer) reconnect() error {
	conn, err := w.s.wdb.Conn(w.ctx)
	if err != nil {
		return w.s.wrap("writer", err)
	}
	w.conn = conn
	return nil
}

// checkSizes refuses an op with a value over the store's limit.
func (w *writer) checkSizes(op store.Op) error {
	var values [][]byte
	switch op := op.(type) {
	case *store.Append:
		values = [][]byte{op.Entry.Payload}
	case *store.CreateActivation:
		values = [][]byte{op.Activation.Args}
	case *store.SettleVow:
		values = [][]byte{op.Payload}
	case *store.SetState:
		values = [][]byte{op.Failure}
	case *store.Finish:
		values = [][]byte{op.Payload}
	case *store.Send:
		values = [][]byte{op.Payload}
	case *store.Publish:
		values = [][]byte{op.Payload}
	}
	for _, v := range values {
		if len(v) > w.s.opts.MaxValueSize {
			return fmt.Errorf("%w: a value of %d bytes, over the store's limit of %d", store.ErrRefused, len(v), w.s.opts.MaxValueSize)
		}
	}
	return nil
}

const (
	qInsertEntry = `INSERT INTO entries (act, step, kind, gen, at_ns, payload) VALUES (?, ?, ?, ?, ?, ?)`
	qInsertAct   = `INSERT INTO activations (id, flow, start_key, args, state, outcome, created_gen, gen, created_ns, state_ns, parent)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	qInsertVow   = `INSERT INTO vows (id, kind, state, gen) VALUES (?, ?, 0, ?)`
	qInsertTimer = `INSERT INTO timers (deadline, vow) VALUES (?, ?)`
	qSettleVow   = `UPDATE vows SET state = ?, payload = ?, gen = ? WHERE id = ? AND state = 0`
	qVowKind     = `SELECT kind FROM vows WHERE id = ?`
	qVowExists   = `SELECT 1 FROM vows WHERE id = ?`
	qVowState    = `SELECT kind, state, payload, gen FROM vows WHERE id = ?`
	qWaiters     = `SELECT act FROM waits WHERE vow = ?`
	qDeleteWaits = `DELETE FROM waits WHERE act = ?`
	qInsertWait  = `INSERT OR IGNORE INTO waits (vow, act) VALUES (?, ?)`
	qWake        = `UPDATE activations SET state = 1, gen = ?, state_ns = ? WHERE id = ? AND state = 2`
	qSuspend     = `UPDATE activations SET state = 2, gen = ?, state_ns = ? WHERE id = ? AND state = 1`
	qSetState    = `UPDATE activations SET state_ns = CASE state WHEN ?1 THEN state_ns ELSE ?2 END,
		state = ?1, failure = ?3, gen = ?4 WHERE id = ?5`
	qFinish = `UPDATE activations SET state = 4, failure = NULL, gen = ?1, state_ns = ?2, finished_ns = ?2
		WHERE id = ?3 AND state <> 4 RETURNING outcome`
	qDeleteLog   = `DELETE FROM entries WHERE act = ?`
	qDueTimers   = `SELECT deadline, vow FROM timers WHERE deadline <= ? ORDER BY deadline LIMIT ?`
	qDeleteTimer = `DELETE FROM timers WHERE deadline = ? AND vow = ?`
	qNewInc      = `INSERT INTO incarnations (build, started_ns, pid) VALUES (?, ?, ?) RETURNING gen`
)

func (w *writer) apply(op store.Op) error {
	switch op := op.(type) {
	case *store.Append:
		e := &op.Entry
		_, err := w.exec(qInsertEntry, op.Act[:], e.Step, e.Kind, e.Gen, nsOf(e.At), notNil(e.Payload))
		return err
	case *store.CreateActivation:
		return w.createActivation(op)
	case *store.CreateVow:
		if _, err := w.exec(qInsertVow, op.ID[:], int(op.Kind), op.Gen); err != nil {
			return err
		}
		if !op.Deadline.IsZero() {
			_, err := w.exec(qInsertTimer, op.Deadline.UnixNano(), op.ID[:])
			return err
		}
		return nil
	case *store.SettleVow:
		return w.settleVow(op)
	case *store.Watch:
		return w.watch(op)
	case *store.SetState:
		var failure any
		if op.State == store.Failed {
			failure = op.Failure
		}
		_, err := w.exec(qSetState, int(op.State), nsOf(op.At), failure, op.Gen, op.Act[:])
		return err
	case *store.Finish:
		return w.finish(op)
	case *store.FireTimers:
		return w.fireTimers(op)
	case *store.Purge:
		return w.purge(op)
	case *store.Send:
		return w.send(op)
	case *store.Receive:
		return w.receive(op)
	case *store.Publish:
		return w.publish(op)
	}
	return fmt.Errorf("unknown op %T", op)
}

// opName names an op in errors: "append", "settle vow", …
func opName(op store.Op) string {
	switch op.(type) {
	case *store.Append:
		return "append"
	case *store.CreateActivation:
		return "create activation"
	case *store.CreateVow:
		return "create vow"
	case *store.SettleVow:
		return "settle vow"
	case *store.Watch:
		return "watch"
	case *store.SetState:
		return "set state"
	case *store.Finish:
		return "finish"
	case *store.FireTimers:
		return "fire timers"
	case *store.Purge:
		return "purge"
	case *store.Send:
		return "send"
	case *store.Receive:
		return "receive"
	case *store.Publish:
		return "publish"
	}
	return fmt.Sprintf("%T", op)
}

func (w *writer) createActivation(op *store.CreateActivation) error {
	a := &op.Activation
	op.Existing = nil
	var key, parent any
	if a.StartKey != "" {
		key = a.StartKey
	}
	if !a.Parent.IsZero() {
		parent = a.Parent[:]
	}
	res, err := w.exec(qInsertAct, a.ID[:], a.Flow, key, notNil(a.Args), a.Outcome[:], a.CreatedGen, a.CreatedGen, nsOf(a.Created), nsOf(a.Created), parent)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		existing, _, err := scanActivation(w.conn.QueryRowContext(w.ctx, qActivation, a.ID[:]))
		if err != nil {
			return err
		}
		op.Existing = &existing
		return nil
	}
	_, err = w.exec(qInsertVow, a.Outcome[:], int(store.OutcomeVow), a.CreatedGen)
	return err
}

// settleVow applies a SettleVow: with HostOnly, only a host's vow is
// settled.
func (w *writer) settleVow(op *store.SettleVow) error {
	op.Settled, op.Missing, op.Kind, op.Waiters = false, false, store.HostVow, nil
	var kind int
	err := scanErr(w.conn.QueryRowContext(w.ctx, qVowKind, op.ID[:]).Scan(&kind))
	if errors.Is(err, sql.ErrNoRows) {
		op.Missing = true
		return nil
	}
	if err != nil {
		return err
	}
	op.Kind = store.VowKind(kind)
	if op.HostOnly && op.Kind != store.HostVow {
		return nil
	}
	op.Settled, op.Missing, op.Waiters, err = w.settle(op.ID, op.State, op.Payload, op.Gen, nsOf(op.At))
	return err
}

func (w *writer) settle(id flow.VowID, state store.VowState, payload []byte, gen, at int64) (settled, missing bool, waiters []flow.ActivationID, err error) {
	res, err := w.exec(qSettleVow, int(state), payload, gen, id[:])
	if err != nil {
		return false, false, nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, false, nil, err
	}
	if n == 0 {
		var one int
		err := w.conn.QueryRowContext(w.ctx, qVowExists, id[:]).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, true, nil, nil
		}
		return false, false, nil, err
	}
	rows, err := w.query(qWaiters, id[:])
	if err != nil {
		return false, false, nil, err
	}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return false, false, nil, scanErr(err)
		}
		act, err := idFrom(b, "waiting activation")
		if err != nil {
			rows.Close()
			return false, false, nil, err
		}
		waiters = append(waiters, act)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, false, nil, err
	}
	for _, act := range waiters {
		if _, err := w.exec(qDeleteWaits, act[:]); err != nil {
			return false, false, nil, err
		}
		if _, err := w.exec(qWake, gen, at, act[:]); err != nil {
			return false, false, nil, err
		}
	}
	return true, false, waiters, nil
}

func (w *writer) watch(op *store.Watch) error {
	op.Index, op.Vow, op.Missing = -1, store.Vow{}, -1
	st, err := w.stmt(qVowState)
	if err != nil {
		return err
	}
	for i, id := range op.Vows {
		var v store.Vow
		var kind, state int
		err := scanErr(st.QueryRowContext(w.ctx, id[:]).Scan(&kind, &state, &v.Payload, &v.Gen))
		if errors.Is(err, sql.ErrNoRows) {
			op.Index, op.Vow, op.Missing = -1, store.Vow{}, i
			return nil
		}
		if err != nil {
			return err
		}
		if state != int(store.VowPending) && op.Index < 0 {
			v.ID, v.Kind, v.State = id, store.VowKind(kind), store.VowState(state)
			op.Index, op.Vow = i, v
		}
	}
	if op.Index >= 0 {
		return nil
	}
	for _, id := range op.Vows {
		if _, err := w.exec(qInsertWait, id[:], op.Act[:]); err != nil {
			return err
		}
	}
	if op.Suspend {
		_, err := w.exec(qSuspend, op.Gen, nsOf(op.At), op.Act[:])
		return err
	}
	return nil
}

func (w *writer) finish(op *store.Finish) error {
	op.Finished, op.Waiters = false, nil
	var outcome []byte
	st, err := w.stmt(qFinish)
	if err != nil {
		return err
	}
	err = st.QueryRowContext(w.ctx, op.Gen, nsOf(op.At), op.Act[:]).Scan(&outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	vid, err := idFrom(outcome, "outcome vow")
	if err != nil {
		return err
	}
	if !op.KeepLog {
		if _, err := w.exec(qDeleteLog, op.Act[:]); err != nil {
			return err
		}
	}
	if _, err := w.exec(qDeleteWaits, op.Act[:]); err != nil {
		return err
	}
	if err := w.dropMailbox(op.Act); err != nil {
		return err
	}
	settled, missing, waiters, err := w.settle(vid, op.State, op.Payload, op.Gen, nsOf(op.At))
	switch {
	case err != nil:
		return err
	case missing:
		return fmt.Errorf("%w: activation %s: its outcome vow %s is missing", store.ErrCorrupt, op.Act, vid)
	case !settled:
		// Only finishing settles an outcome: anything else that did is a
		// bug, and the outcome is not overwritten.
		return fmt.Errorf("%w: activation %s: its outcome vow %s is settled already, though the activation is not done (an internal error)", store.ErrRefused, op.Act, vid)
	}
	op.Finished, op.Outcome, op.Waiters = true, vid, waiters
	return nil
}

func (w *writer) fireTimers(op *store.FireTimers) error {
	op.Fired = nil // a batch retried alone starts afresh
	limit := op.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	rows, err := w.query(qDueTimers, op.Now.UnixNano(), limit)
	if err != nil {
		return err
	}
	type due struct {
		deadline int64
		vow      flow.VowID
	}
	var dues []due
	for rows.Next() {
		var d due
		var b []byte
		if err := rows.Scan(&d.deadline, &b); err != nil {
			rows.Close()
			return scanErr(err)
		}
		if d.vow, err = idFrom(b, "timer vow"); err != nil {
			rows.Close()
			return err
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range dues {
		if _, err := w.exec(qDeleteTimer, d.deadline, d.vow[:]); err != nil {
			return err
		}
		payload := op.EncodeDeadline(unixNano(d.deadline))
		settled, _, waiters, err := w.settle(d.vow, store.VowFulfilled, payload, op.Gen, nsOf(op.Now))
		if err != nil {
			return err
		}
		if settled {
			op.Fired = append(op.Fired, store.Fired{Vow: d.vow, Payload: payload, Waiters: waiters})
		}
	}
	return nil
}

const (
	qPurgeable = `SELECT id, outcome FROM activations INDEXED BY activations_finished WHERE state = 4 AND finished_ns < ? ORDER BY finished_ns LIMIT ?`
	qDeleteAct = `DELETE FROM activations WHERE id = ?`
	qDeleteVow = `DELETE FROM vows WHERE id = ?`
)

func (w *writer) purge(op *store.Purge) error {
	op.Purged = 0
	limit := op.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	rows, err := w.query(qPurgeable, nsOf(op.Before), limit)
	if err != nil {
		return err
	}
	var ids, outcomes [][]byte
	for rows.Next() {
		var id, outcome []byte
		if err := rows.Scan(&id, &outcome); err != nil {
			rows.Close()
			return err
		}
		ids, outcomes = append(ids, id), append(outcomes, outcome)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, id := range ids {
		for _, q := range []string{qDeleteLog, qDeleteWaits, qDropMessages, qDropReceivers, qDropStatuses, qDeleteAct} {
			if _, err := w.exec(q, id); err != nil {
				return err
			}
		}
		if _, err := w.exec(qDeleteVow, outcomes[i]); err != nil {
			return err
		}
	}
	op.Purged = len(ids)
	return nil
}

// notNil gives SQLite an empty blob rather than NULL for a nil slice.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
