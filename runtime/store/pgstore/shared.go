package pgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// The handle as one member of a store that several processes share: its
// lease and heartbeat, what it hears from the others, and the claims that
// make it the owner of activations.

// join records the handle as a member with a fresh lease.
func (s *Store) join(ctx context.Context) error {
	host, _ := os.Hostname()
	var epoch int64
	err := s.pool.QueryRow(ctx, `INSERT INTO members (expires_at, pid, host) VALUES (now() + $1 * interval '1 millisecond', $2, $3) RETURNING id, epoch`,
		s.opts.Lease.Milliseconds(), os.Getpid(), host).Scan(&s.member, &epoch)
	if err != nil {
		return s.wrap("join", err)
	}
	s.epoch.Store(epoch)
	return nil
}

// memberApp is the application_name of the member's committer session.
func (s *Store) memberApp() string { return "asyncflow member " + strconv.FormatInt(s.member, 10) }

// Member returns the handle's member id in the store, and its epoch: the
// epoch grows each time the handle's lease lapsed and was taken over, from
// when it rejoins.
func (s *Store) Member() (id, epoch int64) { return s.member, s.epoch.Load() }

// kickHeartbeat makes the heartbeat renew the lease now.
func (s *Store) kickHeartbeat() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// heartbeat renews the lease every Lease/4. If it finds the handle fenced,
// it tells the runtime, and renews nothing more until Rejoin.
func (s *Store) heartbeat() {
	defer s.bg.Done()
	tick := time.NewTicker(s.opts.Lease / 4)
	defer tick.Stop()
	for {
		select {
		case <-s.bgStop:
			return
		case <-tick.C:
		case <-s.kick:
		}
		if s.paused.Load() || s.fenced.Load() {
			continue
		}
		if err := s.renew(); err != nil && !s.closing.Load() {
			s.log.Warn("asyncflow store: cannot renew the lease", "store", s.name, "member", s.member, "err", err)
		}
	}
}

func (s *Store) renew() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Lease/2)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE members SET expires_at = now() + $1 * interval '1 millisecond'
		WHERE id = $2 AND epoch = $3 AND left_at IS NULL`, s.opts.Lease.Milliseconds(), s.member, s.epoch.Load())
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	// Fenced: every ownership of this epoch is void, and runs of it may
	// still be about to write. They fail until the runtime has stopped them
	// and calls Rejoin.
	if s.fenced.CompareAndSwap(false, true) {
		s.log.Warn("asyncflow store: this process's lease lapsed and was taken over; its activations run elsewhere", "store", s.name, "member", s.member)
		s.send(store.Event{Kind: store.Fenced})
	}
	return nil
}

// Rejoin implements store.Shared: the member takes its new epoch and a
// fresh lease.
func (s *Store) Rejoin(ctx context.Context) error {
	if err := s.reading(ctx); err != nil {
		return s.wrap("rejoin", err)
	}
	if err := s.writable("rejoin"); err != nil {
		return err
	}
	var next int64
	err := s.pool.QueryRow(ctx, `UPDATE members SET lapsed = false, expires_at = now() + $1 * interval '1 millisecond'
		WHERE id = $2 AND left_at IS NULL RETURNING epoch`, s.opts.Lease.Milliseconds(), s.member).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("member %d is gone from the store", s.member)
	}
	if err != nil {
		return s.wrap("rejoin", err)
	}
	s.epoch.Store(next)
	s.fenced.Store(false)
	s.log.Info("asyncflow store: this process rejoined with a new lease", "store", s.name, "member", s.member, "epoch", next)
	return nil
}

// send passes an event on without blocking; one that finds no room is
// lost, and the next Poll says so.
func (s *Store) send(ev store.Event) {
	select {
	case s.events <- ev:
	default:
		s.missed.Store(true)
	}
}

// Events implements store.Shared.
func (s *Store) Events() <-chan store.Event { return s.events }

// poll sends a Poll event every Options.Poll.
func (s *Store) poll() {
	defer s.bg.Done()
	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-s.bgStop:
			return
		case <-tick.C:
		}
		missed := s.missed.Swap(false)
		select {
		case s.events <- store.Event{Kind: store.Poll, Missed: missed}:
		default:
			s.missed.Store(s.missed.Load() || missed)
		}
	}
}

// listen hears the settlements other members make, on a connection of its
// own, connecting again when it is lost.
func (s *Store) listen() {
	defer s.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.bgStop
		cancel()
	}()
	first := true
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, &first)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("asyncflow store: lost the connection that hears other processes; connecting again", "store", s.name, "err", err)
		s.missed.Store(true) // what was said meanwhile is not heard
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.Poll):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, first *bool) error {
	conn, err := pgx.ConnectConfig(ctx, s.connCfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
		return err
	}
	if !*first {
		s.missed.Store(true)
	}
	*first = false
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if ev, ok := s.parseSettled(n.Payload); ok {
			if s.deaf.Load() {
				s.missed.Store(true) // as if the connection had been lost
				continue
			}
			s.send(ev)
		}
	}
}

// parseSettled reads "settler vow [waiter:owner]..." and keeps what
// concerns this member; nothing of its own settlements.
func (s *Store) parseSettled(payload string) (store.Event, bool) {
	fields := strings.Fields(payload)
	if len(fields) < 2 {
		return store.Event{}, false
	}
	settler, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || settler == s.member {
		return store.Event{}, false
	}
	ev := store.Event{Kind: store.VowSettled}
	if !parseID(fields[1], ev.Vow[:]) {
		return store.Event{}, false
	}
	me := strconv.FormatInt(s.member, 10)
	for _, f := range fields[2:] {
		act, owner, ok := strings.Cut(f, ":")
		if !ok || owner != me {
			continue
		}
		var id flow.ActivationID
		if parseID(act, id[:]) {
			ev.Waiters = append(ev.Waiters, id)
		}
	}
	return ev, true
}

func parseID(h string, into []byte) bool {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(into) {
		return false
	}
	copy(into, b)
	return true
}

// Claim implements store.Shared.
func (s *Store) Claim(ctx context.Context, id flow.ActivationID, retry bool) (bool, error) {
	if err := s.reading(ctx); err != nil {
		return false, s.wrap("claim", err)
	}
	if err := s.writable("claim"); err != nil {
		return false, err
	}
	w := s.writer(s.epoch.Load())
	var got string
	err := s.pool.QueryRow(ctx, `SELECT claim($1, $2, $3, $4, $5)`, id[:], w.member, w.epoch, w.build, retry).Scan(&got)
	if err != nil {
		err = fromServer(err)
		if errors.Is(err, errMemberFenced) {
			s.kickHeartbeat()
		}
		return false, s.wrap("claim "+id.String(), err)
	}
	return got == "mine", nil
}

// Release implements store.Shared: in the committer's queue, after every
// write submitted before it.
func (s *Store) Release(ctx context.Context, id flow.ActivationID) error {
	epoch := s.epoch.Load()
	j := &job{p: store.NewPending(), epoch: epoch, own: []stmt{{sql: qRelease, args: []any{id[:], s.member, epoch}}}}
	return s.enqueue(j).WaitContext(ctx)
}

// Adopt implements store.Shared.
func (s *Store) Adopt(ctx context.Context, flows []string, limit int, fn func(flow.ActivationID, string, store.State) error) (int, error) {
	if err := s.reading(ctx); err != nil {
		return 0, s.wrap("adopt", err)
	}
	if err := s.writable("adopt"); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	s.adoptMu.Lock()
	defer s.adoptMu.Unlock()
	if err := s.reap(ctx); err != nil {
		return 0, s.wrap("adopt", err)
	}
	type row struct {
		id    flow.ActivationID
		flow  string
		state store.State
	}
	var got []row
	w := s.writer(s.epoch.Load())
	rows, err := s.pool.Query(ctx, `SELECT act, flow, state FROM adopt($1, $2, $3, $4, $5)`, w.member, w.epoch, w.build, flows, limit)
	if err != nil {
		return 0, s.wrap("adopt", fromServer(err))
	}
	for rows.Next() {
		var b []byte
		var r row
		var st int16
		if err := rows.Scan(&b, &r.flow, &st); err != nil {
			rows.Close()
			return 0, s.wrap("adopt", err)
		}
		r.state = store.State(st)
		if r.id, err = idFrom(b, "activation"); err != nil {
			s.log.Error("asyncflow store: skipping a damaged activation row", "store", s.name, "err", err)
			continue
		}
		got = append(got, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		err = fromServer(err)
		if errors.Is(err, errMemberFenced) {
			s.kickHeartbeat()
		}
		return 0, s.wrap("adopt", err)
	}
	for _, r := range got {
		if err := fn(r.id, r.flow, r.state); err != nil {
			return len(got), err
		}
	}
	return len(got), nil
}

// reap fences the members whose lease lapsed. One that cannot be fenced
// because a transaction of its own holds its row (its process stopped in
// the middle of one) has its sessions ended, so that the next reap can.
func (s *Store) reap(ctx context.Context) error {
	var fenced int
	var stuck []int64
	if err := s.pool.QueryRow(ctx, `SELECT fenced, stuck FROM reap($1)`, s.opts.Lease.Milliseconds()).Scan(&fenced, &stuck); err != nil {
		return err
	}
	if fenced > 0 {
		s.log.Info("asyncflow store: fenced processes whose lease lapsed", "store", s.name, "count", fenced)
	}
	for _, m := range stuck {
		if m == s.member {
			continue
		}
		var ended int
		err := s.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, "asyncflow member "+strconv.FormatInt(m, 10)).Scan(&ended)
		if err != nil {
			s.log.Warn("asyncflow store: cannot end the sessions of a process whose lease lapsed", "store", s.name, "member", m, "err", err)
			continue
		}
		s.log.Info("asyncflow store: ended the sessions of a process whose lease lapsed mid-transaction", "store", s.name, "member", m, "sessions", ended)
	}
	return nil
}

// leave marks the member gone and releases what it owned: others may claim
// it at once.
func (s *Store) leave(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap("close", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `UPDATE activations SET owner = NULL, owner_epoch = NULL WHERE owner = $1`, s.member); err != nil {
		return s.wrap("close", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE members SET left_at = now() WHERE id = $1`, s.member); err != nil {
		return s.wrap("close", err)
	}
	return s.wrap("close", tx.Commit(ctx))
}
