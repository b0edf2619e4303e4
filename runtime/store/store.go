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

// Entry is one entry of an activation's log. Kind and Payload are the
// runtime's; a store keeps them as given.
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
	Payload []byte // the value or the error, once settled
	Gen     int64  // incarnation that created or settled it
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
	State State             // only this state
	Flow  string            // only this flow
	After flow.ActivationID // only ids after this one, for paging
	Limit int               // at most this many; 0 means 1000
}

// DefaultLimit is the number of activations a listing returns when its
// Filter sets no limit, and of timers FireTimers fires when it sets none.
const DefaultLimit = 1000

// Store is what the runtime needs of a log store. See the package
// documentation for what every implementation guarantees; the storetest
// package checks it.
type Store interface {
	// BeginIncarnation records a new incarnation of a host program and
	// returns its generation: positive, and greater than that of every
	// incarnation recorded before on the store.
	BeginIncarnation(ctx context.Context, build string, pid int) (int64, error)
	// Submit queues ops to be applied in one transaction, after every op
	// submitted before. It does not wait; the returned Pending does.
	Submit(ops ...Op) *Pending
	// Revivable calls fn for every running or failed activation, and stops
	// at the first error fn returns, returning it.
	Revivable(ctx context.Context, fn func(id flow.ActivationID, flowName string, state State) error) error
	// Activation returns one activation, or ErrNotFound.
	Activation(ctx context.Context, id flow.ActivationID) (Activation, error)
	// Activations lists the activations f selects, in id order.
	Activations(ctx context.Context, f Filter) ([]Activation, error)
	// Log returns an activation's log in step order; it is empty for an
	// activation without entries and for one that does not exist.
	Log(ctx context.Context, id flow.ActivationID) ([]Entry, error)
	// Vow returns one vow, or ErrNotFound.
	Vow(ctx context.Context, id flow.VowID) (Vow, error)
	// Waits returns the vows an activation waits for, in id order.
	Waits(ctx context.Context, id flow.ActivationID) ([]flow.VowID, error)
	// NextDeadline returns the earliest deadline of a timer not yet fired,
	// if there is one.
	NextDeadline(ctx context.Context) (time.Time, bool, error)
	// Incarnation returns one incarnation, or ErrNotFound.
	Incarnation(ctx context.Context, gen int64) (Incarnation, error)
	// Check verifies the store's integrity and returns what is wrong.
	Check(ctx context.Context) error
	// Close stops taking ops, lets those already submitted commit within ctx
	// and releases the store. Every operation after it returns ErrClosed; a
	// second Close returns what the first returned.
	Close(ctx context.Context) error
}
