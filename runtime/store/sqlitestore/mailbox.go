package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Mailboxes, statuses and lineage: the writes of Send, Receive and Publish,
// and the reads of Mailbox, Status, Statuses and Children.

const (
	qActFlowState   = `SELECT flow, state FROM activations WHERE id = ?`
	qKeyedMessage   = `SELECT payload FROM messages WHERE act = ? AND name = ? AND key = ?`
	qNextSeq        = `UPDATE activations SET sent = sent + 1 WHERE id = ? RETURNING sent`
	qInsertMessage  = `INSERT INTO messages (act, seq, name, key, payload, gen, received) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qFirstReceiver  = `SELECT rowid, vow FROM receivers WHERE act = ? AND name = ? ORDER BY rowid LIMIT 1`
	qDeleteReceiver = `DELETE FROM receivers WHERE rowid = ?`
	qInsertReceiver = `INSERT INTO receivers (act, name, vow) VALUES (?, ?, ?)`
	qFirstMessage   = `SELECT seq, key, payload FROM messages WHERE act = ? AND name = ? AND received = 0 ORDER BY seq LIMIT 1`
	qTakeMessage    = `UPDATE messages SET received = 1 WHERE act = ? AND seq = ?`
	qDropMessage    = `DELETE FROM messages WHERE act = ? AND seq = ?`
	qDropMessages   = `DELETE FROM messages WHERE act = ?`
	qDropReceivers  = `DELETE FROM receivers WHERE act = ?`
	qDropStatuses   = `DELETE FROM statuses WHERE act = ?`
	qPublish        = `INSERT INTO statuses (act, name, payload, gen) VALUES (?, ?, ?, ?)
		ON CONFLICT (act, name) DO UPDATE SET payload = excluded.payload, gen = excluded.gen`
)

func (w *writer) send(op *store.Send) error {
	op.Result, op.Seq, op.Vow, op.Waiters = 0, 0, flow.VowID{}, nil
	var name string
	var state int
	err := w.conn.QueryRowContext(w.ctx, qActFlowState, op.Act[:]).Scan(&name, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		op.Result = store.NoSuchActivation
		return nil
	case err != nil:
		return err
	case op.Flow != "" && name != op.Flow:
		op.Result = store.OtherFlow
		return nil
	case store.State(state) == store.Done:
		op.Result = store.Finished
		return nil
	}
	if op.Key != "" {
		var taken []byte
		err := w.conn.QueryRowContext(w.ctx, qKeyedMessage, op.Act[:], op.Name, op.Key).Scan(&taken)
		switch {
		case err == nil && bytes.Equal(taken, op.Payload):
			op.Result = store.Duplicate
			return nil
		case err == nil:
			op.Result = store.Conflict
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	if err := w.conn.QueryRowContext(w.ctx, qNextSeq, op.Act[:]).Scan(&op.Seq); err != nil {
		return err
	}
	vow, waiters, delivered, err := w.deliver(op.Act, op.Name, op.Payload, op.Gen, nsOf(op.At))
	if err != nil {
		return err
	}
	var key any
	if op.Key != "" {
		key = op.Key
	}
	op.Result = store.Queued
	received := 0
	if delivered {
		op.Result, op.Vow, op.Waiters, received = store.Delivered, vow, waiters, 1
		if op.Key == "" {
			return nil // nothing to remember it by
		}
	}
	_, err = w.exec(qInsertMessage, op.Act[:], op.Seq, op.Name, key, notNil(op.Payload), op.Gen, received)
	return err
}

// deliver hands a message to the earliest receiver of a mailbox, if one
// waits, and returns its vow and that vow's waiters.
func (w *writer) deliver(act flow.ActivationID, name string, payload []byte, gen, at int64) (flow.VowID, []flow.ActivationID, bool, error) {
	for {
		var rowid int64
		var b []byte
		err := w.conn.QueryRowContext(w.ctx, qFirstReceiver, act[:], name).Scan(&rowid, &b)
		if errors.Is(err, sql.ErrNoRows) {
			return flow.VowID{}, nil, false, nil
		}
		if err != nil {
			return flow.VowID{}, nil, false, err
		}
		if _, err := w.exec(qDeleteReceiver, rowid); err != nil {
			return flow.VowID{}, nil, false, err
		}
		vow, err := idFrom(b, "receiver vow")
		if err != nil {
			return flow.VowID{}, nil, false, err
		}
		settled, _, waiters, err := w.settle(vow, store.VowFulfilled, notNil(payload), gen, at)
		if err != nil {
			return flow.VowID{}, nil, false, err
		}
		if settled {
			return vow, waiters, true, nil
		}
		// A receiver whose vow is gone or settled otherwise takes nothing.
	}
}

func (w *writer) receive(op *store.Receive) error {
	op.Delivered, op.Seq = false, 0
	if _, err := w.exec(qInsertVow, op.Vow[:], int(store.ReceiverVow), op.Gen); err != nil {
		return err
	}
	var key sql.NullString
	var payload []byte
	err := w.conn.QueryRowContext(w.ctx, qFirstMessage, op.Act[:], op.Name).Scan(&op.Seq, &key, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		op.Seq = 0
		_, err := w.exec(qInsertReceiver, op.Act[:], op.Name, op.Vow[:])
		return err
	}
	if err != nil {
		return err
	}
	q := qDropMessage
	if key.Valid {
		q = qTakeMessage
	}
	if _, err := w.exec(q, op.Act[:], op.Seq); err != nil {
		return err
	}
	// The vow is new: no one waits for it, so nothing is woken.
	if _, _, _, err := w.settle(op.Vow, store.VowFulfilled, payload, op.Gen, 0); err != nil {
		return err
	}
	op.Delivered = true
	return nil
}

func (w *writer) publish(op *store.Publish) error {
	_, err := w.exec(qPublish, op.Act[:], op.Name, notNil(op.Payload), op.Gen)
	return err
}

// dropMailbox removes an activation's messages and receivers when it is
// done.
func (w *writer) dropMailbox(act flow.ActivationID) error {
	if _, err := w.exec(qDropMessages, act[:]); err != nil {
		return err
	}
	_, err := w.exec(qDropReceivers, act[:])
	return err
}

// Mailbox implements store.Store.
func (s *Store) Mailbox(ctx context.Context, act flow.ActivationID) ([]store.Message, error) {
	var out []store.Message
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT seq, name, key, payload, gen FROM messages WHERE act = ? AND received = 0 ORDER BY seq`, act[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m store.Message
			var key sql.NullString
			if err := rows.Scan(&m.Seq, &m.Name, &key, &m.Payload, &m.Gen); err != nil {
				return scanErr(err)
			}
			m.Key = key.String
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, s.wrap("mailbox", err)
}

// Status implements store.Store.
func (s *Store) Status(ctx context.Context, act flow.ActivationID, name string) (store.Status, error) {
	st := store.Status{Name: name}
	err := s.read(ctx, func(q querier) error {
		return scanErr(q.QueryRowContext(ctx, `SELECT payload, gen FROM statuses WHERE act = ? AND name = ?`, act[:], name).Scan(&st.Payload, &st.Gen))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("sqlitestore: status %q of %s: %w", name, act, store.ErrNotFound)
	}
	return st, s.wrap("status", err)
}

// Statuses implements store.Store.
func (s *Store) Statuses(ctx context.Context, act flow.ActivationID) ([]store.Status, error) {
	var out []store.Status
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT name, payload, gen FROM statuses WHERE act = ? ORDER BY name`, act[:])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st store.Status
			if err := rows.Scan(&st.Name, &st.Payload, &st.Gen); err != nil {
				return scanErr(err)
			}
			out = append(out, st)
		}
		return rows.Err()
	})
	return out, s.wrap("statuses", err)
}

// Children implements store.Store.
func (s *Store) Children(ctx context.Context, parent flow.ActivationID) ([]store.Activation, error) {
	return s.activations(ctx, "children", `SELECT `+actColumns+` FROM activations AS a INDEXED BY activations_parent WHERE a.parent = ? ORDER BY a.id`, parent[:])
}
