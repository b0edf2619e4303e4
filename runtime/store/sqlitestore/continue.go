package sqlitestore

import (
	"database/sql"
	"errors"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

const qContinue = `UPDATE activations SET run_args = ?1, run = run + 1, failure = NULL, gen = ?2,
	state_ns = CASE state WHEN 1 THEN state_ns ELSE ?3 END, state = 1
	WHERE id = ?4 AND state <> 4 RETURNING run`

const qVowPending = `SELECT state = 0 FROM vows WHERE id = ?`

// continueAsNew starts an activation's next run: the row gets the new
// arguments, and the last run's log, waits and waiting receivers go.
func (w *writer) continueAsNew(op *store.Continue) error {
	op.Continued, op.Run, op.Unread = false, 0, -1
	for i, v := range op.Receivers {
		var pending bool
		err := scanErr(w.conn.QueryRowContext(w.ctx, qVowPending, v[:]).Scan(&pending))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && !pending {
			op.Unread = i
			return nil
		}
	}
	var run int
	err := w.conn.QueryRowContext(w.ctx, qContinue, notNil(op.Args), op.Gen, nsOf(op.At), op.Act[:]).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, q := range []string{qDeleteLog, qDeleteWaits, qDropReceivers} {
		if _, err := w.exec(q, op.Act[:]); err != nil {
			return err
		}
	}
	op.Continued, op.Run = true, run
	return nil
}
