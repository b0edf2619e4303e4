package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// ErrNotInFlow is returned when a guest proxy or a flow operation is used with
// a context that does not belong to a running flow.
var ErrNotInFlow = errors.New("flow: not called from a flow")

// ErrCancelled is the error a flow returns, wrapped as it likes, when it
// gives up because its cancellation was requested ([Cancellation]), so that
// hosts can tell with errors.Is. Outcomes rejected by an administrator's
// cancel before it was named terminate ([ErrTerminated]) carry it too.
var ErrCancelled = errors.New("flow: activation cancelled")

// ErrTerminated is the error an activation's outcome is rejected with when
// an administrator terminates it (runtime's Admin.Terminate): it is given up
// at once and runs nothing more, not even its deferred calls' host calls.
var ErrTerminated = errors.New("flow: activation terminated")

// ErrUnknownService is returned to a host when a reference names a service
// that this incarnation does not provide.
var ErrUnknownService = errors.New("flow: no such service")

// ErrUnknownMethod is returned by a service dispatcher for a method it does
// not have.
var ErrUnknownMethod = errors.New("flow: no such method")

// Error is an error that crossed the membrane: what a guest sees for an error a
// host returned, and what a host sees for an error a flow returned. It keeps
// the original message and a stable code. If the code was registered with
// [RegisterError], errors.Is matches the registered sentinel, after replay and
// in any later incarnation.
//
// An error crosses with the code of an *Error in its chain, else the result
// of a FlowErrorCode() string method in its chain, else the code of the first
// registered sentinel it matches with errors.Is, else none.
type Error struct {
	Code    string // stable code; empty if the error was not registered
	Message string // the original err.Error()
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel registered for e.Code, if any.
func (e *Error) Unwrap() error {
	if e.Code == "" {
		return nil
	}
	s, _ := lookupCode(e.Code)
	return s
}

// Is reports whether target is an *Error with the same non-empty code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

type registeredError struct {
	code string
	err  error
}

var errRegistry struct {
	sync.RWMutex
	byCode map[string]error
	list   []registeredError
}

// RegisterError ties a sentinel error to a stable code, so that errors.Is(err,
// sentinel) still holds for an error that crossed the membrane. Generated code
// registers the exported Err… variables of a flow package, coded
// "<package>.<Name>". Registering one code for two different errors panics:
// it is a programming mistake.
func RegisterError(code string, err error) {
	if code == "" || err == nil {
		panic("flow: RegisterError needs a code and an error")
	}
	errRegistry.Lock()
	defer errRegistry.Unlock()
	if errRegistry.byCode == nil {
		errRegistry.byCode = map[string]error{}
	}
	if prev, ok := errRegistry.byCode[code]; ok {
		if prev == err {
			return
		}
		panic(fmt.Sprintf("flow: error code %q registered twice, for %q and %q", code, prev, err))
	}
	errRegistry.byCode[code] = err
	errRegistry.list = append(errRegistry.list, registeredError{code, err})
}

func lookupCode(code string) (error, bool) {
	errRegistry.RLock()
	defer errRegistry.RUnlock()
	err, ok := errRegistry.byCode[code]
	return err, ok
}

// errorCode returns the stable code err crosses the membrane with (see
// [Error]).
func errorCode(err error) string {
	var fe *Error
	if errors.As(err, &fe) && fe.Code != "" {
		return fe.Code
	}
	var coded interface{ FlowErrorCode() string }
	if errors.As(err, &coded) {
		return coded.FlowErrorCode()
	}
	errRegistry.RLock()
	defer errRegistry.RUnlock()
	for _, r := range errRegistry.list {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	return ""
}

func init() {
	RegisterError("context.Canceled", context.Canceled)
	RegisterError("context.DeadlineExceeded", context.DeadlineExceeded)
	RegisterError("flow.Cancelled", ErrCancelled)
	RegisterError("flow.Terminated", ErrTerminated)
	RegisterError("flow.NotInFlow", ErrNotInFlow)
	RegisterError("flow.UnknownService", ErrUnknownService)
	RegisterError("flow.UnknownMethod", ErrUnknownMethod)
	codec.SetErrorCodec(codec.ErrorCodec{
		Encode: func(err error) (string, string) { return errorCode(err), err.Error() },
		Decode: func(code, msg string) error { return &Error{Code: code, Message: msg} },
	})
}
