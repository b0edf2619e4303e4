package runtime

import "errors"

// The sentinels' texts carry no package prefix: the runtime wraps each in an
// error that says what failed, such as
// "runtime: retry 3f…a1: flow not registered in this incarnation", and
// callers test them with errors.Is.

// ErrClosed is returned when the runtime is closed or closing.
var ErrClosed = errors.New("closed")

// ErrNotStarted is returned when an activation is started before Start.
var ErrNotStarted = errors.New("not started; register every flow, then call Start")

// ErrStarted is returned when Start is called twice.
var ErrStarted = errors.New("already started")

// ErrStartConflict is returned by StartWithID when an activation with that id
// exists with different arguments.
var ErrStartConflict = errors.New("an activation with this id exists with other arguments")

// ErrUnknownVow is returned for a vow id that is not in the store.
var ErrUnknownVow = errors.New("no such vow")

// ErrAlreadySettled is returned when a vow that is already settled is
// resolved or rejected again.
var ErrAlreadySettled = errors.New("vow already settled")

// ErrRuntimeVow is returned when the host resolves or rejects a vow that
// belongs to the runtime: an activation's outcome, settled when its flow
// returns, or a flow's timer, settled when its deadline passes.
var ErrRuntimeVow = errors.New("vow belongs to the runtime")

// ErrUnknownActivation is returned for an activation id that is not in the
// store.
var ErrUnknownActivation = errors.New("no such activation")

// ErrNotFailed is returned by Admin.Retry for an activation that is not
// failed.
var ErrNotFailed = errors.New("activation is not failed")

// ErrFinished is returned by Admin.Terminate and Admin.RequestCancel for an
// activation that is done, and by a send to one: a finished activation takes
// no more messages.
var ErrFinished = errors.New("activation already finished")

// ErrUnknownState is returned for a state name that is none of the State
// constants.
var ErrUnknownState = errors.New("no such state")

// ErrBadCursor is returned for a listing position that no listing gave.
var ErrBadCursor = errors.New("not a listing cursor")

// ErrAmbiguous is returned by Admin.Find for a start key that activations of
// several flows were started with; the error names them, by id.
var ErrAmbiguous = errors.New("several activations have this start key; name one by id")

// ErrNoRuntime is returned by the Admin operations that need the flows'
// code or registry (Retry, Wake, WakeAll, Unregistered) on an Admin that has
// a store alone: reach the running process instead.
var ErrNoRuntime = errors.New("needs a running process with the flows registered")

// ErrSendConflict is returned by a send with an idempotency key that was
// taken before with another message.
var ErrSendConflict = errors.New("this idempotency key was sent before with another message")

// ErrOtherFlow is returned when an activation named by id through a flow's
// handle is an activation of another flow.
var ErrOtherFlow = errors.New("the activation is not one of the flow")

// ErrUnregistered is returned when an operation needs the flow of an
// activation that this incarnation has not registered.
var ErrUnregistered = errors.New("flow not registered in this incarnation")

// ErrStuck is matched by a *StuckError: Wait for the outcome of an
// activation that cannot finish in this incarnation.
var ErrStuck = errors.New("activation stuck")

// ErrElsewhere is returned by Admin.Cancel, on a store that several
// processes share, for an activation another live process is running or
// holds while it sleeps: cancel it there.
var ErrElsewhere = errors.New("activation held by another process")
