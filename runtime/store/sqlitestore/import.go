package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Import writes a new store file at dest from the rows fill gives its
// Loader: how another kind of store (pgstore's Backup) writes a copy of
// itself that the replay gate and the operators' tools read as they read a
// SQLite snapshot. fill runs inside one transaction of a store created for
// it at the current schema; the file is written under a temporary name
// beside dest and named dest only once that transaction has committed and
// the store has closed, so an import cut short leaves no file that looks
// whole. dest must not exist. Rows are written as given: the Loader checks
// only what the schema checks (an id given twice fails the import).
func Import(ctx context.Context, dest string, fill func(*Loader) error) error {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("sqlitestore: import to %s: %w", dest, err)
	}
	fail := func(err error) error { return fmt.Errorf("sqlitestore: import to %s: %w", abs, err) }
	if _, err := os.Lstat(abs); err == nil {
		return fail(fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	tmpf, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".import-")
	if err != nil {
		return fail(err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			_ = os.Remove(tmp + suffix)
		}
	}()
	// The store is made anew: only what Open writes, in a file no one else
	// knows of.
	if err := os.Remove(tmp); err != nil {
		return fail(err)
	}
	s, err := Open(ctx, tmp, Options{})
	if err != nil {
		return fail(err)
	}
	if err := s.Close(ctx); err != nil {
		return fail(err)
	}
	// The rows go in through a connection of the import's own, in one
	// transaction: the store made above has the schema and the mark.
	cfg := &Store{opts: Options{BusyTimeout: 5 * time.Second}}
	db, err := sql.Open("sqlite", "file:"+uriPath(tmp)+"?"+cfg.pragmas(false))
	if err != nil {
		return fail(err)
	}
	db.SetMaxOpenConns(1)
	err = load(ctx, db, fill)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	// Named once whole, never over a file that appeared meanwhile.
	if err := os.Link(tmp, abs); err != nil {
		return fail(err)
	}
	return nil
}

func load(ctx context.Context, db *sql.DB, fill func(*Loader) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	l := &Loader{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
	err = fill(l)
	if err == nil {
		// Outcome vows name their activations, whatever order they came in.
		err = l.exec(`UPDATE vows SET act = a.id FROM activations AS a WHERE a.outcome = vows.id AND vows.kind = 1`)
	}
	l.close()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Loader writes the rows of a store being imported; see Import. Its
// methods may be called in any order, except that an activation's receivers
// are kept in the order they are given (the first given is the first a
// message goes to).
type Loader struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (l *Loader) exec(query string, args ...any) error {
	st, ok := l.stmts[query]
	if !ok {
		var err error
		if st, err = l.tx.PrepareContext(l.ctx, query); err != nil {
			return err
		}
		l.stmts[query] = st
	}
	_, err := st.ExecContext(l.ctx, args...)
	return err
}

func (l *Loader) close() {
	for _, st := range l.stmts {
		_ = st.Close()
	}
}

// Incarnation writes an incarnation, with its generation.
func (l *Loader) Incarnation(inc store.Incarnation) error {
	err := l.exec(`INSERT INTO incarnations (gen, build, started_ns, pid) VALUES (?, ?, ?, ?)`,
		inc.Gen, inc.Build, inc.Started.UnixNano(), inc.PID)
	return wrapRow(err, "incarnation %d", inc.Gen)
}

// Activation writes an activation's row as stored (its Changed and LastGen
// are derived, and ignored); sent is how many messages were sent to it.
func (l *Loader) Activation(a store.Activation, sent int64) error {
	var key, failure, finished, parent any
	if a.StartKey != "" {
		key = a.StartKey
	}
	if a.Failure != nil {
		failure = a.Failure
	}
	if !a.Finished.IsZero() {
		finished = nsOf(a.Finished)
	}
	if !a.Parent.IsZero() {
		parent = a.Parent[:]
	}
	var runArgs any
	if a.RunArgs != nil {
		runArgs = a.RunArgs
	}
	err := l.exec(`INSERT INTO activations (id, flow, start_key, args, state, outcome, created_gen, gen, failure,
			created_ns, state_ns, finished_ns, parent, sent, run, run_args) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID[:], a.Flow, key, notNil(a.Args), int(a.State), a.Outcome[:], a.CreatedGen, a.Gen, failure,
		nsOf(a.Created), nsOf(a.StateSince), finished, parent, sent, a.Run, runArgs)
	return wrapRow(err, "activation %s", a.ID)
}

// Entry writes one entry of an activation's log.
func (l *Loader) Entry(act flow.ActivationID, e store.Entry) error {
	err := l.exec(qInsertEntry, act[:], e.Step, e.Kind, e.Gen, nsOf(e.At), notNil(e.Payload))
	return wrapRow(err, "entry %d of %s", e.Step, act)
}

// Vow writes a vow.
func (l *Loader) Vow(v store.Vow) error {
	err := l.exec(`INSERT INTO vows (id, kind, state, payload, gen) VALUES (?, ?, ?, ?, ?)`,
		v.ID[:], int(v.Kind), int(v.State), v.Payload, v.Gen)
	return wrapRow(err, "vow %s", v.ID)
}

// Wait writes that an activation waits for a vow.
func (l *Loader) Wait(act flow.ActivationID, vow flow.VowID) error {
	err := l.exec(`INSERT INTO waits (vow, act) VALUES (?, ?)`, vow[:], act[:])
	return wrapRow(err, "wait of %s for %s", act, vow)
}

// Timer writes a timer not yet fired: its vow and its deadline.
func (l *Loader) Timer(vow flow.VowID, deadline time.Time) error {
	err := l.exec(qInsertTimer, deadline.UnixNano(), vow[:])
	return wrapRow(err, "timer %s", vow)
}

// Message writes a message sent to an activation, taken by a receiver or
// not.
func (l *Loader) Message(act flow.ActivationID, m store.Message, received bool) error {
	var key any
	if m.Key != "" {
		key = m.Key
	}
	err := l.exec(qInsertMessage, act[:], m.Seq, m.Name, key, notNil(m.Payload), m.Gen, received)
	return wrapRow(err, "message %d to %s", m.Seq, act)
}

// Receiver writes a receiver waiting in an activation's mailbox name.
func (l *Loader) Receiver(act flow.ActivationID, name string, vow flow.VowID) error {
	err := l.exec(qInsertReceiver, act[:], name, vow[:])
	return wrapRow(err, "receiver %s of %s", vow, act)
}

// Status writes what an activation published under a name.
func (l *Loader) Status(act flow.ActivationID, st store.Status) error {
	err := l.exec(`INSERT INTO statuses (act, name, payload, gen) VALUES (?, ?, ?, ?)`, act[:], st.Name, notNil(st.Payload), st.Gen)
	return wrapRow(err, "status %q of %s", st.Name, act)
}

func wrapRow(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
