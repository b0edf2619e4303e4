package runtime

import "errors"

// ErrClosed is returned when the runtime is closed or closing.
var ErrClosed = errors.New("runtime: closed")

// ErrNotStarted is returned when an activation is started before Start.
var ErrNotStarted = errors.New("runtime: not started; register every flow, then call Start")

// ErrStarted is returned when a flow or service is registered after Start, or
// Start is called twice.
var ErrStarted = errors.New("runtime: already started")

// ErrStartConflict is returned by StartWithID when an activation with that id
// exists with different arguments.
var ErrStartConflict = errors.New("runtime: an activation with this id exists with other arguments")

// ErrUnknownVow is returned for a vow id that is not in the store.
var ErrUnknownVow = errors.New("runtime: no such vow")

// ErrAlreadySettled is returned when a vow that is already settled is
// resolved or rejected again.
var ErrAlreadySettled = errors.New("runtime: vow already settled")

// ErrUnknownActivation is returned for an activation id that is not in the
// store.
var ErrUnknownActivation = errors.New("runtime: no such activation")

// ErrNotFailed is returned by Admin.Retry for an activation that is not
// failed.
var ErrNotFailed = errors.New("runtime: activation is not failed")

// ErrFinished is returned by Admin.Cancel for an activation that is done.
var ErrFinished = errors.New("runtime: activation already finished")

// ErrUnregistered is returned when an operation needs the flow of an
// activation that this incarnation has not registered.
var ErrUnregistered = errors.New("runtime: flow not registered in this incarnation")
