package flowimpl

import (
	"context"
	"fmt"
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// Registry is what generated code registers flows and host objects with. The
// runtime implements it.
type Registry interface {
	// RegisterFlow registers a flow for this incarnation. Register every flow
	// before the runtime starts, in every incarnation, or its unfinished
	// activations are left untouched.
	RegisterFlow(def FlowDef) Starter
	// ProvideService offers impl as the named service for this incarnation.
	ProvideService(name string, impl any, dispatch Dispatcher)
	// ProvideResolver registers how keyed objects of one host interface are
	// found again; name is the interface's durable name.
	ProvideResolver(name string, resolve Resolver, dispatch Dispatcher)
}

// FlowDef is a flow as the runtime sees it. Run decodes the stored argument
// tuple, calls the flow and encodes its result.
type FlowDef struct {
	// Name is the flow's durable name: it, not the Go import path, ties a log
	// to code.
	Name string
	// Run runs the flow. result is the encoded result value; err is the
	// error the flow returned, which rejects the activation's outcome.
	Run func(fc flow.Context, args []byte) (result []byte, err error)
}

// Starter starts activations of one registered flow, and talks to them.
type Starter interface {
	// StartFlow starts an activation with the encoded argument tuple and
	// returns the id of its outcome vow. With a non-empty id it starts at
	// most one activation per flow and id: a repeated call with the same
	// arguments returns the same outcome.
	StartFlow(ctx context.Context, id string, args []byte) (flow.VowID, error)
	// Send puts the encoded message payload into the mailbox signal of an
	// activation of the flow, durably before it returns. With a non-empty
	// key, the message is taken once however often it is sent.
	Send(ctx context.Context, to Recipient, signal, key string, payload []byte) error
	// Status returns the encoded value an activation of the flow published
	// under name, and false if it published none. It runs none of the
	// flow's code.
	Status(ctx context.Context, to Recipient, name string) (value []byte, ok bool, err error)
}

// Recipient names an activation of a flow: by its id or, if Key is not
// empty, by the start key it was started with (StartWithID).
type Recipient struct {
	ID  flow.ActivationID
	Key string
}

func (r Recipient) String() string {
	if r.Key != "" {
		return "start key " + strconv.Quote(r.Key)
	}
	return r.ID.String()
}

// Dispatcher calls a method of a host object with an encoded argument tuple
// and returns the encoded result tuple. flowgen generates one per host
// interface, so the runtime calls hosts without reflection.
type Dispatcher func(ctx context.Context, impl any, method string, args []byte) ([]byte, error)

// Resolver finds a keyed host object ([flow.Keyed]) again by its key, in any
// incarnation.
type Resolver func(ctx context.Context, key string) (any, error)

// HostInterface describes a host interface to generated code: flowgen
// declares one, named <Interface>Host, for every //flowgen:host interface,
// so flows and host interfaces can live in different packages.
type HostInterface[T any] struct {
	// Name is the interface's durable name: the resolver name of its keyed
	// objects.
	Name string
	// Proxy returns the guest proxy for a reference.
	Proxy func(ref flow.Ref) T
}

// Flow is a registered flow, as its generated handle holds it.
type Flow struct {
	name string
	s    Starter
}

// Register registers the flow with durable name name, run by run, and
// returns what the generated handle starts it with. run decodes the stored
// arguments, calls the flow and encodes its result.
func Register(r Registry, name string, run func(fc flow.Context, args Arguments) ([]byte, error)) Flow {
	def := FlowDef{Name: name, Run: func(fc flow.Context, args []byte) ([]byte, error) {
		return run(fc, Arguments{flow: name, b: args, st: &argState{}})
	}}
	return Flow{name: name, s: r.RegisterFlow(def)}
}

// Start starts an activation of f with the encoded argument tuple and
// returns its outcome; see [Starter]. Arguments that failed to encode are an
// error of the call, and nothing is started.
func Start[T any](ctx context.Context, f Flow, id string, args *codec.Encoder) (flow.Vow[T], error) {
	if err := args.Err(); err != nil {
		return flow.Vow[T]{}, fmt.Errorf("start %s: %w", f.name, err)
	}
	v, err := f.s.StartFlow(ctx, id, args.Bytes())
	return flow.VowOf[T](v), err
}

// Send sends v to the mailbox signal of the activation of f that to names;
// with a non-empty key it is taken once. Generated Send… methods call it.
func Send[T any](ctx context.Context, f Flow, to Recipient, signal, key string, v T) error {
	b, err := codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("send %s to %s of %s: %w", signal, to, f.name, err)
	}
	return f.s.Send(ctx, to, signal, key, b)
}

// ReadStatus returns what the activation of f that to names published under
// name, and false if it published nothing; generated status readers call it.
func ReadStatus[T any](ctx context.Context, f Flow, to Recipient, name string) (T, bool, error) {
	var t T
	b, ok, err := f.s.Status(ctx, to, name)
	if err != nil || !ok {
		return t, false, err
	}
	if err := codec.Unmarshal(b, &t); err != nil {
		return t, false, fmt.Errorf("status %s of %s of %s: %s does not decode: %w", name, to, f.name, codec.Format(b), err)
	}
	return t, true, nil
}

// PutStartRef writes a host-interface argument given to Start for the
// parameter param: a proxy made with the generated …Ref function, or a
// keyed host object, found again through the resolver of the interface with
// durable name iface. Any other value fails e.
func PutStartRef(e *codec.Encoder, param string, v any, iface string) {
	switch r := v.(type) {
	case nil:
		e.PutNil()
	case Referrer:
		r.FlowRef().MarshalFlow(e)
	case flow.Keyed:
		ObjectRef(iface, r.FlowKey()).MarshalFlow(e)
	default:
		e.Fail(fmt.Errorf("parameter %s: a %T is neither a reference made by the generated Ref function nor a keyed host object (with a FlowKey method)", param, v))
	}
}

// ServiceRef returns a reference to the named service.
func ServiceRef(name string) flow.Ref { return flow.Ref{Kind: flow.RefService, Name: name} }

// ObjectRef returns a reference to the object with key, found through the
// resolver registered under name.
func ObjectRef(name, key string) flow.Ref {
	return flow.Ref{Kind: flow.RefObject, Name: name, Key: key}
}

// HostRefs turns references into host objects and back, on the host side of
// a call. The runtime puts one in the context of every host call.
type HostRefs interface {
	// Object returns the host object ref stands for.
	Object(ctx context.Context, ref flow.Ref) (any, error)
	// ServiceRef returns the reference of a provided service, by identity.
	ServiceRef(obj any) (flow.Ref, bool)
}

type hostRefsKey struct{}

// HostCallContext returns the context of a host call: parent, with the
// call's info (read by [flow.CallInfoFrom] and [flow.IdempotencyKey]) and
// the runtime's references.
func HostCallContext(parent context.Context, info flow.CallInfo, refs HostRefs) context.Context {
	return &hostCallCtx{Context: parent, info: info, refs: refs}
}

type hostCallCtx struct {
	context.Context
	info flow.CallInfo
	refs HostRefs
}

func (c *hostCallCtx) Value(key any) any {
	switch key {
	case bridge.CallInfoKey{}:
		return c.info
	case hostRefsKey{}:
		return c.refs
	}
	return c.Context.Value(key)
}

// HostObject returns the host object a reference received by a host method
// stands for: the provided service, or the keyed object its resolver finds.
func HostObject(ctx context.Context, ref flow.Ref) (any, error) {
	refs, ok := ctx.Value(hostRefsKey{}).(HostRefs)
	if !ok {
		return nil, fmt.Errorf("flow: %s: not in a host call", ref)
	}
	return refs.Object(ctx, ref)
}

// RefFor returns the reference a host object crosses the membrane as: a
// guest proxy's own reference, a provided service's name, or, for a
// [flow.Keyed] object, its key under resolver (the durable name of its host
// interface).
func RefFor(ctx context.Context, obj any, resolver string) (flow.Ref, error) {
	switch o := obj.(type) {
	case nil:
		return flow.Ref{}, nil
	case Referrer:
		return o.FlowRef(), nil
	}
	if refs, ok := ctx.Value(hostRefsKey{}).(HostRefs); ok {
		if ref, ok := refs.ServiceRef(obj); ok {
			return ref, nil
		}
	}
	if k, ok := obj.(flow.Keyed); ok {
		return ObjectRef(resolver, k.FlowKey()), nil
	}
	return flow.Ref{}, fmt.Errorf("flow: a %T cannot cross the membrane: it is not a provided service, and has no FlowKey method for the %s resolver", obj, resolver)
}

// PutHostRef writes a host object a host method returns, as the reference
// it crosses as (see [RefFor]); iface is its interface's durable name. An
// object that cannot cross fails e.
func PutHostRef(ctx context.Context, e *codec.Encoder, obj any, iface string) {
	ref, err := RefFor(ctx, obj, iface)
	switch {
	case err != nil:
		e.Fail(err)
	case ref.IsZero():
		e.PutNil()
	default:
		ref.MarshalFlow(e)
	}
}

// ReadHostObject reads a reference a host method receives and returns the
// host object it stands for: the original object, not a proxy. The zero T
// stands for no reference; an object that cannot be found, or is no T,
// fails d.
func ReadHostObject[T any](ctx context.Context, d *codec.Decoder) T {
	var zero T
	var ref flow.Ref
	ref.UnmarshalFlow(d)
	if d.Err() != nil || ref.IsZero() {
		return zero
	}
	obj, err := HostObject(ctx, ref)
	if err != nil {
		d.Fail(err)
		return zero
	}
	t, ok := obj.(T)
	if !ok {
		d.Fail(fmt.Errorf("flow: %s is a %T, not a %T", ref, obj, zero))
		return zero
	}
	return t
}

// HostArguments reads the header of the argument tuple a dispatcher
// received, which should hold n values; another number fails d. The
// dispatcher makes d itself (codec.NewDecoder), so it stays on its stack.
func HostArguments(d *codec.Decoder, n int) {
	if got := d.ReadList(); d.Err() == nil && got != n {
		d.Fail(fmt.Errorf("%d values, want %d", got, n))
	}
}

// HostDecoded ends decoding what HostArguments started, and returns why the
// arguments of the method what did not decode, or nil.
func HostDecoded(what string, d *codec.Decoder) error {
	if err := d.Done(); err != nil {
		return fmt.Errorf("%s: arguments: %w", what, err)
	}
	return nil
}

// NotImplemented is the error of a dispatcher handed an object that does not
// implement its host interface iface.
func NotImplemented(obj any, iface string) error {
	return fmt.Errorf("a %T does not implement %s", obj, iface)
}

// UnknownMethod is the error of a dispatcher asked for a method its host
// interface iface does not have.
func UnknownMethod(iface, method string) error {
	return fmt.Errorf("%s.%s: %w", iface, method, flow.ErrUnknownMethod)
}
