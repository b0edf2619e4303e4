package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// What the replay gate and the operators' tools need beyond store.Store:
// counts in one read, many logs in one read, and a snapshot they can replay.

var (
	_ store.Censuser  = (*Store)(nil)
	_ store.LogReader = (*Store)(nil)
	_ store.Backuper  = (*Store)(nil)
)

// Census implements store.Censuser.
func (s *Store) Census(ctx context.Context) ([]store.FlowCount, error) {
	var out []store.FlowCount
	err := s.read(ctx, func() error {
		out = nil
		rows, err := s.pool.Query(ctx, `SELECT flow, state, count(*) FROM activations WHERE state IN (1, 2, 3) GROUP BY flow, state ORDER BY flow, state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.FlowCount
			var state int16
			var n int64
			if err := rows.Scan(&c.Flow, &state, &n); err != nil {
				return err
			}
			c.State, c.Count = store.State(state), int(n)
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, s.wrap("census", err)
}

// Logs implements store.LogReader: one query for all of ids.
func (s *Store) Logs(ctx context.Context, ids []flow.ActivationID, fn func(flow.ActivationID, []store.Entry, error)) error {
	if len(ids) == 0 {
		return nil
	}
	raw := make([][]byte, len(ids))
	for i := range ids {
		raw[i] = ids[i][:]
	}
	var set *store.LogSet
	err := s.read(ctx, func() error {
		set = store.NewLogSet("pgstore: log "+s.name, len(ids))
		rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM entries WHERE act = ANY ($1) ORDER BY act, step`, raw)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			id, e, err := scanEntry(rows)
			if err != nil {
				return err // ids given are 16 bytes: only such rows match
			}
			set.Add(id, e)
		}
		return rows.Err()
	})
	if err != nil {
		return s.wrap("logs", err)
	}
	set.Each(ids, fn)
	return nil
}

// Backup implements store.Backuper: it writes the store, as one snapshot of
// the database, to dest as a SQLite store file — the file the replay gate
// (verify.ReplayFile, flowtest.ReplayStore) and the operators' tools read,
// and a store a runtime can open. The snapshot is one REPEATABLE READ,
// READ ONLY transaction: it holds every submission released before Backup
// began and none released after, and writes go on meanwhile. The copy holds
// every activation, done or not, with its log, vows, waits, timers,
// mailboxes and statuses, and every incarnation. What only several
// processes need is left out: which process owns what, and the failures
// recorded per build (a failed activation keeps its state and diagnostic).
// A row the store cannot read back is reported through the logger and left
// out, as a listing leaves it out. dest must not exist; it appears only
// once the copy is whole.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if err := s.reading(ctx); err != nil {
		return s.wrap("backup", err)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("pgstore: backup %s to %s: %w", s.name, dest, err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("pgstore: backup %s to %s: %w", s.name, abs, fs.ErrExist)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.wrap("backup", err)
	}
	defer tx.Rollback(context.Background())
	skipped := 0
	err = sqlitestore.Import(ctx, abs, func(l *sqlitestore.Loader) error {
		c := &copier{s: s, tx: tx, l: l}
		err := c.all(ctx)
		skipped = c.skipped
		return err
	})
	if err != nil {
		return s.wrap("backup", err)
	}
	if skipped > 0 {
		s.log.Warn("asyncflow store: the backup leaves out rows the store cannot read back", "store", s.name, "dest", abs, "rows", skipped)
	}
	return nil
}

// copier copies the rows of one snapshot into a Loader.
type copier struct {
	s       *Store
	tx      pgx.Tx
	l       *sqlitestore.Loader
	skipped int
}

// damaged reports a row that cannot be read back, and leaves it out.
func (c *copier) damaged(table string, err error) {
	c.skipped++
	c.s.log.Error("asyncflow store: a damaged row is left out of the backup", "store", c.s.name, "table", table, "err", err)
}

// each runs query in the snapshot and calls fn with each row; fn returns
// an error of the row itself (ErrCorrupt: the row is left out) or of the
// copy.
func (c *copier) each(ctx context.Context, table, query string, fn func(pgx.Rows) error) error {
	rows, err := c.tx.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			if errors.Is(err, store.ErrCorrupt) {
				c.damaged(table, err)
				continue
			}
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	return nil
}

func (c *copier) all(ctx context.Context) error {
	if _, _, err := c.s.identity(ctx, c.tx); err != nil {
		return err
	}
	steps := []struct {
		table, query string
		row          func(pgx.Rows) error
	}{
		{"incarnations", `SELECT gen, build, started_ns, pid FROM incarnations ORDER BY gen`, func(r pgx.Rows) error {
			var inc store.Incarnation
			var started int64
			var pid int32
			if err := r.Scan(&inc.Gen, &inc.Build, &started, &pid); err != nil {
				return err
			}
			inc.Started, inc.PID = unixNano(started), int(pid)
			return c.l.Incarnation(inc)
		}},
		{"activations", `SELECT ` + actColumns + `, a.sent FROM activations a ORDER BY a.id`, func(r pgx.Rows) error {
			var sent int64
			a, err := scanActivation(rowWith{r, &sent})
			if err != nil {
				return err
			}
			return c.l.Activation(a, sent)
		}},
		{"entries", `SELECT ` + entryColumns + ` FROM entries ORDER BY act, step`, func(r pgx.Rows) error {
			act, e, err := scanEntry(r)
			if err != nil {
				return err
			}
			return c.l.Entry(act, e)
		}},
		{"vows", `SELECT id, kind, state, payload, gen FROM vows ORDER BY id`, func(r pgx.Rows) error {
			var b []byte
			var v store.Vow
			var kind, state int16
			if err := r.Scan(&b, &kind, &state, &v.Payload, &v.Gen); err != nil {
				return err
			}
			var err error
			if v.ID, err = idFrom(b, "vow"); err != nil {
				return err
			}
			v.Kind, v.State = store.VowKind(kind), store.VowState(state)
			return c.l.Vow(v)
		}},
		{"waits", `SELECT act, vow FROM waits ORDER BY act, vow`, func(r pgx.Rows) error {
			act, vow, err := scanPair(r, "activation", "vow")
			if err != nil {
				return err
			}
			return c.l.Wait(act, vow)
		}},
		{"timers", `SELECT vow, deadline FROM timers ORDER BY deadline, vow`, func(r pgx.Rows) error {
			var b []byte
			var deadline int64
			if err := r.Scan(&b, &deadline); err != nil {
				return err
			}
			vow, err := idFrom(b, "vow")
			if err != nil {
				return err
			}
			return c.l.Timer(vow, unixNano(deadline))
		}},
		{"messages", `SELECT act, seq, name, key, payload, gen, received FROM messages ORDER BY act, seq`, func(r pgx.Rows) error {
			var b []byte
			var m store.Message
			var key *string
			var received bool
			if err := r.Scan(&b, &m.Seq, &m.Name, &key, &m.Payload, &m.Gen, &received); err != nil {
				return err
			}
			act, err := idFrom(b, "activation")
			if err != nil {
				return err
			}
			if key != nil {
				m.Key = *key
			}
			return c.l.Message(act, m, received)
		}},
		{"receivers", `SELECT act, vow, name FROM receivers ORDER BY ord`, func(r pgx.Rows) error {
			var name string
			act, vow, err := scanPair(r, "activation", "vow", &name)
			if err != nil {
				return err
			}
			return c.l.Receiver(act, name, vow)
		}},
		{"statuses", `SELECT act, name, payload, gen FROM statuses ORDER BY act, name`, func(r pgx.Rows) error {
			var b []byte
			var st store.Status
			if err := r.Scan(&b, &st.Name, &st.Payload, &st.Gen); err != nil {
				return err
			}
			act, err := idFrom(b, "activation")
			if err != nil {
				return err
			}
			return c.l.Status(act, st)
		}},
	}
	for _, step := range steps {
		if err := c.each(ctx, step.table, step.query, step.row); err != nil {
			return err
		}
	}
	return nil
}

// entryColumns are the columns of an entry row that scanEntry reads.
const entryColumns = `act, step, kind, gen, at_ns, payload`

// scanEntry reads an entry row of entryColumns.
func scanEntry(r pgx.Rows) (flow.ActivationID, store.Entry, error) {
	var b []byte
	var e store.Entry
	var kind int32
	var at int64
	if err := r.Scan(&b, &e.Step, &kind, &e.Gen, &at, &e.Payload); err != nil {
		return flow.ActivationID{}, e, err
	}
	act, err := idFrom(b, "activation")
	if err != nil {
		return act, e, err
	}
	e.Kind, e.At = int(kind), timeOf(at)
	return act, e, nil
}

// scanPair scans an activation id, a vow id and then more.
func scanPair(r pgx.Rows, first, second string, more ...any) (flow.ActivationID, flow.VowID, error) {
	var a, v []byte
	if err := r.Scan(append([]any{&a, &v}, more...)...); err != nil {
		return flow.ActivationID{}, flow.VowID{}, err
	}
	act, err := idFrom(a, first)
	if err != nil {
		return act, flow.VowID{}, err
	}
	vow, err := idFrom(v, second)
	return act, vow, err
}

// rowWith scans a row of actColumns followed by more columns.
type rowWith struct {
	r    pgx.Row
	more *int64
}

func (w rowWith) Scan(dest ...any) error { return w.r.Scan(append(dest, w.more)...) }
