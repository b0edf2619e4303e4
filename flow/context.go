package flow

import (
	"context"
	"strconv"
	"time"
)

// Context is the context a flow runs in. It is a [context.Context] that never
// ends — Done returns nil, Err nil, Deadline none — and carries the running
// activation, which guest proxies and the functions of this package reach
// through Value. Pass it (or a context derived from it) to host methods.
type Context interface {
	context.Context
	// Activation returns the id of the running activation.
	Activation() ActivationID
	guest() Guest
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

// Guest is the membrane as seen from inside a flow. A runtime implements it and
// hands it to [NewContext]; flows use the functions of this package instead.
// Every method may end the calling goroutine with runtime.Goexit when the
// activation cannot go on (a replay failure, a cancellation, shutdown).
type Guest interface {
	// Activation returns the id of the running activation.
	Activation() ActivationID
	// Call makes a host call and returns its encoded result tuple, or the
	// error the host returned.
	Call(target Ref, method string, args []byte) ([]byte, error)
	// Issue starts a host call without waiting and returns its future's number.
	Issue(target Ref, method string, args []byte) int
	// Await blocks until every key is settled or, with race, until one is; it
	// returns the index of the winner of a race and -1 otherwise.
	Await(keys []AwaitKey, race bool) int
	// Settlement returns the settlement of a key Await has observed: the
	// encoded value, or the rejection.
	Settlement(key AwaitKey) ([]byte, error)
	// Now returns the current time, logged.
	Now() time.Time
	// After returns a vow the runtime fulfils with its deadline after d.
	After(d time.Duration) VowID
	// Patched implements [Patched].
	Patched(id string) bool
	// Diverge reports that the guest cannot go on consistently with its log,
	// for instance because a logged value does not decode into the type the
	// code now expects. It does not return.
	Diverge(reason string)
}

type guestKey struct{}

type fcontext struct{ g Guest }

// NewContext returns the Context a runtime passes to a flow it runs.
func NewContext(g Guest) Context { return &fcontext{g: g} }

func (c *fcontext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *fcontext) Done() <-chan struct{}       { return nil }
func (c *fcontext) Err() error                  { return nil }
func (c *fcontext) Activation() ActivationID    { return c.g.Activation() }
func (c *fcontext) guest() Guest                { return c.g }
func (c *fcontext) String() string              { return "flow.Context(" + c.g.Activation().String() + ")" }
func (c *fcontext) Value(key any) any {
	if key == (guestKey{}) {
		return c
	}
	return nil
}

// FromContext returns the flow Context ctx is, or is derived from.
func FromContext(ctx context.Context) (Context, bool) {
	if ctx == nil {
		return nil, false
	}
	fc, ok := ctx.Value(guestKey{}).(*fcontext)
	return fc, ok
}

func guestOf(ctx context.Context) Guest {
	fc, ok := FromContext(ctx)
	if !ok {
		panic("flow: " + ErrNotInFlow.Error() + ": this operation needs the flow.Context of a running flow")
	}
	return fc.guest()
}

// Call crosses the membrane with a host call; generated guest proxies use it.
// args is the encoded argument tuple; the result is the encoded result tuple,
// or the error the host returned. Outside a flow it returns [ErrNotInFlow].
func Call(ctx context.Context, target Ref, method string, args []byte) ([]byte, error) {
	fc, ok := FromContext(ctx)
	if !ok {
		return nil, ErrNotInFlow
	}
	return fc.guest().Call(target, method, args)
}

// Go starts a host call without waiting for it; generated async proxies use
// it. The future settles with the call's result tuple, which must hold one
// value of type T (or none, for struct{}). It panics outside a flow.
func Go[T any](ctx context.Context, target Ref, method string, args []byte) Future[T] {
	return Future[T]{n: guestOf(ctx).Issue(target, method, args)}
}

// Diverge ends the running flow as a replay failure with reason; generated
// code calls it when a logged value no longer decodes. It does not return.
func Diverge(ctx context.Context, reason string) {
	guestOf(ctx).Diverge(reason)
}

// DecodeResult decodes a result tuple returned by [Call] into outs, which must
// be pointers. If the bytes do not fit (a log written by older code whose
// types changed incompatibly), the flow ends as a replay failure naming what
// did not fit.
func DecodeResult(ctx context.Context, what string, res []byte, outs ...any) {
	d := Results(ctx, what, res, len(outs))
	for _, o := range outs {
		d.Value(o)
	}
	Decoded(ctx, what, d, res)
}

// CallInfo describes a host call to the host that performs it.
type CallInfo struct {
	Activation ActivationID
	Flow       string // the flow's durable name
	Index      int    // the call's index among the activation's host calls, from 0
	Target     Ref
	Method     string
}

// IdempotencyKey is the key a host uses to make the call's effect happen once:
// activation id, call index, target and method. A call made again after a
// crash, because its result was not logged, has the same key.
func (c CallInfo) IdempotencyKey() string {
	t := c.Target.Name
	if c.Target.Kind == RefObject {
		t += "[" + c.Target.Key + "]"
	}
	return c.Activation.String() + "/" + strconv.Itoa(c.Index) + "/" + t + "." + c.Method
}

type callInfoKey struct{}

// CallInfoFrom returns the CallInfo of the host call ctx belongs to.
func CallInfoFrom(ctx context.Context) (CallInfo, bool) {
	info, ok := ctx.Value(callInfoKey{}).(CallInfo)
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
