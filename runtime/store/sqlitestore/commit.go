package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// job is one submission in the queue: a caller's ops, or work of the store's
// own (recording an incarnation, a read on the write connection) that runs in
// the transaction in their place.
type job struct {
	p   *store.Pending
	own func(w *writer) error
}

// Submit implements store.Store.
func (s *Store) Submit(ops ...store.Op) *store.Pending {
	return s.enqueue(job{p: store.NewPending(ops...)}, s.closedErr())
}

// enqueue queues a job for the committer or, if the store is closing,
// completes it with closed. The lock keeps a job from being queued once the
// committer may have drained the queue for the last time. A job that finds
// nothing else in flight may commit on its submitter's goroutine instead
// (see package handoff).
func (s *Store) enqueue(j job, closed error) *store.Pending {
	if s.readOnly {
		j.p.Complete(s.readOnlyErr())
		return j.p
	}
	s.submitMu.RLock()
	defer s.submitMu.RUnlock()
	if s.closing.Load() {
		j.p.Complete(closed)
		return j.p
	}
	if s.inflight.Add(1) == 1 && s.wr.Offer(j, j.p, s.runOne) {
		return j.p
	}
	s.queue <- j
	return j.p
}

func (s *Store) closedErr() error {
	return fmt.Errorf("sqlitestore: %s: %w", s.path, store.ErrClosed)
}

func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]job, 0, 64)
	l := newLinger()
	defer l.timer.Stop()
	for {
		var first job
		select {
		case first = <-s.queue:
		case <-s.stop:
			// Commit what was submitted before the stop.
			if d, ok := s.wr.Lock(); ok {
				s.run([]job{d})
			}
			for {
				select {
				case j := <-s.queue:
					s.run([]job{j})
				default:
					if s.w != nil {
						s.w.close()
					}
					s.wr.Unlock()
					return
				}
			}
		}
		batch = batch[:0]
		if d, ok := s.wr.Lock(); ok {
			batch = append(batch, d) // before first
		}
		batch = append(batch, first)
		if s.opts.NoGroupCommit {
			for _, j := range batch {
				s.run([]job{j})
			}
		} else {
			batch = s.gather(batch, l)
			t0 := time.Now()
			s.run(batch)
			l.committed(batch, t0, time.Now())
		}
		s.wr.Unlock()
	}
}

// runOne commits one job on its submitter's goroutine.
func (s *Store) runOne(j job) { s.run([]job{j}) }

// run commits a batch; the caller holds the write connection.
func (s *Store) run(batch []job) {
	if fn := s.onCommit.Load(); fn != nil {
		defer s.observe(*fn, batch, time.Now())
	}
	w := s.w
	if s.werr != nil {
		for _, j := range batch {
			s.complete(j, s.werr)
		}
		return
	}
	err := w.commit(batch)
	if err != nil && len(batch) > 1 {
		// Isolate the submission at fault: the others still commit.
		for _, j := range batch {
			s.complete(j, w.commit([]job{j}))
		}
		return
	}
	for _, j := range batch {
		s.complete(j, err)
	}
}

// ObserveCommits implements store.CommitObserver: fn is told of every
// transaction the committer runs, on the committer's goroutine, so it must
// be quick. Nil stops it.
func (s *Store) ObserveCommits(fn func(store.CommitStats)) {
	if fn == nil {
		s.onCommit.Store(nil)
		return
	}
	s.onCommit.Store(&fn)
}

func (s *Store) observe(fn func(store.CommitStats), batch []job, began time.Time) {
	c := store.CommitStats{Submissions: len(batch), Took: time.Since(began)}
	for _, j := range batch {
		c.Ops += len(j.p.Ops())
	}
	fn(c)
}

// complete releases a job's submitter. It no longer counts as in flight
// from just before: whoever sees it released sees it gone.
func (s *Store) complete(j job, err error) {
	s.inflight.Add(-1)
	j.p.Complete(err)
}

// Close implements store.Store.
func (s *Store) Close(ctx context.Context) error {
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
	select {
	case <-s.stopped:
	case <-ctx.Done():
		if s.inflight.Load() == 0 {
			// Nothing to wait for: the committer is on its way out.
			<-s.stopped
			break
		}
		s.closeErr = fmt.Errorf("sqlitestore: close %s: %d submissions still in flight: %w", s.path, s.inflight.Load(), ctx.Err())
		// The writer finishes its transaction and closes; SQLite keeps the
		// file consistent whatever happens next.
		go func() {
			<-s.stopped
			s.release()
		}()
		return s.closeErr
	}
	if err := s.release(); err != nil {
		s.closeErr = fmt.Errorf("sqlitestore: close %s: %w", s.path, err)
	}
	return s.closeErr
}

func (s *Store) release() error {
	var errs []error
	if s.rdb != nil && s.rdb != s.wdb {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.lockF != nil {
		errs = append(errs, unlockFile(s.lockF), s.lockF.Close())
	}
	s.unregister() // once the lock is free for the next Open
	return errors.Join(errs...)
}

// Check implements store.Store: SQLite's integrity check.
func (s *Store) Check(ctx context.Context) error {
	var problems []string
	err := s.read(ctx, func(q querier) (err error) {
		problems, err = s.checkLines(ctx, q, "PRAGMA integrity_check")
		return err
	})
	if err != nil {
		return s.wrap("check", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlitestore: %s: %w: %s", s.path, store.ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// BeginIncarnation implements store.Store.
func (s *Store) BeginIncarnation(ctx context.Context, build string, pid int) (int64, error) {
	var gen int64
	started := time.Now()
	p := s.enqueue(job{p: store.NewPending(), own: func(w *writer) error {
		return w.conn.QueryRowContext(w.ctx, qNewInc, build, started.UnixNano(), pid).Scan(&gen)
	}}, s.closedErr())
	if err := p.WaitContext(ctx); err != nil {
		return 0, err
	}
	return gen, nil
}
