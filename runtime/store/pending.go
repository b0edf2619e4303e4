package store

import (
	"context"
	"sync/atomic"
	"time"
)

// Pending is a submission on its way to durability. A store makes one for
// each submission with NewPending and releases it with Complete; the
// submitter waits with Wait or WaitContext.
//
// A store may leave a submission's transaction to whoever claims it first
// (see Defer): the submitter's Wait, which then runs it on its own
// goroutine, or the store itself, when other submissions queue up behind
// it. A submitter must therefore wait for every Pending it is given, with
// Wait, WaitContext or Done.
type Pending struct {
	ops     []Op
	done    chan struct{}
	err     error
	run     func()
	claimed atomic.Bool
}

// NewPending returns the Pending of a submission of ops, not yet complete.
func NewPending(ops ...Op) *Pending {
	return &Pending{ops: ops, done: make(chan struct{})}
}

// Ops returns the submission's ops, in order.
func (p *Pending) Ops() []Op { return p.ops }

// Complete releases the submitter: the ops are durable (err nil), or failed
// and have no effect. The ops' results must be filled in before. A store
// calls it once for each Pending; a second call panics.
func (p *Pending) Complete(err error) {
	p.err = err
	close(p.done)
}

// Defer leaves the submission's transaction to whoever claims it first:
// Wait runs it on the waiting goroutine, Done and WaitContext start it on
// another, and a store may take it back with Claim. run must Complete p. A
// store calls Defer, if at all, before Submit returns p.
func (p *Pending) Defer(run func()) { p.run = run }

// Claim reports whether the caller has won the deferred transaction and
// must run it now: false if none was deferred or someone else has it.
func (p *Pending) Claim() bool {
	return p.run != nil && p.claimed.CompareAndSwap(false, true)
}

// Done returns a channel closed when the submission is complete.
func (p *Pending) Done() <-chan struct{} {
	if p.Claim() {
		go p.run()
	}
	return p.done
}

// Wait blocks until the ops are durable, or failed, and returns the error.
// A transaction left to the waiter runs on its goroutine.
func (p *Pending) Wait() error {
	if p.Claim() {
		p.run()
	}
	<-p.done
	return p.err
}

// WaitContext is Wait, giving up when ctx ends. The ops may still commit. A
// ctx that has ended already gives its error, whether or not the ops have
// committed.
func (p *Pending) WaitContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		if p.Claim() {
			go p.run()
		}
		return err
	}
	if ctx.Done() == nil {
		return p.Wait()
	}
	select {
	case <-p.Done():
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CommitStats is what a store may report of one of its commits, to the
// runtime's metrics: how many submissions shared the transaction, how many
// ops they held, and how long it took to be durable (or to fail).
type CommitStats struct {
	Submissions int
	Ops         int
	Took        time.Duration
}

// CommitObserver is implemented by stores that report their commits, for
// the runtime's metrics.
type CommitObserver interface {
	// ObserveCommits has fn told of every commit; nil stops it.
	ObserveCommits(fn func(CommitStats))
}

// Apply submits ops and waits for them.
func Apply(ctx context.Context, s Store, ops ...Op) error {
	return s.Submit(ops...).WaitContext(ctx)
}
