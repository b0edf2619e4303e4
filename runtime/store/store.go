package store

import (
	"context"
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// State is an activation's durable state.
type State int

// Activation states as stored.
const (
	Running   State = 1 // live or to be revived at start
	Suspended State = 2 // waiting for vows; revived when one settles
	Failed    State = 3 // stuck; retried at every start
	Done      State = 4 // outcome settled, log deleted
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Suspended:
		return "suspended"
	case Failed:
		return "failed"
	case Done:
		return "done"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// VowState is a vow's durable state.
type VowState int

// Vow states as stored.
const (
	VowPending   VowState = 0
	VowFulfilled VowState = 1
	VowRejected  VowState = 2
)

func (s VowState) String() string {
	switch s {
	case VowPending:
		return "pending"
	case VowFulfilled:
		return "fulfilled"
	case VowRejected:
		return "rejected"
	}
	return "vowstate(" + strconv.Itoa(int(s)) + ")"
}

// Entry is one row of an activation's log. Its payload is interpreted by the
// membrane.
type Entry struct {
	Step    int64
	Kind    int
	Gen     int64 // incarnation that wrote it
	Payload []byte
}

// Activation is an activation's row.
type Activation struct {
	ID         flow.ActivationID
	Flow       string
	StartKey   string // the caller's id given to StartWithID, if any
	Args       []byte
	State      State
	Outcome    flow.VowID
	CreatedGen int64
	Gen        int64  // incarnation of the last state change
	Failure    []byte // diagnostic while failed
}

// Vow is a vow's row.
type Vow struct {
	ID      flow.VowID
	State   VowState
	Payload []byte
	Gen     int64
}

// Incarnation is one run of a host program on the store.
type Incarnation struct {
	Gen     int64
	Build   string
	Started time.Time
	PID     int
}

// Filter selects activations for listing. Zero fields select everything.
type Filter struct {
	State State  // only this state
	Flow  string // only this flow
	After flow.ActivationID
	Limit int // at most this many; 0 means 1000
}

// Store is what the runtime needs of a log store. The SQLite implementation is
// returned by [Open]; a store shared by several host processes (PostgreSQL,
// with leases) is meant to fit behind the same interface.
type Store interface {
	// BeginIncarnation records a new incarnation and returns its generation.
	BeginIncarnation(ctx context.Context, build string, pid int) (int64, error)
	// Submit queues ops to be applied in one transaction, after every op
	// submitted before. It does not wait; the returned Pending does.
	Submit(ops ...Op) *Pending
	// Revivable calls fn for every running or failed activation.
	Revivable(ctx context.Context, fn func(id flow.ActivationID, flowName string, state State) error) error
	// Activation returns one activation.
	Activation(ctx context.Context, id flow.ActivationID) (Activation, error)
	// Activations lists activations in id order.
	Activations(ctx context.Context, f Filter) ([]Activation, error)
	// Log returns an activation's log in step order.
	Log(ctx context.Context, id flow.ActivationID) ([]Entry, error)
	// Vow returns one vow.
	Vow(ctx context.Context, id flow.VowID) (Vow, error)
	// Waits returns the vows an activation waits for.
	Waits(ctx context.Context, id flow.ActivationID) ([]flow.VowID, error)
	// NextDeadline returns the earliest timer deadline, if any.
	NextDeadline(ctx context.Context) (time.Time, bool, error)
	// Incarnation returns one incarnation.
	Incarnation(ctx context.Context, gen int64) (Incarnation, error)
	// Check verifies the store's integrity and returns what is wrong.
	Check(ctx context.Context) error
	// Close stops taking ops, lets queued ones commit within ctx and
	// releases the store.
	Close(ctx context.Context) error
}

// Pending is a submission on its way to durability.
type Pending struct {
	ops  []Op
	done chan struct{}
	err  error
}

func newPending(ops []Op) *Pending {
	return &Pending{ops: ops, done: make(chan struct{})}
}

// Wait blocks until the ops are durable, or failed, and returns the error.
func (p *Pending) Wait() error {
	<-p.done
	return p.err
}

// WaitContext is Wait, giving up when ctx ends. The ops may still commit.
func (p *Pending) WaitContext(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Apply submits ops and waits for them.
func Apply(ctx context.Context, s Store, ops ...Op) error {
	return s.Submit(ops...).WaitContext(ctx)
}
