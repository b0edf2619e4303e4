// Package sharedtest is the host side of the tests in which several real
// processes share one PostgreSQL store: a host interface whose effects land
// in the database exactly once per idempotency key, vows answered by whichever
// process gets to them, and Main, the body of the programs v1 and v2 (two
// builds of one flow) that the tests start, kill, stop and start again.
package sharedtest

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
)

// Ledger is what the flows ask of the world.
//
//flowgen:host
type Ledger interface {
	// Apply makes one effect on an account: the first execution of a key
	// draws a receipt and records it; every later one returns it. prev is
	// what the flow learned before, so a call made again with another prev
	// shows a result that reached the world before it was durable.
	Apply(ctx context.Context, account string, step int, prev int64) (int64, error)
	// Ask returns a vow some process answers later with Answer.
	Ask(ctx context.Context, account string, round int) (flow.Vow[int64], error)
	// Note is the call v2 makes and v1 does not.
	Note(ctx context.Context, account string, round int) error
}

// Answer is the value the vow of an account's round is resolved with.
func Answer(account string, round int) int64 {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", account, round))
	return int64(binary.BigEndian.Uint64(h[:]) >> 1)
}

// Account is the account of flow number i.
func Account(i int) string { return fmt.Sprintf("acct-%03d", i) }

// Schema is the host's own tables, beside the store's, and the audit that
// records who wrote each log entry: made by Setup.
const Schema = `
CREATE SCHEMA testhost;
-- Every execution of Apply, and the effect each key made once.
CREATE TABLE testhost.attempts (key text NOT NULL, account text NOT NULL, step int NOT NULL, prev bigint NOT NULL,
	pid int NOT NULL, build text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE testhost.effects (key text PRIMARY KEY, account text NOT NULL, step int NOT NULL, prev bigint NOT NULL,
	receipt bigint NOT NULL, build text NOT NULL);
CREATE TABLE testhost.notes (key text PRIMARY KEY, account text NOT NULL, round int NOT NULL);
-- The vows Ask made, one per key; release makes one answerable now.
CREATE TABLE testhost.asks (key text PRIMARY KEY, vow bytea NOT NULL, account text NOT NULL, round int NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(), release boolean NOT NULL DEFAULT false,
	answered boolean NOT NULL DEFAULT false);
-- Who appended each log entry, as the appending transaction saw it, and
-- when a member's epoch moved (it was fenced).
CREATE TABLE testhost.audit_entries (act bytea NOT NULL, step bigint NOT NULL, writer text NOT NULL, writer_epoch bigint,
	owner bigint, owner_epoch bigint, xid xid8 NOT NULL);
CREATE TABLE testhost.audit_fences (member bigint NOT NULL, old_epoch bigint NOT NULL, new_epoch bigint NOT NULL, xid xid8 NOT NULL);
CREATE FUNCTION testhost.audit_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO testhost.audit_entries
		SELECT NEW.act, NEW.step, current_setting('application_name'),
			(SELECT m.epoch FROM asyncflow.members m WHERE 'asyncflow member ' || m.id = current_setting('application_name')),
			a.owner, a.owner_epoch, pg_current_xact_id()
		FROM asyncflow.activations a WHERE a.id = NEW.act;
	RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER INSERT ON asyncflow.entries FOR EACH ROW EXECUTE FUNCTION testhost.audit_entry();
CREATE FUNCTION testhost.audit_fence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.epoch <> OLD.epoch THEN
		INSERT INTO testhost.audit_fences VALUES (NEW.id, OLD.epoch, NEW.epoch, pg_current_xact_id());
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER UPDATE OF epoch ON asyncflow.members FOR EACH ROW EXECUTE FUNCTION testhost.audit_fence();
`

// Setup makes the store in the database at url, and the host's tables.
func Setup(ctx context.Context, url string) error {
	st, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		return err
	}
	if err := st.Close(ctx); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, Schema)
	return err
}

// Host implements Ledger on the database.
type Host struct {
	db    *pgxpool.Pool
	rt    *runtime.Runtime
	build string
}

// Apply implements Ledger.
func (h *Host) Apply(ctx context.Context, account string, step int, prev int64) (int64, error) {
	key := flow.IdempotencyKey(ctx)
	if _, err := h.db.Exec(ctx, `INSERT INTO testhost.attempts (key, account, step, prev, pid, build) VALUES ($1, $2, $3, $4, $5, $6)`,
		key, account, step, prev, os.Getpid(), h.build); err != nil {
		return 0, err
	}
	var receipt int64
	err := h.db.QueryRow(ctx, `WITH ins AS (
			INSERT INTO testhost.effects (key, account, step, prev, receipt, build) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (key) DO NOTHING RETURNING receipt)
		SELECT receipt FROM ins UNION ALL SELECT receipt FROM testhost.effects WHERE key = $1 LIMIT 1`,
		key, account, step, prev, rand.Int64N(1<<40), h.build).Scan(&receipt)
	return receipt, err
}

// Ask implements Ledger.
func (h *Host) Ask(ctx context.Context, account string, round int) (flow.Vow[int64], error) {
	key := flow.IdempotencyKey(ctx)
	var b []byte
	err := h.db.QueryRow(ctx, `SELECT vow FROM testhost.asks WHERE key = $1`, key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		var v flow.Vow[int64]
		if v, err = runtime.NewVow[int64](ctx, h.rt); err != nil {
			return v, err
		}
		id := v.ID()
		err = h.db.QueryRow(ctx, `WITH ins AS (
				INSERT INTO testhost.asks (key, vow, account, round) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING vow)
			SELECT vow FROM ins UNION ALL SELECT vow FROM testhost.asks WHERE key = $1 LIMIT 1`, key, id[:], account, round).Scan(&b)
	}
	if err != nil {
		return flow.Vow[int64]{}, err
	}
	var id flow.VowID
	copy(id[:], b)
	return flow.VowOf[int64](id), nil
}

// Note implements Ledger.
func (h *Host) Note(ctx context.Context, account string, round int) error {
	_, err := h.db.Exec(ctx, `INSERT INTO testhost.notes (key, account, round) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		flow.IdempotencyKey(ctx), account, round)
	return err
}

// answer resolves the vows that are due: released, or, when after is set,
// asked between after/2 and 3·after/2 ago (each its own delay). Any process
// may; each vow is answered once.
func (h *Host) answer(ctx context.Context, after time.Duration) error {
	tx, err := h.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	rows, err := tx.Query(ctx, `SELECT key, vow, account, round FROM testhost.asks
		WHERE NOT answered AND (release OR ($1 > 0 AND created_at < clock_timestamp() - $1 * (0.5 + (hashtext(key) & 1023) / 1024.0) * interval '1 millisecond'))
		ORDER BY created_at LIMIT 50 FOR UPDATE SKIP LOCKED`, after.Milliseconds())
	if err != nil {
		return err
	}
	type ask struct {
		key     string
		vow     flow.VowID
		account string
		round   int
	}
	var asks []ask
	for rows.Next() {
		var a ask
		var b []byte
		if err := rows.Scan(&a.key, &b, &a.account, &a.round); err != nil {
			rows.Close()
			return err
		}
		copy(a.vow[:], b)
		asks = append(asks, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, a := range asks {
		err := runtime.Resolve(ctx, h.rt, flow.VowOf[int64](a.vow), Answer(a.account, a.round))
		if err != nil && !errors.Is(err, runtime.ErrAlreadySettled) {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE testhost.asks SET answered = true WHERE key = $1`, a.key); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// Starter starts the flow of a build: the handle flowgen generates.
type Starter interface {
	StartWithID(ctx context.Context, id string, l Ledger, account string, rounds int) (flow.Vow[string], error)
}

// Main is the body of the programs: it opens the store at -db with a
// short lease, starts -flows flows (by id, so each exists once whoever
// starts it), answers vows, and runs until SIGTERM.
func Main(build string, register func(*runtime.Runtime) Starter) {
	db := flag.String("db", "", "postgres:// URL of the store")
	flows := flag.Int("flows", 0, "start flows 0..n-1 (by id: once across processes)")
	rounds := flag.Int("rounds", 3, "rounds of each flow")
	lease := flag.Duration("lease", 2*time.Second, "lease")
	poll := flag.Duration("poll", 250*time.Millisecond, "poll")
	autoAnswer := flag.Duration("auto-answer", 0, "answer vows this long after they are asked (0: only released ones)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err := run(*db, build, *flows, *rounds, *lease, *poll, *autoAnswer, register); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(url, build string, flows, rounds int, lease, poll, autoAnswer time.Duration, register func(*runtime.Runtime) Starter) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Lease: lease, Poll: poll})
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	rt, err := runtime.Open(ctx, "", runtime.Options{Store: st, Build: build})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	h := &Host{db: pool, rt: rt, build: build}
	ProvideLedger(rt, "ledger", h)
	starter := register(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	member, _ := st.Member()
	fmt.Printf("READY pid %d member %d build %s\n", os.Getpid(), member, build)
	for i := range flows {
		if _, err := starter.StartWithID(ctx, fmt.Sprintf("work-%03d", i), LedgerRef("ledger"), Account(i), rounds); err != nil {
			if ctx.Err() != nil {
				break // told to stop while starting
			}
			return err
		}
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Println("STOPPING")
			return nil
		case <-tick.C:
		}
		if err := h.answer(ctx, autoAnswer); err != nil && ctx.Err() == nil {
			slog.Warn("answering vows", "err", err)
		}
	}
}
