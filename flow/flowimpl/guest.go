package flowimpl

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// Guest is the membrane as seen from inside a flow. A runtime implements it
// and hands it to [NewContext]; flows use the functions of package flow, and
// guest proxies those of this package. Every method may end the calling
// goroutine with runtime.Goexit when the activation cannot go on (a replay
// failure, a cancellation, shutdown).
type Guest interface {
	// Activation returns the id of the running activation.
	Activation() flow.ActivationID
	// Call makes a host call and returns its encoded result tuple, or the
	// error the host returned.
	Call(target flow.Ref, method string, args []byte) ([]byte, error)
	// Issue starts a host call without waiting and returns its future's
	// number.
	Issue(target flow.Ref, method string, args []byte) int
	// CallWith is Call under a retry policy.
	CallWith(target flow.Ref, method string, args []byte, p *Policy) ([]byte, error)
	// IssueWith is Issue under a retry policy.
	IssueWith(target flow.Ref, method string, args []byte, p *Policy) int
	// Await blocks until every key is settled or, with race, until one is;
	// it returns the index of the winner of a race and -1 otherwise.
	Await(keys []flow.AwaitKey, race bool) int
	// Settlement returns the settlement of a key Await has observed: the
	// encoded value, or the rejection. Reading the value of a message
	// takes it: the next Receive of its mailbox is for the message after.
	Settlement(key flow.AwaitKey) ([]byte, error)
	// Rejection returns the rejection of a key Await has observed, or nil
	// if it was fulfilled. Unlike Settlement, it takes no message.
	Rejection(key flow.AwaitKey) error
	// Now returns the current time, logged.
	Now() time.Time
	// After returns a vow the runtime fulfils with its deadline after d.
	After(d time.Duration) flow.VowID
	// Patched implements flow.Patched.
	Patched(id string) bool
	// Random returns 64 random bits, logged.
	Random() uint64
	// UUID returns 16 random bytes, logged, with the version and variant
	// bits of a version 4 UUID.
	UUID() [16]byte
	// Receive returns the vow the next message of the activation's mailbox
	// settles: the same one until the guest has read its value with
	// Settlement.
	Receive(mailbox string) flow.VowID
	// SetStatus publishes the encoded value under name.
	SetStatus(name string, value []byte)
	// StartChild starts an activation of the flow with durable name flow,
	// with the encoded argument tuple args, as a child of the running one,
	// and returns the child's id and outcome vow.
	StartChild(flow string, args []byte) (flow.ActivationID, flow.VowID)
	// Cancellation returns the id of the activation's cancellation vow.
	Cancellation() flow.VowID
	// Diverge reports that the guest cannot go on consistently with its log,
	// for instance because a logged value does not decode into the type the
	// code now expects. It does not return.
	Diverge(reason string)
}

// NewContext returns the Context a runtime passes to a flow it runs.
func NewContext(g Guest) flow.Context { return bridge.NewContext(g).(flow.Context) }

func guestOf(ctx context.Context) (Guest, bool) {
	if ctx == nil {
		return nil, false
	}
	g, ok := ctx.Value(bridge.GuestKey{}).(Guest)
	return g, ok
}

func mustGuest(ctx context.Context) Guest {
	g, ok := guestOf(ctx)
	if !ok {
		panic("flow: " + flow.ErrNotInFlow.Error() + ": this operation needs the flow.Context of a running flow")
	}
	return g
}

// mustEncode panics if the arguments of a call failed to encode (see the
// package documentation for why a panic).
func mustEncode(target flow.Ref, method string, args *codec.Encoder) {
	if err := args.Err(); err != nil {
		panic(fmt.Errorf("%s.%s: the arguments do not encode: %w", target, method, err))
	}
}

// Call crosses the membrane with a host call; generated guest proxies use it.
// args holds the encoded argument tuple; the result is the encoded result
// tuple, or the error the host returned. Outside a flow it returns
// [flow.ErrNotInFlow]. It panics if args failed to encode. A policy set on
// ctx with flow.WithRetry applies.
func Call(ctx context.Context, target flow.Ref, method string, args *codec.Encoder) ([]byte, error) {
	return CallWith(ctx, target, method, args, nil)
}

// Go starts a host call without waiting for it; generated async proxies use
// it. The future settles with the call's result tuple, which must hold one
// value of type T, none for struct{}, or several for a [TupleUnmarshaler].
// It panics outside a flow, and if args failed to encode. A policy set on
// ctx with flow.WithRetry applies.
func Go[T any](ctx context.Context, target flow.Ref, method string, args *codec.Encoder) flow.Future[T] {
	return GoWith[T](ctx, target, method, args, nil)
}

// Diverge ends the running flow as a replay failure with reason; generated
// code calls it when a logged value no longer decodes. It does not return.
func Diverge(ctx context.Context, reason string) {
	mustGuest(ctx).Diverge(reason)
}

// Results reads the header of res, a result tuple d decodes, which should
// hold n values; what names the call (Interface.Method). If the logged tuple
// holds another number (the method's results changed since it was logged),
// the flow ends as a replay failure. The proxy makes d itself
// (codec.NewDecoder(res)), so it stays on its stack.
func Results(ctx context.Context, what string, d *codec.Decoder, res []byte, n int) {
	if got := d.ReadList(); d.Err() == nil && got != n {
		Diverge(ctx, what+": the logged result "+codec.Format(res)+" has "+strconv.Itoa(got)+" values, the code expects "+strconv.Itoa(n))
	}
}

// Decoded ends decoding what Results started from b; if the bytes did not
// fit, the flow ends as a replay failure naming what did not.
func Decoded(ctx context.Context, what string, d *codec.Decoder, b []byte) {
	if err := d.Done(); err != nil {
		Diverge(ctx, what+": "+codec.Format(b)+" does not decode: "+err.Error())
	}
}

// DecodeResult decodes a result tuple returned by [Call] into outs, which
// must be pointers, with [Results] and [Decoded]: for proxies written by hand.
func DecodeResult(ctx context.Context, what string, res []byte, outs ...any) {
	d := codec.NewDecoder(res)
	Results(ctx, what, d, res, len(outs))
	for _, o := range outs {
		d.Value(o)
	}
	Decoded(ctx, what, d, res)
}

// Referrer is implemented by guest proxies: the durable reference a proxy
// stands for.
type Referrer interface {
	FlowRef() flow.Ref
}

// PutProxy writes a host-interface value a flow passes to a host method: a
// guest proxy, as its reference; iface is the interface's durable name. Any
// other value fails e: a flow passes on only what it holds.
func PutProxy(e *codec.Encoder, v any, iface string) {
	switch r := v.(type) {
	case nil:
		e.PutNil()
	case Referrer:
		r.FlowRef().MarshalFlow(e)
	default:
		e.Fail(fmt.Errorf("a %T is not a %s a flow holds (a guest proxy)", v, iface))
	}
}

// ReadProxy reads a reference a flow receives and returns the guest proxy of
// host interface h for it, or the zero T (nil) for no reference.
func ReadProxy[T any](d *codec.Decoder, h HostInterface[T]) T {
	var r flow.Ref
	r.UnmarshalFlow(d)
	if d.Err() != nil || r.IsZero() {
		var zero T
		return zero
	}
	return h.Proxy(r)
}

// ProxyRef returns the reference of v, a guest proxy of the host interface
// with durable name iface; generated Async… functions use it. It panics if v
// is not a proxy: only what a flow holds has an async companion.
func ProxyRef(v any, iface string) flow.Ref {
	r, ok := v.(Referrer)
	if !ok {
		panic(fmt.Sprintf("flow: a %T is not a %s a flow holds (a guest proxy), so it has no async companion", v, iface))
	}
	return r.FlowRef()
}

// TupleUnmarshaler is implemented by generated result structs of host
// methods with several results: the Future of such a method settles with the
// whole result tuple of n values.
type TupleUnmarshaler interface {
	UnmarshalTuple(d *codec.Decoder, n int)
}

// Tuple reports whether a result tuple of n values has the want values of
// the method what; if not it fails d. UnmarshalTuple methods start with it.
func Tuple(d *codec.Decoder, what string, n, want int) bool {
	if n != want {
		d.Fail(fmt.Errorf("%s: %d results, want %d", what, n, want))
		return false
	}
	return true
}

// Signal returns the signal of the running flow with durable name name;
// generated run functions pass it to the flow for its Signal parameter.
func Signal[T any](name string) flow.Signal[T] {
	var s flow.Signal[T]
	bridge.SetName(&s, name)
	return s
}

// Status returns the status of the running flow with durable name name;
// generated run functions pass it to the flow for its Status parameter.
func Status[T any](name string) flow.Status[T] {
	var s flow.Status[T]
	bridge.SetName(&s, name)
	return s
}

// StartChild starts an activation of the flow with durable name name as a
// child of the running flow, with the encoded argument tuple args, and
// returns its outcome; generated Child… functions call it. Replaying, it
// returns the logged child's outcome and starts nothing. It panics outside
// a flow, and if args failed to encode.
func StartChild[T any](ctx context.Context, name string, args *codec.Encoder) flow.Vow[T] {
	g := mustGuest(ctx)
	if err := args.Err(); err != nil {
		panic(fmt.Errorf("child %s: the arguments do not encode: %w", name, err))
	}
	_, outcome := g.StartChild(name, args.Bytes())
	return flow.VowOf[T](outcome)
}
