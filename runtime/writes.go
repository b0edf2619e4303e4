package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// How the runtime writes when the store cannot take every write: each
// activation's writes go through a queue of its own, so that they reach the
// store in order, and what was queued while one was on its way goes with
// the next in one submission. A submission the store cannot take now
// (store.ErrUnavailable: a full disk, an I/O error) is made again, the same,
// with backoff, until it can: nothing is replayed and no host call made
// again. One it refuses for good (store.ErrRefused, store.ErrCorrupt) fails
// the activation with a diagnostic. After any other error the outcome of the
// write is unknown: the run is let go and the activation replayed from what
// is durable, once the store takes writes again.

// health is whether the store takes writes, as the runtime last found it. It
// logs one line when the store stops taking writes and one when it takes
// them again, however many writes fail in between. A store that takes a few
// writes while it is full (space SQLite freed) is not writable again until
// it has taken writes for calm: until then a failure is the same outage.
type health struct {
	log  *slog.Logger
	down atomic.Bool

	mu     sync.Mutex
	since  time.Time     // when the outage began
	up     chan struct{} // closed when the store takes writes again
	failed int           // writes that failed in the outage
	calm   *time.Timer   // says the store is writable again, unless it fails first
}

// calm is how long a store must take writes, after an outage, before the
// outage is over.
const calm = time.Second

// unwritable records that a write failed for now, and returns a channel
// closed when one succeeds again.
func (h *health) unwritable(err error) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		h.up = make(chan struct{})
		h.down.Store(true)
		if h.calm == nil || !h.calm.Stop() {
			h.since, h.failed = time.Now(), 0
			h.log.Warn("asyncflow: store not writable, retrying", "err", err)
		}
		h.calm = nil
	}
	h.failed++
	return h.up
}

// upChan returns a channel closed when the store takes writes again, or
// nil if it takes them now.
func (h *health) upChan() <-chan struct{} {
	if !h.down.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		return nil
	}
	return h.up
}

// writable records that a write succeeded.
func (h *health) writable() {
	if !h.down.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		return
	}
	h.down.Store(false)
	close(h.up)
	took, failed := time.Since(h.since), h.failed
	var t *time.Timer
	t = time.AfterFunc(calm, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.calm == t {
			h.calm = nil
			h.log.Info("asyncflow: store writable again", "after", took.Round(time.Millisecond), "failed writes", failed)
		}
	})
	h.calm = t
}

// backoff is how long to wait before retry number attempt (from 0): from
// 10ms, doubling, up to about a second, with jitter so that retries spread.
func backoff(attempt int) time.Duration {
	d := 10 * time.Millisecond << min(attempt, 7)
	if d > time.Second {
		d = time.Second
	}
	return d/2 + rand.N(d/2)
}

// errStopped completes the writes of an activation that was cancelled, or
// of a runtime that closes, before they reached the store.
var errStopped = fmt.Errorf("runtime: %w", ErrClosed)

// write is one write of an activation: ops to apply together, in order with
// its other writes. It is the membrane's Commit.
type write struct {
	ops  []store.Op
	done chan struct{}
	err  error
}

var _ membrane.Commit = (*write)(nil)

// Wait implements membrane.Commit: it returns once the write is durable, or
// will not be.
func (w *write) Wait() error {
	<-w.done
	return w.err
}

func (w *write) complete(err error) {
	w.err = err
	close(w.done)
}

// submit queues ops as one write of the activation. It returns nil if the
// activation may write nothing more (cancelled, or the runtime closes).
func (a *activation) submit(ops ...store.Op) *write {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dead {
		return nil
	}
	w := &write{ops: ops, done: make(chan struct{})}
	a.queue = append(a.queue, w)
	if !a.writing {
		a.writing = true
		go a.writeLoop()
	}
	return w
}

// kill marks the activation dead: it writes nothing more. Writes waiting to
// be made again give up. Called with a.mu held.
func (a *activation) kill() {
	if !a.dead {
		a.dead = true
		close(a.halt)
	}
}

// writeLoop writes what the activation queued, in order, while there is
// some.
func (a *activation) writeLoop() {
	for {
		a.mu.Lock()
		batch := a.queue
		a.queue = nil
		if len(batch) == 0 {
			a.writing = false
			a.mu.Unlock()
			return
		}
		refused := a.refused
		a.mu.Unlock()
		if refused != nil {
			// After a refusal nothing the activation writes is kept: it
			// fails, and its log ends before the refused write.
			for _, w := range batch {
				w.complete(refused)
			}
			continue
		}
		var ops []store.Op
		for _, w := range batch {
			ops = append(ops, w.ops...)
		}
		err := a.apply(ops)
		var r *membrane.Refused
		if errors.As(err, &r) {
			a.mu.Lock()
			a.refused = err
			a.mu.Unlock()
		}
		for _, w := range batch {
			w.complete(err)
		}
	}
}

// apply submits ops and waits until they are durable, making the submission
// again while the store cannot take it now. An error it returns is a
// *membrane.Refused if the store refused the ops for good, errStopped if the
// activation stopped meanwhile; after any other the run is let go, and the
// activation replayed once the store takes writes again.
func (a *activation) apply(ops []store.Op) error {
	rt := a.rt
	for attempt := 0; ; attempt++ {
		a.mu.Lock()
		if a.dead {
			a.mu.Unlock()
			return errStopped
		}
		p := rt.st.Submit(ops...)
		a.mu.Unlock()
		err := p.Wait()
		switch {
		case err == nil:
			rt.health.writable()
			return nil
		case errors.Is(err, store.ErrUnavailable):
			up := rt.health.unwritable(err)
			t := time.NewTimer(backoff(attempt))
			select {
			case <-up:
			case <-t.C:
			case <-a.halt:
			}
			t.Stop()
		case errors.Is(err, store.ErrClosed):
			return errStopped
		case errors.Is(err, store.ErrFenced):
			// Another process runs the activation now (its lease, or
			// this process's, was taken over): this run ends, and nothing
			// here replays it.
			a.stop()
			return errStopped
		case errors.Is(err, store.ErrRefused), errors.Is(err, store.ErrCorrupt):
			return &membrane.Refused{Err: err}
		default:
			a.replayLater(err)
			return err
		}
	}
}

// replayLater lets the run go after a write whose outcome is unknown: the
// activation is replayed from what is durable once the store takes writes
// again.
func (a *activation) replayLater(err error) {
	a.mu.Lock()
	first := !a.retryLater
	a.mu.Unlock()
	if first {
		a.rt.log.Warn("asyncflow: a write failed; the activation is replayed from what is durable", "activation", a.id, "err", err)
	}
	a.letGo()
}

// letGo stops the run without a failure, to be replayed once the store
// takes writes again.
func (a *activation) letGo() {
	a.mu.Lock()
	a.retryLater = true // before stop, so that whoever sees it stopped sees why
	a.mu.Unlock()
	a.stop()
}
