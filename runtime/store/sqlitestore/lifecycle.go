package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// The writes of an activation's life: creating it with its outcome vow,
// finishing it by settling that vow, and purging it once it is done.

const (
	qInsertAct = `INSERT INTO activations (id, flow, start_key, args, state, outcome, created_gen, gen, created_ns, state_ns, parent)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	qFinish = `UPDATE activations SET state = 4, failure = NULL, gen = ?1, state_ns = ?2, finished_ns = ?2
		WHERE id = ?3 AND state <> 4 RETURNING outcome`
	qDeleteLog = `DELETE FROM entries WHERE act = ?`
	// An outcome vow names its activation (schema 7).
	qInsertOutcome = `INSERT INTO vows (id, kind, state, gen, act) VALUES (?, ?, 0, ?, ?)`
)

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
	_, err = w.exec(qInsertOutcome, a.Outcome[:], int(store.OutcomeVow), a.CreatedGen, a.ID[:])
	return err
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
