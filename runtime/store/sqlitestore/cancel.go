package sqlitestore

import (
	"database/sql"
	"errors"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

const (
	qEnsureVow = `INSERT INTO vows (id, kind, state, gen) VALUES (?, ?, 0, ?) ON CONFLICT (id) DO NOTHING`
	qActState  = `SELECT state FROM activations WHERE id = ?`
)

func (w *writer) ensureVow(op *store.EnsureVow) error {
	op.Created = false
	res, err := w.exec(qEnsureVow, op.ID[:], int(op.Kind), op.Gen)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	op.Created = n > 0
	return err
}

// requestCancel fulfils an activation's cancellation vow, which it creates
// if the flow has not asked for it yet.
func (w *writer) requestCancel(op *store.RequestCancel) error {
	op.Result, op.Waiters = 0, nil
	var state int
	err := scanErr(w.conn.QueryRowContext(w.ctx, qActState, op.Act[:]).Scan(&state))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		op.Result = store.CancelNoActivation
		return nil
	case err != nil:
		return err
	case store.State(state) == store.Done:
		op.Result = store.CancelFinished
		return nil
	}
	if _, err := w.exec(qEnsureVow, op.Vow[:], int(store.CancelVow), op.Gen); err != nil {
		return err
	}
	settled, _, waiters, err := w.settle(op.Vow, store.VowFulfilled, op.Payload, op.Gen, nsOf(op.At))
	if err != nil {
		return err
	}
	op.Result, op.Waiters = store.CancelAlready, nil
	if settled {
		op.Result, op.Waiters = store.CancelRequested, waiters
	}
	return nil
}
