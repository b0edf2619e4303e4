package sqlitestore

import (
	"database/sql"
	"errors"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// The writes of vows: settling one and waking what waits for it, recording
// what an activation waits for, and firing the timers that are due.

const (
	qSettleVow   = `UPDATE vows SET state = ?, payload = ?, gen = ? WHERE id = ? AND state = 0`
	qVowKind     = `SELECT kind FROM vows WHERE id = ?`
	qVowExists   = `SELECT 1 FROM vows WHERE id = ?`
	qVowState    = `SELECT kind, state, payload, gen FROM vows WHERE id = ?`
	qWaiters     = `SELECT act FROM waits WHERE vow = ?`
	qDeleteWaits = `DELETE FROM waits WHERE act = ?`
	qInsertWait  = `INSERT OR IGNORE INTO waits (vow, act) VALUES (?, ?)`
	qWake        = `UPDATE activations SET state = 1, gen = ?, state_ns = ? WHERE id = ? AND state = 2`
	qSuspend     = `UPDATE activations SET state = 2, gen = ?, state_ns = ? WHERE id = ? AND state = 1`
	qDueTimers   = `SELECT deadline, vow FROM timers WHERE deadline <= ? ORDER BY deadline LIMIT ?`
	qDeleteTimer = `DELETE FROM timers WHERE deadline = ? AND vow = ?`
)

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
