package store

import (
	"fmt"
	"strconv"
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
// An activation with a Parent is a child: Children lists it under its
// parent.
type CreateActivation struct {
	Activation Activation // ID, Flow, StartKey, Args, Outcome, CreatedGen, Created (also its StateSince), Parent
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
// that state since At), clears its failure and deletes its waits, its
// mailbox (messages no receiver took are dropped; receivers left pending
// stay so) and, unless KeepLog, its log: what happens when a flow returns,
// or is cancelled. What it published stays. Waiters are the activations
// woken by the outcome. Finished is false, and nothing is written, if the
// activation is done already or does not exist.
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
// first, up to Limit of them (0 means DefaultLimit): their rows, logs,
// outcome vows and what they published. Purged is how many it deleted; fewer than the limit means
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

// Send puts a message into an activation's mailbox Name, durably and after
// every message sent to it before. If a receiver waits in that mailbox, the
// earliest one takes it: its vow is fulfilled with Payload and its waiters
// woken, running since At, as SettleVow does. Otherwise the message waits for the next
// Receive. With a Key, the message is taken once: a later Send with the same
// activation, mailbox and key writes nothing (Duplicate, or Conflict if its
// payload differs), even after the message was received. A Send to an
// activation that is done, does not exist, or (with Flow set) is of another
// flow writes nothing.
type Send struct {
	Act     flow.ActivationID
	Flow    string // the flow the activation must be of; empty: any
	Name    string
	Key     string // idempotency key; empty: none
	Payload []byte
	Gen     int64
	At      time.Time

	Result  SendResult
	Seq     int64      // the message's place, for Queued and Delivered
	Vow     flow.VowID // the receiver it settled, for Delivered
	Waiters []flow.ActivationID
}

// SendResult says what became of a Send.
type SendResult int

// Send results.
const (
	Queued           SendResult = iota + 1 // in the mailbox, for the next receiver
	Delivered                              // taken by a receiver that waited
	Duplicate                              // its key was taken with the same payload; nothing written
	Conflict                               // its key was taken with another payload; nothing written
	Finished                               // the activation is done; nothing written
	NoSuchActivation                       // nothing written
	OtherFlow                              // the activation is of another flow; nothing written
)

func (r SendResult) String() string {
	switch r {
	case Queued:
		return "queued"
	case Delivered:
		return "delivered"
	case Duplicate:
		return "duplicate"
	case Conflict:
		return "conflict"
	case Finished:
		return "finished"
	case NoSuchActivation:
		return "no such activation"
	case OtherFlow:
		return "other flow"
	}
	return "sendresult(" + strconv.Itoa(int(r)) + ")"
}

// Receive creates Vow, a pending vow of kind ReceiverVow, as a receiver in
// an activation's mailbox Name: the next message of that mailbox fulfils it. If messages
// wait there, the earliest does so at once (Delivered) and leaves the
// mailbox; otherwise the receiver waits behind the mailbox's earlier ones,
// for a Send. An id that exists already fails the submission.
type Receive struct {
	Act  flow.ActivationID
	Name string
	Vow  flow.VowID
	Gen  int64

	Delivered bool
	Seq       int64 // the message's place, when Delivered
}

// Publish sets what an activation published under Name to Payload: the last
// publication wins. It stays after the activation is done.
type Publish struct {
	Act     flow.ActivationID
	Name    string
	Payload []byte
	Gen     int64
}

// Continue ends an activation's current run and starts the next, which
// continues as new with Args (its RunArgs): Run becomes one more, the log,
// the waits, the receivers waiting in its mailboxes (their vows stay
// pending: messages go to the next run's) and any failure are deleted, and
// the activation is running, since At (unless it was running already). Its
// id, start key, start arguments, outcome vow, mailboxes' messages,
// statuses and creation stay. Receivers are the run's receivers whose
// messages it has not read: if one of them has taken a message, that
// message would be lost, so nothing is written and Unread is its position.
// Continued is false, and nothing is written, if the activation is done or
// does not exist; Run is then 0 and Unread -1.
type Continue struct {
	Act       flow.ActivationID
	Args      []byte
	Receivers []flow.VowID
	Gen       int64
	At        time.Time

	Continued bool
	Run       int // the new run's number
	Unread    int // position in Receivers of one that took a message, or -1
}

// EnsureVow creates a pending vow of the given kind unless a vow with the
// id exists, whatever its kind and state; Created says whether it did.
type EnsureVow struct {
	ID   flow.VowID
	Kind VowKind
	Gen  int64

	Created bool
}

// RequestCancel asks an activation to cancel: it fulfils the activation's
// cancellation vow Vow — a CancelVow, created if it does not exist — with
// Payload, and wakes its waiters as SettleVow does (running since At).
// Nothing is written if the activation is done or does not exist, or if the
// vow is settled already; Result says which.
type RequestCancel struct {
	Act     flow.ActivationID
	Vow     flow.VowID
	Payload []byte
	Gen     int64
	At      time.Time

	Result  CancelResult
	Waiters []flow.ActivationID
}

// CancelResult says what became of a RequestCancel.
type CancelResult int

// RequestCancel results.
const (
	CancelRequested    CancelResult = iota + 1 // the vow is fulfilled now
	CancelAlready                              // it was settled before; nothing written
	CancelFinished                             // the activation is done; nothing written
	CancelNoActivation                         // there is no such activation; nothing written
)

func (r CancelResult) String() string {
	switch r {
	case CancelRequested:
		return "requested"
	case CancelAlready:
		return "already requested"
	case CancelFinished:
		return "finished"
	case CancelNoActivation:
		return "no such activation"
	}
	return "cancelresult(" + strconv.Itoa(int(r)) + ")"
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
func (*Send) op()             {}
func (*Receive) op()          {}
func (*Publish) op()          {}
func (*Continue) op()         {}
func (*EnsureVow) op()        {}
func (*RequestCancel) op()    {}

// OpName names an op in a store's errors: "append", "settle vow", …
func OpName(op Op) string {
	switch op.(type) {
	case *Append:
		return "append"
	case *CreateActivation:
		return "create activation"
	case *CreateVow:
		return "create vow"
	case *SettleVow:
		return "settle vow"
	case *Watch:
		return "watch"
	case *SetState:
		return "set state"
	case *Finish:
		return "finish"
	case *FireTimers:
		return "fire timers"
	case *Purge:
		return "purge"
	case *Send:
		return "send"
	case *Receive:
		return "receive"
	case *Publish:
		return "publish"
	case *Continue:
		return "continue"
	case *EnsureVow:
		return "ensure vow"
	case *RequestCancel:
		return "request cancel"
	}
	return fmt.Sprintf("%T", op)
}
