package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// writer owns the write connection and its prepared statements. It runs
// each batch in one transaction and hands each op to the code that writes
// it: here the simple ones, in lifecycle.go an activation's creation, finish
// and purge, in vowwrites.go vows, waits and timers, in mailbox.go messages
// and statuses.
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
				return fmt.Errorf("sqlitestore: %s %s: %w", store.OpName(op), w.s.path, err)
			}
			if err := w.apply(op); err != nil {
				return w.s.wrap(store.OpName(op), err)
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
	case *store.Continue:
		values = [][]byte{op.Args}
	case *store.RequestCancel:
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
	qInsertVow   = `INSERT INTO vows (id, kind, state, gen) VALUES (?, ?, 0, ?)`
	qInsertTimer = `INSERT INTO timers (deadline, vow) VALUES (?, ?)`
	qSetState    = `UPDATE activations SET state_ns = CASE state WHEN ?1 THEN state_ns ELSE ?2 END,
		state = ?1, failure = ?3, gen = ?4 WHERE id = ?5`
	qNewInc = `INSERT INTO incarnations (build, started_ns, pid) VALUES (?, ?, ?) RETURNING gen`
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
	case *store.Continue:
		return w.continueAsNew(op)
	case *store.EnsureVow:
		return w.ensureVow(op)
	case *store.RequestCancel:
		return w.requestCancel(op)
	}
	return fmt.Errorf("unknown op %T", op)
}

// notNil gives SQLite an empty blob rather than NULL for a nil slice.
func notNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
