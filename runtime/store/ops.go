package store

import (
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Op is one write. Ops are plain data: each store implementation applies them
// in a transaction and fills in their results. The set is closed: these are
// all the ops there are.
type Op interface{ op() }

// CreateActivation inserts a running activation and its pending outcome vow
// (of kind OutcomeVow), unless an activation with the id exists; then
// nothing is written and Existing holds the stored one, whatever its state.
type CreateActivation struct {
	Activation Activation // ID, Flow, StartKey, Args, Outcome, CreatedGen, Created (also its StateSince)
	Existing   *Activation
}

// Append adds one entry to an activation's log, At included. A step the log
// holds already fails the submission.
type Append struct {
	Act   flow.ActivationID
	Entry Entry
}

// CreateVow inserts a pending vow of the given kind, with a timer if
// Deadline is set. An id that exists already fails the submission.
type CreateVow struct {
	ID       flow.VowID
	Kind     VowKind // HostVow, or TimerVow for one with a Deadline
	Gen      int64
	Deadline time.Time // zero: no timer
}

// SettleVow settles a pending vow and wakes its waiters: all their waits are
// removed and the suspended ones become running, running since At. Settled
// is false if the vow was settled already (it is left as it was) or does not
// exist (Missing). With HostOnly, a vow that is not a HostVow is left as it
// is too: Settled is false and Kind says what it is.
type SettleVow struct {
	ID       flow.VowID
	State    VowState // VowFulfilled or VowRejected
	Payload  []byte
	Gen      int64
	At       time.Time
	HostOnly bool

	Settled bool
	Missing bool
	Kind    VowKind // the vow's kind, if it exists
	Waiters []flow.ActivationID
}

// Watch is an activation waiting for vows. If one of them does not exist,
// Missing is the position of the first such and nothing is recorded.
// Otherwise, if one is settled already, Index is the position of the first
// in Vows order and Vow holds it; nothing is recorded. Otherwise waits are
// recorded for each and, with Suspend, a running activation becomes
// suspended, suspended since At. Index and Missing are -1 when they say
// nothing.
type Watch struct {
	Act     flow.ActivationID
	Vows    []flow.VowID
	Suspend bool
	Gen     int64
	At      time.Time

	Index   int
	Vow     Vow
	Missing int
}

// SetState changes an activation's state, with a failure diagnostic for Failed
// (cleared for any other state), in that state since At unless it was in it
// already. An activation that does not exist is left so; that is not an
// error.
type SetState struct {
	Act     flow.ActivationID
	State   State
	Failure []byte
	Gen     int64
	At      time.Time
}

// Finish settles an activation's outcome vow, marks it done (finished and in
// that state since At), clears its failure and deletes its waits and, unless
// KeepLog, its log: what happens when a flow returns, or is cancelled.
// Waiters are the activations woken by the outcome. Finished is false, and
// nothing is written, if the activation is done already or does not exist.
type Finish struct {
	Act     flow.ActivationID
	State   VowState // VowFulfilled or VowRejected
	Payload []byte
	Gen     int64
	At      time.Time
	KeepLog bool // keep the log, for audit, until the activation is purged

	Finished bool
	Outcome  flow.VowID // the outcome vow settled
	Waiters  []flow.ActivationID
}

// Purge deletes done activations that finished before Before, oldest
// first, up to Limit of them (0 means DefaultLimit): their rows, logs and
// outcome vows. Purged is how many it deleted; fewer than the limit means
// none is left to purge. Once purged, an activation is not found, and its
// start key may start a new one.
type Purge struct {
	Before time.Time
	Limit  int

	Purged int
}

// FireTimers fulfils, with its deadline, every timer vow whose deadline is at
// or before Now, earliest first, up to Limit of them (0 means DefaultLimit),
// and wakes their waiters (running since Now). A fired timer is gone, whether
// or not its vow was still pending; Fired lists those whose vow it settled.
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
func (*Purge) op()            {}
