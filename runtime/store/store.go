package store

import (
	"bytes"
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

// VowKind says what made a vow, and so what may settle it.
type VowKind int

// Vow kinds as stored.
const (
	HostVow    VowKind = 0 // made for the host (runtime.NewVow); the host settles it
	OutcomeVow VowKind = 1 // an activation's outcome; settled when the activation finishes
	TimerVow   VowKind = 2 // a durable timer; settled when its deadline passes
	// ReceiverVow is a receiver in an activation's mailbox; settled by the
	// message it takes.
	ReceiverVow VowKind = 3
	CancelVow   VowKind = 4 // an activation's cancellation; settled by RequestCancel
)

func (k VowKind) String() string {
	switch k {
	case HostVow:
		return "host vow"
	case OutcomeVow:
		return "outcome vow"
	case TimerVow:
		return "timer vow"
	case ReceiverVow:
		return "receiver vow"
	case CancelVow:
		return "cancellation vow"
	}
	return "vowkind(" + strconv.Itoa(int(k)) + ")"
}

// Entry is one entry of an activation's log. Kind and Payload are the
// runtime's; a store keeps them as given.
type Entry struct {
	Step    int64
	Kind    int
	Gen     int64     // incarnation that wrote it
	At      time.Time // when it was written, by the writer's clock
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
	// Parent is the activation that started this one as its child; zero
	// for an activation a host started.
	Parent flow.ActivationID
	// Run counts the activation's runs: 0 for the first, one more each time
	// it continues as new (see Continue), and RunArgs are the current run's
	// arguments after the first (Args stay those it was started with).
	Run     int
	RunArgs []byte

	// Created is when it was started; StateSince when it entered its
	// current state (a change to the state it is in keeps it); Finished
	// when it was done, zero before. All are the writers' clocks.
	Created    time.Time
	StateSince time.Time
	Finished   time.Time

	// Read, never written: Changed is the later of StateSince and the time
	// of its last log entry, LastGen the greater of Gen and the incarnation
	// of its last log entry — when, and by which incarnation, it was last
	// written.
	Changed time.Time
	LastGen int64
}

// CurrentArgs returns the arguments of the activation's current run.
func (a Activation) CurrentArgs() []byte {
	if a.Run > 0 {
		return a.RunArgs
	}
	return a.Args
}

// Position is where an activation stands in a listing: listings are newest
// first, by Created and then by ID, both descending.
func (a Activation) Position() Cursor { return Cursor{Created: a.Created, ID: a.ID} }

// Vow is a vow's row.
type Vow struct {
	ID      flow.VowID
	Kind    VowKind
	State   VowState
	Payload []byte // the value or the error, once settled
	Gen     int64  // incarnation that created or settled it
}

// Message is a signal sent to an activation and not yet received: it waits
// in the activation's mailbox Name for a receiver.
type Message struct {
	Seq     int64  // its place among the messages sent to the activation, from 1
	Name    string // the mailbox
	Key     string // the sender's idempotency key, if any
	Payload []byte
	Gen     int64 // incarnation that sent it
}

// Status is a value an activation published under a name; a later
// publication under the name replaces it.
type Status struct {
	Name    string
	Payload []byte
	Gen     int64 // incarnation that published it
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
	// Build selects the activations started by an incarnation of this
	// build.
	Build string
	// Since and Until select those created at or after Since and before
	// Until.
	Since, Until time.Time
	// After resumes a listing: only activations after this position, in
	// listing order (older ones, or as old with a smaller id). Zero starts
	// from the newest.
	After Cursor
	Limit int // at most this many; 0 means 1000
}

// Cursor is a position in a listing; see [Activation.Position].
type Cursor struct {
	Created time.Time
	ID      flow.ActivationID
}

// IsZero reports whether c is the start of a listing.
func (c Cursor) IsZero() bool { return c.Created.IsZero() && c.ID.IsZero() }

// Before reports whether c is listed before d: c is newer, or as new with
// a greater id.
func (c Cursor) Before(d Cursor) bool {
	if !c.Created.Equal(d.Created) {
		return c.Created.After(d.Created)
	}
	return bytes.Compare(c.ID[:], d.ID[:]) > 0
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
	// submitted before. It does not wait; the returned Pending does, and
	// the submitter must wait for it (Wait, WaitContext or Done): a store
	// may leave the transaction to the waiter (Pending.Defer).
	Submit(ops ...Op) *Pending
	// Revivable calls fn for every running or failed activation, and stops
	// at the first error fn returns, returning it.
	Revivable(ctx context.Context, fn func(id flow.ActivationID, flowName string, state State) error) error
	// Activation returns one activation, or ErrNotFound.
	Activation(ctx context.Context, id flow.ActivationID) (Activation, error)
	// ActivationsByKey returns the activations started with key (the id
	// given to StartWithID), newest first: one per flow at most.
	ActivationsByKey(ctx context.Context, key string) ([]Activation, error)
	// ActivationByOutcome returns the activation whose outcome is vow, or
	// ErrNotFound.
	ActivationByOutcome(ctx context.Context, vow flow.VowID) (Activation, error)
	// Activations lists the activations f selects, newest first (see
	// Cursor), from an index: the cost of a page does not grow with the
	// activations f leaves out of it as far as an index can tell them. A
	// row it cannot read back is reported to the store's logger and left
	// out, and the page is filled from the rows after it: one damaged row
	// never fails a listing.
	Activations(ctx context.Context, f Filter) ([]Activation, error)
	// Count returns how many activations f selects, ignoring f.After; with
	// f.Limit set it counts no further than that.
	Count(ctx context.Context, f Filter) (int, error)
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
	// Children returns the activations parent started as its children, in
	// id order.
	Children(ctx context.Context, parent flow.ActivationID) ([]Activation, error)
	// Mailbox returns the messages sent to an activation that no receiver
	// has taken yet, in the order they were sent.
	Mailbox(ctx context.Context, act flow.ActivationID) ([]Message, error)
	// Status returns what an activation published under name, or
	// ErrNotFound if it published nothing under it.
	Status(ctx context.Context, act flow.ActivationID, name string) (Status, error)
	// Statuses returns everything an activation published, in name order.
	Statuses(ctx context.Context, act flow.ActivationID) ([]Status, error)
	// Incarnation returns one incarnation, or ErrNotFound.
	Incarnation(ctx context.Context, gen int64) (Incarnation, error)
	// Check verifies the store's integrity and returns what is wrong.
	Check(ctx context.Context) error
	// Close stops taking ops, lets those already submitted commit within ctx
	// and releases the store. Every operation after it returns ErrClosed; a
	// second Close returns what the first returned.
	Close(ctx context.Context) error
}

// FlowCount is how many unfinished activations of one flow are in one
// state.
type FlowCount struct {
	Flow  string
	State State // Running, Suspended or Failed
	Count int
}

// Censuser is implemented by stores that count their unfinished
// activations by flow and state in one read. The runtime's start summary
// and the replay gate use it; for a store without it they page through the
// activations instead.
type Censuser interface {
	// Census returns the counts of unfinished activations by flow and
	// state, in flow then state order, leaving out zero counts.
	Census(ctx context.Context) ([]FlowCount, error)
}

// Backuper is implemented by stores that write a consistent copy of
// themselves while in use, which the replay gate can read.
type Backuper interface {
	// Backup writes a copy holding every submission released before it
	// began and none after to dest, which must not exist.
	Backup(ctx context.Context, dest string) error
}

// LogReader is implemented by stores that read the logs of many
// activations in one read, which the replay gate uses: reading them one by
// one costs it more than replaying them.
type LogReader interface {
	// Logs calls fn once for each of ids, in their order, with its log in
	// step order (empty for an activation without entries) or why it could
	// not be read (ErrCorrupt for a damaged log). An error of the read
	// itself is returned.
	Logs(ctx context.Context, ids []flow.ActivationID, fn func(id flow.ActivationID, log []Entry, err error)) error
}
