package pgstore_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// population writes activations in every state, with logs, waits, timers,
// children, mailboxes (messages taken and not, receivers waiting) and
// statuses, in two incarnations. It returns the activations and the vows
// made besides their outcomes.
func population(t *testing.T, s store.Store) ([]flow.ActivationID, []flow.VowID) {
	t.Helper()
	ctx := t.Context()
	g1, err := s.BeginIncarnation(ctx, "b1", 100)
	require.NoError(t, err)
	g2, err := s.BeginIncarnation(ctx, "b2", 200)
	require.NoError(t, err)
	base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	apply := func(ops ...store.Op) {
		t.Helper()
		require.NoError(t, store.Apply(ctx, s, ops...))
	}
	var acts []flow.ActivationID
	var vows []flow.VowID
	create := func(key string, parent flow.ActivationID, gen int64, at time.Time) flow.ActivationID {
		id := flow.NewActivationID()
		apply(&store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", StartKey: key, Args: []byte{8, byte(len(acts))},
			Outcome: flow.NewVowID(), CreatedGen: gen, Created: at, Parent: parent}})
		acts = append(acts, id)
		return id
	}
	logOf := func(id flow.ActivationID, n int, gen int64, at time.Time) {
		for i := range n {
			apply(&store.Append{Act: id, Entry: store.Entry{Step: int64(i), Kind: 1 + i%3, Gen: gen, At: at.Add(time.Duration(i) * time.Millisecond), Payload: []byte("entry " + strconv.Itoa(i))}})
		}
	}

	running := create("order-1", flow.ActivationID{}, g1, base)
	logOf(running, 3, g1, base)
	apply(&store.Publish{Act: running, Name: "stage", Payload: []byte("packing"), Gen: g1})
	apply(&store.Publish{Act: running, Name: "eta", Payload: []byte("monday"), Gen: g2})

	child := create("", running, g1, base.Add(time.Second))
	logOf(child, 2, g1, base.Add(time.Second))
	host := flow.NewVowID()
	apply(&store.CreateVow{ID: host, Gen: g1})
	timer := flow.NewVowID()
	apply(&store.CreateVow{ID: timer, Kind: store.TimerVow, Gen: g1, Deadline: base.Add(48 * time.Hour)})
	apply(&store.Watch{Act: child, Vows: []flow.VowID{host, timer}, Suspend: true, Gen: g2, At: base.Add(2 * time.Second)})
	vows = append(vows, host, timer)

	mail := create("mail-1", flow.ActivationID{}, g2, base.Add(3*time.Second))
	for i, key := range []string{"k1", "", "k3"} {
		apply(&store.Send{Act: mail, Name: "shipped", Key: key, Payload: []byte("msg " + strconv.Itoa(i)), Gen: g2, At: base})
	}
	taken := flow.NewVowID()
	apply(&store.Receive{Act: mail, Name: "shipped", Vow: taken, Gen: g2}) // takes the first
	r1, r2 := flow.NewVowID(), flow.NewVowID()
	apply(&store.Receive{Act: mail, Name: "cancel", Vow: r1, Gen: g2}) // waits, first in line
	apply(&store.Receive{Act: mail, Name: "cancel", Vow: r2, Gen: g2})
	vows = append(vows, taken, r1, r2)

	failed := create("", flow.ActivationID{}, g1, base.Add(4*time.Second))
	logOf(failed, 1, g1, base.Add(4*time.Second))
	apply(&store.SetState{Act: failed, State: store.Failed, Failure: []byte(`{"problem":"other-call"}`), Gen: g2, At: base.Add(5 * time.Second)})

	done := create("order-2", flow.ActivationID{}, g1, base.Add(6*time.Second))
	logOf(done, 2, g1, base.Add(6*time.Second))
	apply(&store.Finish{Act: done, State: store.VowFulfilled, Payload: []byte("ok"), Gen: g2, At: base.Add(7 * time.Second), KeepLog: true})
	doneNoLog := create("", flow.ActivationID{}, g2, base.Add(8*time.Second))
	apply(&store.Finish{Act: doneNoLog, State: store.VowRejected, Payload: []byte("no"), Gen: g2, At: base.Add(9 * time.Second)})

	settled := flow.NewVowID()
	apply(&store.CreateVow{ID: settled, Gen: g1}, &store.SettleVow{ID: settled, State: store.VowFulfilled, Payload: []byte("yes"), Gen: g2})
	vows = append(vows, settled)

	// A second run (continue-as-new), asked to cancel.
	again := create("loop-1", flow.ActivationID{}, g1, base.Add(10*time.Second))
	logOf(again, 2, g1, base.Add(10*time.Second))
	cont := &store.Continue{Act: again, Args: []byte{8, 42}, Gen: g2, At: base.Add(11 * time.Second)}
	apply(cont)
	require.True(t, cont.Continued)
	logOf(again, 1, g2, base.Add(12*time.Second))
	cancel := flow.NewVowID()
	rc := &store.RequestCancel{Act: again, Vow: cancel, Payload: []byte("stop"), Gen: g2, At: base.Add(13 * time.Second)}
	apply(rc)
	vows = append(vows, cancel)
	return acts, vows
}

// contents renders everything a store reads back about acts and vows,
// through store.Store: what two stores must agree on to be copies.
func contents(t *testing.T, s store.Store, acts []flow.ActivationID, vows []flow.VowID) []string {
	t.Helper()
	ctx := t.Context()
	ns := func(x time.Time) int64 {
		if x.IsZero() {
			return 0
		}
		return x.UnixNano()
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	list, err := s.Activations(ctx, store.Filter{Limit: 100})
	require.NoError(t, err)
	for _, a := range list {
		add("listed %s", a.ID)
	}
	gens := map[int64]bool{}
	for _, id := range acts {
		a, err := s.Activation(ctx, id)
		require.NoError(t, err)
		gens[a.CreatedGen], gens[a.Gen] = true, true
		add("activation %s flow=%s key=%q args=%x state=%s outcome=%s gens=%d/%d/%d failure=%q parent=%s times=%d/%d/%d/%d run=%d %x",
			a.ID, a.Flow, a.StartKey, a.Args, a.State, a.Outcome, a.CreatedGen, a.Gen, a.LastGen, a.Failure, a.Parent,
			ns(a.Created), ns(a.StateSince), ns(a.Finished), ns(a.Changed), a.Run, a.RunArgs)
		log, err := s.Log(ctx, id)
		require.NoError(t, err)
		for _, e := range log {
			add("  entry %d kind=%d gen=%d at=%d %x", e.Step, e.Kind, e.Gen, ns(e.At), e.Payload)
		}
		waits, err := s.Waits(ctx, id)
		require.NoError(t, err)
		add("  waits %v", waits)
		mail, err := s.Mailbox(ctx, id)
		require.NoError(t, err)
		for _, m := range mail {
			add("  message %d %s key=%q %x gen=%d", m.Seq, m.Name, m.Key, m.Payload, m.Gen)
		}
		sts, err := s.Statuses(ctx, id)
		require.NoError(t, err)
		for _, st := range sts {
			add("  status %s %x gen=%d", st.Name, st.Payload, st.Gen)
		}
		kids, err := s.Children(ctx, id)
		require.NoError(t, err)
		for _, k := range kids {
			add("  child %s", k.ID)
		}
		if a.StartKey != "" {
			byKey, err := s.ActivationsByKey(ctx, a.StartKey)
			require.NoError(t, err)
			add("  by key %d", len(byKey))
		}
		vows = append(vows, a.Outcome)
	}
	for _, id := range vows {
		v, err := s.Vow(ctx, id)
		require.NoError(t, err)
		add("vow %s kind=%s state=%s payload=%s gen=%d", v.ID, v.Kind, v.State, hex.EncodeToString(v.Payload), v.Gen)
	}
	for gen := range int64(len(gens) + 2) {
		inc, err := s.Incarnation(ctx, gen)
		if err == nil {
			add("incarnation %d build=%s pid=%d started=%d", inc.Gen, inc.Build, inc.PID, inc.Started.UnixNano())
		}
	}
	deadline, ok, err := s.NextDeadline(ctx)
	require.NoError(t, err)
	add("next deadline %v %d", ok, ns(deadline))
	census, err := s.(store.Censuser).Census(ctx)
	require.NoError(t, err)
	add("census %v", census)
	return out
}

// TestBackupCopiesEverything backs a store up and reads the copy, a SQLite
// store, as the original reads: every activation, log, wait, timer,
// message, receiver, status and incarnation. The copy is a store that runs
// on: a message sent to it goes to the receiver that waited first, with the
// next place in the mailbox.
func TestBackupCopiesEverything(t *testing.T) {
	ctx := t.Context()
	s := open(t, pgtest.DB(t), pgstore.Options{})
	acts, vows := population(t, s)
	dest := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, s.Backup(ctx, dest))
	err := s.Backup(ctx, dest)
	assert.ErrorIs(t, err, fs.ErrExist, "never over a file")
	onePrefix(t, err)

	c, err := sqlitestore.OpenReadOnly(ctx, dest, sqlitestore.Options{})
	require.NoError(t, err)
	assert.Equal(t, contents(t, s, acts, vows), contents(t, c, acts, vows))
	assert.NoError(t, c.Check(ctx))
	var logs int
	require.NoError(t, c.Logs(ctx, acts, func(id flow.ActivationID, log []store.Entry, err error) {
		assert.NoError(t, err)
		logs += len(log)
	}))
	assert.Equal(t, 3+2+1+2+1, logs)
	require.NoError(t, c.Close(ctx))

	w, err := sqlitestore.Open(ctx, dest, sqlitestore.Options{})
	require.NoError(t, err)
	defer w.Close(context.Background())
	mail := acts[2]
	send := &store.Send{Act: mail, Name: "cancel", Payload: []byte("now"), Gen: 3}
	require.NoError(t, store.Apply(ctx, w, send))
	assert.Equal(t, store.Delivered, send.Result)
	assert.Equal(t, vows[3], send.Vow, "the receiver that waited first")
	assert.Equal(t, int64(4), send.Seq, "after the three sent before")
}

// TestBackupIsOneSnapshot backs a store up while submissions go on, each of
// which appends to a log and publishes the step it appended: in the copy
// the two agree, though the copy reads logs and statuses apart.
func TestBackupIsOneSnapshot(t *testing.T) {
	ctx := t.Context()
	s := open(t, pgtest.DB(t), pgstore.Options{})
	acts := make([]flow.ActivationID, 8)
	for i := range acts {
		acts[i] = flow.NewActivationID()
		require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: acts[i], Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}))
	}
	var stop atomic.Bool
	var steps [8]atomic.Int64
	var wg sync.WaitGroup
	for i, id := range acts {
		wg.Go(func() {
			for step := int64(0); !stop.Load(); step++ {
				err := store.Apply(context.Background(), s,
					&store.Append{Act: id, Entry: store.Entry{Step: step, Kind: 1, Gen: 1, Payload: make([]byte, 512)}},
					&store.Publish{Act: id, Name: "step", Payload: []byte(strconv.FormatInt(step, 10)), Gen: 1})
				if !assert.NoError(t, err) {
					return
				}
				steps[i].Store(step + 1)
			}
		})
	}
	for steps[0].Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	err := s.Backup(ctx, dest)
	stop.Store(true)
	wg.Wait()
	require.NoError(t, err)

	c, err := sqlitestore.OpenReadOnly(ctx, dest, sqlitestore.Options{})
	require.NoError(t, err)
	defer c.Close(context.Background())
	behind := 0
	for i, id := range acts {
		log, err := c.Log(ctx, id)
		require.NoError(t, err)
		require.NotEmpty(t, log)
		st, err := c.Status(ctx, id, "step")
		require.NoError(t, err)
		assert.Equal(t, strconv.Itoa(len(log)-1), string(st.Payload), "the status published with the last entry copied")
		if int64(len(log)) < steps[i].Load() {
			behind++
		}
	}
	t.Logf("%d of %d logs grew after the snapshot", behind, len(acts))
}

// TestBackupCopiesEveryColumn holds the columns Backup copies, and those it
// leaves out, against the columns of both schemas: a column added to either
// store fails it until the copy takes it (backup.go, and the Loader of
// sqlitestore's Import) or it is listed as left out.
func TestBackupCopiesEveryColumn(t *testing.T) {
	copied := map[string][]string{
		"incarnations": {"gen", "build", "started_ns", "pid"},
		"activations": {"id", "flow", "start_key", "args", "state", "outcome", "created_gen", "gen", "failure",
			"created_ns", "state_ns", "finished_ns", "parent", "sent", "run", "run_args"},
		"entries":   {"act", "step", "kind", "gen", "at_ns", "payload"},
		"vows":      {"id", "kind", "state", "payload", "gen"},
		"waits":     {"vow", "act"},
		"timers":    {"deadline", "vow"},
		"messages":  {"act", "seq", "name", "key", "payload", "gen", "received"},
		"receivers": {"act", "name", "vow"},
		"statuses":  {"act", "name", "payload", "gen"},
	}
	// What only several processes need, the mark each store writes itself,
	// and the order of receivers (copied as the order of their rows).
	leftOut := map[string]bool{"activations.owner": true, "activations.owner_epoch": true, "receivers.ord": true,
		"members.*": true, "failures.*": true, "store_meta.*": true}
	// What SQLite's Import fills in itself from the rows it is given.
	derived := map[string]bool{"vows.act": true}
	known := func(table, column string) bool {
		if leftOut[table+".*"] || leftOut[table+"."+column] {
			return true
		}
		for _, c := range copied[table] {
			if c == column {
				return true
			}
		}
		return false
	}
	ctx := t.Context()
	url := pgtest.DB(t)
	s := open(t, url, pgstore.Options{})
	conn := connect(t, url)
	rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'asyncflow' ORDER BY 1, 2`)
	require.NoError(t, err)
	pgCols := map[string]bool{}
	for rows.Next() {
		var table, column string
		require.NoError(t, rows.Scan(&table, &column))
		pgCols[table+"."+column] = true
		assert.True(t, known(table, column), "PostgreSQL column %s.%s: Backup neither copies it nor leaves it out", table, column)
	}
	require.NoError(t, rows.Err())

	dest := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, s.Backup(ctx, dest))
	db, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	tables, err := db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1, 2`)
	require.NoError(t, err)
	defer tables.Close()
	for tables.Next() {
		var table, column string
		require.NoError(t, tables.Scan(&table, &column))
		if leftOut[table+".*"] {
			continue
		}
		if derived[table+"."+column] {
			continue
		}
		assert.True(t, known(table, column), "SQLite column %s.%s: Backup does not fill it", table, column)
		assert.True(t, pgCols[table+"."+column], "SQLite column %s.%s has no PostgreSQL column to copy", table, column)
	}
	require.NoError(t, tables.Err())
}
