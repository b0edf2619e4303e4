package flow

import (
	"context"
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// Context is the context a flow runs in. It is a [context.Context] that never
// ends — Done returns nil, Err nil, Deadline none — and carries the running
// activation, which guest proxies and the functions of this package reach
// through Value. Pass it (or a context derived from it) to host methods.
type Context interface {
	context.Context
	// Activation returns the id of the running activation.
	Activation() ActivationID
	guest() guest
}

// AwaitKey names something a flow can wait for: a vow, or a future of the
// running activation.
type AwaitKey struct {
	Vow    VowID
	Future int // the future's number (from 1) for a future; 0 for a vow
}

func (k AwaitKey) String() string {
	if k.Future > 0 {
		return "future#" + strconv.Itoa(k.Future)
	}
	return "vow:" + k.Vow.String()
}

// guest is the membrane as seen from inside a flow: flowimpl.Guest, which a
// runtime implements, declared again here because flow cannot import
// flowimpl. Every method may end the calling goroutine with runtime.Goexit
// when the activation cannot go on.
type guest interface {
	Activation() ActivationID
	Call(target Ref, method string, args []byte) ([]byte, error)
	Issue(target Ref, method string, args []byte) int
	Await(keys []AwaitKey, race bool) int
	Settlement(key AwaitKey) ([]byte, error)
	Rejection(key AwaitKey) error
	Now() time.Time
	After(d time.Duration) VowID
	Patched(id string) bool
	Random() uint64
	UUID() [16]byte
	Receive(mailbox string) VowID
	SetStatus(name string, value []byte)
	StartChild(flow string, args []byte) (ActivationID, VowID)
	Diverge(reason string)
	Cancellation() VowID
}

type contextKey struct{}

type fcontext struct{ g guest }

func init() {
	bridge.NewContext = func(g any) context.Context { return &fcontext{g: g.(guest)} }
}

func (c *fcontext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *fcontext) Done() <-chan struct{}       { return nil }
func (c *fcontext) Err() error                  { return nil }
func (c *fcontext) Activation() ActivationID    { return c.g.Activation() }
func (c *fcontext) guest() guest                { return c.g }
func (c *fcontext) String() string              { return "flow.Context(" + c.g.Activation().String() + ")" }
func (c *fcontext) Value(key any) any {
	switch key {
	case contextKey{}:
		return c
	case bridge.GuestKey{}:
		return c.g
	}
	return nil
}

// FromContext returns the flow Context ctx is, or is derived from.
func FromContext(ctx context.Context) (Context, bool) {
	if ctx == nil {
		return nil, false
	}
	fc, ok := ctx.Value(contextKey{}).(*fcontext)
	return fc, ok
}

func guestOf(ctx context.Context) guest {
	fc, ok := FromContext(ctx)
	if !ok {
		panic("flow: " + ErrNotInFlow.Error() + ": this operation needs the flow.Context of a running flow")
	}
	return fc.guest()
}

// CallInfo describes a host call to the host that performs it.
type CallInfo struct {
	Activation ActivationID
	Flow       string // the flow's durable name
	// Run counts the activation's runs: 0 until it first continues as new
	// (the generated Continue…AsNew), then 1, and so on.
	Run     int
	Index   int // the call's index among the run's host calls, from 0
	Target  Ref
	Method  string
	Attempt int // which attempt of the call this is, from 1 (see RetryPolicy)
}

// IdempotencyKey is the key a host uses to make the call's effect happen once:
// activation id (with "~" and the run, after the first), call index, target
// and method.
// A call made again after a crash, because its result was not logged, has
// the same key, and so has every attempt of a call made again under a
// RetryPolicy: a host that keys its effect by it makes the call's effect
// once, whichever attempt gets through.
func (c CallInfo) IdempotencyKey() string {
	t := c.Target.Name
	if c.Target.Kind == RefObject {
		t += "[" + c.Target.Key + "]"
	}
	act := c.Activation.String()
	if c.Run > 0 {
		act += "~" + strconv.Itoa(c.Run)
	}
	return act + "/" + strconv.Itoa(c.Index) + "/" + t + "." + c.Method
}

// AttemptKey is the idempotency key of one attempt: IdempotencyKey with
// "#" and the attempt's number, from 1. An attempt made again after a crash
// has the same key; another attempt of the call has another.
func (c CallInfo) AttemptKey() string {
	return c.IdempotencyKey() + "#" + strconv.Itoa(max(c.Attempt, 1))
}

// CallInfoFrom returns the CallInfo of the host call ctx belongs to.
func CallInfoFrom(ctx context.Context) (CallInfo, bool) {
	info, ok := ctx.Value(bridge.CallInfoKey{}).(CallInfo)
	return info, ok
}

// IdempotencyKey returns the idempotency key of the host call ctx belongs to,
// or "" if ctx is not the context of a host call made by a flow.
func IdempotencyKey(ctx context.Context) string {
	info, ok := CallInfoFrom(ctx)
	if !ok {
		return ""
	}
	return info.IdempotencyKey()
}

// AttemptKey returns the key of the attempt of the host call ctx belongs
// to (see CallInfo.AttemptKey), or "" if ctx is not the context of a host
// call made by a flow.
func AttemptKey(ctx context.Context) string {
	info, ok := CallInfoFrom(ctx)
	if !ok {
		return ""
	}
	return info.AttemptKey()
}
