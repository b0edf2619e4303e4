// Package handoff lets a store's lone submission commit on its submitter's
// goroutine.
//
// A store commits on one connection, from a committer goroutine that
// gathers what is queued into one transaction. A submission that arrives
// alone pays for two hand-offs on the way: waking the committer, and the
// committer waking the submitter once the transaction is durable. On an idle
// machine each costs tens of microseconds, as much as a tenth of an fsync'd
// commit. So a submission that finds nothing else in flight and the write
// connection free keeps the connection for itself, and its transaction is
// left to its Pending (store.Pending.Defer): the submitter's Wait runs it.
// Whatever is submitted after it is queued as usual; if the committer gets
// to the connection before the submitter has begun, it takes the submission
// back and commits it first, so order is kept and nothing waits on a
// submitter that is slow to wait.
package handoff

import (
	"sync"
	"sync/atomic"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Writer is the hold on a store's write connection, for jobs of type J.
type Writer[J any] struct {
	mu       sync.Mutex // held while a transaction runs, or is left to a waiter
	deferred atomic.Pointer[deferred[J]]
}

type deferred[J any] struct {
	job J
	p   *store.Pending
}

// Offer keeps the connection for job j, whose Pending is p, if it is free,
// and leaves the transaction to p's waiter, who calls run(j). The caller
// offers only a job submitted with nothing else in flight, and must queue
// it for the committer as usual when Offer returns false.
func (w *Writer[J]) Offer(j J, p *store.Pending, run func(J)) bool {
	if !w.mu.TryLock() {
		return false
	}
	d := &deferred[J]{job: j, p: p}
	p.Defer(func() {
		w.deferred.CompareAndSwap(d, nil)
		run(j)
		w.mu.Unlock()
	})
	w.deferred.Store(d)
	return true
}

// Lock holds the connection for the committer. It returns the job left to
// a waiter who had not begun it, which the committer must now commit first.
func (w *Writer[J]) Lock() (j J, taken bool) {
	if d := w.deferred.Load(); d != nil && d.p.Claim() {
		w.deferred.CompareAndSwap(d, nil)
		return d.job, true // the connection was kept for it
	}
	w.mu.Lock()
	return j, false
}

// Unlock lets the connection go.
func (w *Writer[J]) Unlock() { w.mu.Unlock() }
