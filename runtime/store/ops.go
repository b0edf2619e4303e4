package store

import (
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Op is one write. Ops are plain data: each store implementation applies them
// in a transaction and fills in their results.
type Op interface{ op() }

// CreateActivation inserts a running activation and its pending outcome vow,
// unless an activation with the id exists; then Existing holds that one.
type CreateActivation struct {
	Activation Activation // ID, Flow, StartKey, Args, Outcome, CreatedGen
	Existing   *Activation
}

// Append adds one entry to an activation's log.
type Append struct {
	Act   flow.ActivationID
	Entry Entry
}

// CreateVow inserts a pending vow, with a timer if Deadline is set.
type CreateVow struct {
	ID       flow.VowID
	Gen      int64
	Deadline time.Time // zero: no timer
}

// SettleVow settles a pending vow and wakes its waiters: their waits are
// removed and suspended ones become running. Settled is false if the vow was
// already settled or does not exist (Missing).
type SettleVow struct {
	ID      flow.VowID
	State   VowState // VowFulfilled or VowRejected
	Payload []byte
	Gen     int64

	Settled bool
	Missing bool
	Waiters []flow.ActivationID
}

// Watch is an activation waiting for vows. If one is settled already, Index is
// the position of the first in Vows order and Vow holds it. Otherwise waits
// are recorded for each and, with Suspend, the activation becomes suspended.
// Missing is the position of the first vow that does not exist, or -1.
type Watch struct {
	Act     flow.ActivationID
	Vows    []flow.VowID
	Suspend bool
	Gen     int64

	Index   int
	Vow     Vow
	Missing int
}

// SetState changes an activation's state, with a failure diagnostic for Failed
// (cleared for any other state).
type SetState struct {
	Act     flow.ActivationID
	State   State
	Failure []byte
	Gen     int64
}

// Finish settles an activation's outcome vow, marks it done and deletes its
// log and waits: what happens when a flow returns, or is cancelled.
// Waiters are the activations woken by the outcome.
type Finish struct {
	Act     flow.ActivationID
	State   VowState // VowFulfilled or VowRejected
	Payload []byte
	Gen     int64

	Finished bool       // false if the activation was already done or is missing
	Outcome  flow.VowID // the outcome vow settled
	Waiters  []flow.ActivationID
}

// FireTimers fulfils, with its deadline, every timer vow whose deadline is at
// or before Now, up to Limit of them, and wakes their waiters.
type FireTimers struct {
	Now   time.Time
	Limit int
	Gen   int64
	// EncodeDeadline encodes the value a timer vow is fulfilled with.
	EncodeDeadline func(time.Time) []byte

	Fired []Fired
}

// Fired is a timer vow FireTimers fulfilled.
type Fired struct {
	Vow     flow.VowID
	Payload []byte
	Waiters []flow.ActivationID
}

func (*CreateActivation) op() {}
func (*Append) op()           {}
func (*CreateVow) op()        {}
func (*SettleVow) op()        {}
func (*Watch) op()            {}
func (*SetState) op()         {}
func (*Finish) op()           {}
func (*FireTimers) op()       {}
