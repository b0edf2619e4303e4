package store

import (
	"context"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Shared is a store that several processes use at once, each through a
// handle of its own (pgstore). It is a Store, with these differences:
//
//   - Each unfinished activation is run by at most one handle at a time: its
//     owner. A handle owns the activations it creates and those it claims,
//     until it releases them, finishes them or closes — or until its lease
//     lapses (its process stopped renewing it: it died, hung, or lost the
//     database) and another handle takes over.
//   - Ops about an activation (Append, Watch, SetState, Finish) are fenced:
//     they fail with ErrFenced unless this handle owns the activation or no
//     handle does, and always once this handle's lease was taken over, even
//     if its process wakes up later and tries.
//   - SetState to Failed records the failure for the build this handle
//     began its incarnation with: that build leaves the activation to
//     others (Adopt skips it) until a retry.
//   - Events tells the handle what others did that concerns it.
//
// The runtime claims an activation before it revives it and releases it
// when the run ends; the storetest package checks the behaviour on two
// handles of one store.
type Shared interface {
	Store
	// Claim makes this handle the owner of an unfinished activation so that
	// it may run it, fencing an owner whose lease lapsed. It returns false,
	// and takes nothing, if the activation is done or missing, if another
	// live handle owns it, or — unless retry — if this handle's build
	// failed it. retry forgets that failure.
	Claim(ctx context.Context, id flow.ActivationID, retry bool) (bool, error)
	// Release gives up an activation this handle owns, after everything
	// submitted before; no handle owns it then until one claims it.
	Release(ctx context.Context, id flow.ActivationID) error
	// Adopt claims running and failed activations of the named flows that
	// no live handle owns (their owner released them, closed, or was
	// fenced: Adopt first fences the handles whose lease lapsed), and that
	// this handle's build has not failed, up to limit of them, and calls fn
	// for each. It returns how many it claimed. Suspended activations are
	// not adopted: whoever wakes them claims them.
	Adopt(ctx context.Context, flows []string, limit int, fn func(id flow.ActivationID, flowName string, state State) error) (int, error)
	// Events returns what others did that concerns this handle, and when
	// to look for work. It is closed when the store closes.
	Events() <-chan Event
	// Rejoin gives a handle that was fenced a new lease. Until then every
	// write it makes about activations fails with ErrFenced, and so does
	// every one submitted before: the runtime calls it once it has stopped
	// every run that might still write under the lease that lapsed.
	Rejoin(ctx context.Context) error
}

// EventKind says what an Event reports.
type EventKind int

const (
	// VowSettled: another handle settled Vow. Waiters are those of the
	// activations it woke that this handle owns.
	VowSettled EventKind = iota + 1
	// Poll: time to look for work — activations to adopt, timers others
	// set. Missed is true when events may have been lost (the connection
	// that carries them was lost): whatever waits for a vow should look at
	// it again.
	Poll
	// Fenced: this handle's lease lapsed and was taken over. Every
	// activation it owned is lost to it; its runs must stop, then Rejoin.
	Fenced
)

// Event is one thing a shared store tells its handle.
type Event struct {
	Kind    EventKind
	Vow     flow.VowID
	Waiters []flow.ActivationID
	Missed  bool
}
