package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// job is one submission in the queue: a caller's ops, or statements of the
// store's own (a release) applied in their place, in order with the rest.
// It is written under the member's epoch when it was submitted: what a run
// of a lapsed lease submitted fails, even if it is sent after Rejoin.
type job struct {
	p     *store.Pending
	own   []stmt
	epoch int64
}

// Submit implements store.Store.
func (s *Store) Submit(ops ...store.Op) *store.Pending {
	return s.enqueue(&job{p: store.NewPending(ops...), epoch: s.epoch.Load()})
}

// enqueue queues a job for the committer or, if the store is closing,
// completes it. The lock keeps a job from being queued once the committer
// may have drained the queue for the last time. A job that finds nothing
// else in flight may commit on its submitter's goroutine instead (see
// package handoff).
func (s *Store) enqueue(j *job) *store.Pending {
	s.submitMu.RLock()
	defer s.submitMu.RUnlock()
	if s.closing.Load() {
		j.p.Complete(s.closedErr())
		return j.p
	}
	if err := s.writable("submit"); err != nil {
		j.p.Complete(err)
		return j.p
	}
	if s.inflight.Add(1) == 1 && s.wr.Offer(j, j.p, s.runOne) {
		return j.p
	}
	s.queue <- j
	return j.p
}

// commitLoop is the committer: it owns one connection and applies the
// submissions in the order they were queued. What is queued while a
// transaction is on its way goes together in the next one.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	c := s.c
	batch := make([]*job, 0, 64)
	for {
		var first *job
		select {
		case first = <-s.queue:
		case <-s.stop:
			// Apply what was queued before the stop.
			if d, ok := s.wr.Lock(); ok {
				c.run([]*job{d})
			}
			for {
				select {
				case j := <-s.queue:
					c.run([]*job{j})
				default:
					c.close()
					s.wr.Unlock()
					return
				}
			}
		}
		batch = batch[:0]
		if d, ok := s.wr.Lock(); ok {
			batch = append(batch, d) // before first, and with it
		}
		batch = append(batch, first)
		if !s.opts.NoGroupCommit {
		gather:
			for len(batch) < s.opts.MaxBatch {
				select {
				case j := <-s.queue:
					batch = append(batch, j)
				default:
					break gather
				}
			}
		}
		if s.opts.NoGroupCommit {
			for _, j := range batch {
				c.run([]*job{j})
			}
		} else {
			c.run(batch)
		}
		s.wr.Unlock()
		clear(batch)
	}
}

// runOne commits one job on its submitter's goroutine.
func (s *Store) runOne(j *job) { s.c.run([]*job{j}) }

// committer holds the committer's connection, made again when it is lost.
type committer struct {
	s    *Store
	conn *pgx.Conn
}

func (c *committer) close() {
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.conn.Close(ctx)
		c.conn = nil
	}
}

func (c *committer) connect(ctx context.Context) (*pgx.Conn, error) {
	if c.conn != nil && !c.conn.IsClosed() {
		return c.conn, nil
	}
	c.conn = nil
	conn, err := pgx.ConnectConfig(ctx, c.s.connCfg)
	if err != nil {
		return nil, err
	}
	// A commit is durable when it returns, whatever the server's default.
	var sync string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sync); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	if sync == "off" {
		if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
			_ = conn.Close(ctx)
			return nil, err
		}
	}
	c.conn = conn
	return conn, nil
}

// run applies a batch and releases every submission in it. Submissions
// that fire timers need answers from the server before they can write, so
// each goes in a transaction of its own; the others go, in order, in as few
// transactions as their order allows.
func (c *committer) run(batch []*job) {
	for len(batch) > 0 {
		if interactive(batch[0]) {
			c.complete(batch[0], c.interactive(batch[0]))
			batch = batch[1:]
			continue
		}
		n := 1
		for n < len(batch) && !interactive(batch[n]) && batch[n].epoch == batch[0].epoch {
			n++
		}
		c.pipelined(batch[:n])
		batch = batch[n:]
	}
}

func interactive(j *job) bool {
	for _, op := range j.p.Ops() {
		if _, ok := op.(*store.FireTimers); ok {
			return true
		}
	}
	return false
}

// pipelined applies submissions in one transaction sent in one round trip,
// and releases them. If the server refuses it, each submission is applied
// again alone, so that only the one at fault fails.
func (c *committer) pipelined(group []*job) {
	err := c.send(group)
	if err != nil && len(group) > 1 && isolatable(err) {
		for _, j := range group {
			c.complete(j, c.send([]*job{j}))
		}
		return
	}
	for _, j := range group {
		c.complete(j, err)
	}
}

// complete releases a submitter. The submission no longer counts as in
// flight from just before: whoever sees it released sees it gone.
func (c *committer) complete(j *job, err error) {
	c.s.inflight.Add(-1)
	j.p.Complete(err)
}

// isolatable reports whether a failed transaction certainly had no effect
// and the connection is fit for more: the server refused it, or nothing was
// sent. After any other failure the outcome is unknown, and nothing is
// applied again.
func isolatable(err error) bool {
	var pre pgx.ErrPreprocessingBatch
	if errors.As(err, &pre) || pgconn.SafeToRetry(err) {
		return true
	}
	// An ERROR ends the transaction; a FATAL ends the session, perhaps
	// while it commits.
	return severity(err) == "ERROR"
}

// severity is the severity of a server's error, or "" for other errors.
func severity(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	if pe.SeverityUnlocalized != "" {
		return pe.SeverityUnlocalized
	}
	return pe.Severity
}

func (c *committer) send(group []*job) error {
	ctx := context.Background()
	conn, err := c.connect(ctx)
	if err != nil {
		return c.s.wrap("connect", err)
	}
	w := c.s.writer(group[0].epoch)
	var b pgx.Batch
	// The transaction is fenced before its first write about an
	// activation: by the statement of its first appends if that is one,
	// else by a statement of its own first of all.
	fence := false
	switch fenced(group) {
	case fencedByAppend:
		fence = true
	case fencedByOther:
		queue(&b, "fence", w.fenceStmt())
	}
	var pending []*store.Append // a run of appends, written by one statement
	flush := func() {
		if len(pending) > 0 {
			queueAppends(&b, w, pending, fence)
			fence = false
			pending = pending[:0]
		}
	}
	for _, j := range group {
		for _, st := range j.own {
			flush()
			queue(&b, "release", st)
		}
		for _, op := range j.p.Ops() {
			if a, ok := op.(*store.Append); ok {
				pending = append(pending, a)
				continue
			}
			flush()
			queueOp(&b, w, op)
		}
	}
	flush()
	if b.Len() == 0 {
		return nil // empty submissions: in order, and nothing to write
	}
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		if !isolatable(err) {
			c.close()
		}
		return c.s.commitErr(err)
	}
	c.s.commits.Add(1)
	return nil
}

// How a transaction is fenced.
type fencing int

const (
	notFenced      fencing = iota // it writes nothing about activations
	fencedByAppend                // its first write about one is an append
	fencedByOther                 // by another op
)

// fenced reports whether submissions write about activations, and what the
// first such write is: their transaction then takes the member's lock and
// checks its epoch before it.
func fenced(group []*job) fencing {
	for _, j := range group {
		for _, op := range j.p.Ops() {
			switch op.(type) {
			case *store.Append:
				return fencedByAppend
			case *store.Watch, *store.SetState, *store.Finish, *store.Receive, *store.Publish:
				return fencedByOther
			}
		}
	}
	return notFenced
}

// interactive applies one submission in a transaction of its own, one
// statement at a time.
func (c *committer) interactive(j *job) error {
	ctx := context.Background()
	conn, err := c.connect(ctx)
	if err != nil {
		return c.s.wrap("connect", err)
	}
	w := c.s.writer(j.epoch)
	tx, err := conn.Begin(ctx)
	if err != nil {
		c.close()
		return c.s.wrap("begin", err)
	}
	fail := func(err error) error {
		if rerr := tx.Rollback(ctx); rerr != nil {
			c.close()
		}
		return c.s.commitErr(err)
	}
	if fenced([]*job{j}) != notFenced {
		if err := applyStmt(ctx, tx, "fence", w.fenceStmt()); err != nil {
			return fail(err)
		}
	}
	for _, op := range j.p.Ops() {
		if err := applyOp(ctx, tx, w, op); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		if !isolatable(err) {
			c.close()
		}
		return c.s.commitErr(err)
	}
	c.s.commits.Add(1)
	return nil
}

// commitErr wraps a failed transaction's error. A fenced member tries to
// renew its lease at once, and so learns it was fenced.
func (s *Store) commitErr(err error) error {
	if errors.Is(err, errMemberFenced) {
		s.kickHeartbeat()
	}
	return s.wrap("commit", err)
}

// Close implements store.Store.
func (s *Store) Close(ctx context.Context) error {
	if s.readOnly {
		return s.closeReadOnly()
	}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	s.submitMu.Lock()
	s.closing.Store(true)
	close(s.stop)
	s.submitMu.Unlock()
	close(s.bgStop)
	select {
	case <-s.stopped:
	case <-ctx.Done():
		if s.inflight.Load() == 0 {
			// Nothing to wait for: the committer is on its way out.
			<-s.stopped
			break
		}
		s.closeErr = fmt.Errorf("pgstore: close %s: %d submissions still in flight: %w", s.name, s.inflight.Load(), ctx.Err())
		// The committer finishes its transaction; the server keeps the
		// store consistent whatever happens next, and the lease lapses.
		go func() {
			<-s.stopped
			s.bg.Wait()
			close(s.events)
			s.pool.Close()
		}()
		return s.closeErr
	}
	s.bg.Wait()
	close(s.events)
	// Leaving is quick, and saves the others a lease: done even when ctx
	// has ended.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.leave(lctx); err != nil {
		s.closeErr = err
	}
	s.pool.Close()
	return s.closeErr
}

// BeginIncarnation implements store.Store.
func (s *Store) BeginIncarnation(ctx context.Context, build string, pid int) (int64, error) {
	if s.closing.Load() {
		return 0, s.closedErr()
	}
	if err := s.writable("begin incarnation"); err != nil {
		return 0, err
	}
	var gen int64
	err := s.pool.QueryRow(ctx, `INSERT INTO incarnations (build, started_ns, pid) VALUES ($1, $2, $3) RETURNING gen`,
		build, time.Now().UnixNano(), pid).Scan(&gen)
	if err != nil {
		return 0, s.wrap("begin incarnation", err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE members SET build = $1 WHERE id = $2`, build, s.member); err != nil {
		return 0, s.wrap("begin incarnation", err)
	}
	s.build.Store(&build)
	return gen, nil
}
