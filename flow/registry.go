package flow

import (
	"context"
	"fmt"
)

// FlowDef is a flow as the runtime sees it. Generated Register functions build
// one; Run decodes the stored argument tuple, calls the flow and encodes its
// result.
type FlowDef struct {
	// Name is the flow's durable name: it, not the Go import path, ties a log
	// to code.
	Name string
	// Run runs the flow. result is the encoded result value; err is the
	// error the flow returned, which rejects the activation's outcome.
	Run func(fc Context, args []byte) (result []byte, err error)
}

// Dispatcher calls a method of a host object with an encoded argument tuple
// and returns the encoded result tuple. flowgen generates one per host
// interface, so the runtime calls hosts without reflection.
type Dispatcher func(ctx context.Context, impl any, method string, args []byte) ([]byte, error)

// Resolver finds a keyed host object again by its key, in any incarnation.
type Resolver func(ctx context.Context, key string) (any, error)

// Keyed is implemented by host objects that cross the membrane as a
// reference by key, found again through the Resolver registered for their
// interface.
type Keyed interface {
	FlowKey() string
}

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

// Starter starts activations of one registered flow.
type Starter interface {
	// StartFlow starts an activation with the encoded argument tuple and
	// returns the id of its outcome vow. With a non-empty id it starts at
	// most one activation per flow and id: a repeated call with the same
	// arguments returns the same outcome.
	StartFlow(ctx context.Context, id string, args []byte) (VowID, error)
}

// HostRefs turns references into host objects and back, on the host side of
// a call. The runtime puts one in the context of every host call.
type HostRefs interface {
	// Object returns the host object ref stands for.
	Object(ctx context.Context, ref Ref) (any, error)
	// ServiceRef returns the reference of a provided service, by identity.
	ServiceRef(obj any) (Ref, bool)
}

type hostRefsKey struct{}

// HostCallContext returns the context of a host call: parent, with the call's
// info and the runtime's references. Runtimes use it.
func HostCallContext(parent context.Context, info CallInfo, refs HostRefs) context.Context {
	return &hostCallCtx{Context: parent, info: info, refs: refs}
}

type hostCallCtx struct {
	context.Context
	info CallInfo
	refs HostRefs
}

func (c *hostCallCtx) Value(key any) any {
	switch key {
	case callInfoKey{}:
		return c.info
	case hostRefsKey{}:
		return c.refs
	}
	return c.Context.Value(key)
}

// HostObject returns the host object a reference received by a host method
// stands for: the provided service, or the keyed object its resolver finds.
// Generated dispatchers use it for host-interface parameters.
func HostObject(ctx context.Context, ref Ref) (any, error) {
	refs, ok := ctx.Value(hostRefsKey{}).(HostRefs)
	if !ok {
		return nil, fmt.Errorf("flow: %s: not in a host call", ref)
	}
	return refs.Object(ctx, ref)
}

// RefFor returns the reference a host object crosses the membrane as: a guest
// proxy's own reference, a provided service's name, or, for a Keyed object,
// its key under resolver (the durable name of its host interface). Generated
// dispatchers use it for host-interface results.
func RefFor(ctx context.Context, obj any, resolver string) (Ref, error) {
	switch o := obj.(type) {
	case nil:
		return Ref{}, nil
	case Referrer:
		return o.FlowRef(), nil
	}
	if refs, ok := ctx.Value(hostRefsKey{}).(HostRefs); ok {
		if ref, ok := refs.ServiceRef(obj); ok {
			return ref, nil
		}
	}
	if k, ok := obj.(Keyed); ok {
		return ObjectRef(resolver, k.FlowKey()), nil
	}
	return Ref{}, fmt.Errorf("flow: a %T cannot cross the membrane: it is not a provided service, and has no FlowKey method for the %s resolver", obj, resolver)
}

// HostInterface describes a host interface to code generated for other
// packages: flowgen declares one, named <Interface>Host, for every
// //flowgen:host interface, so flows and host interfaces can live in
// different packages.
type HostInterface[T any] struct {
	// Name is the interface's durable name: the resolver name of its keyed
	// objects.
	Name string
	// Proxy returns the guest proxy for a reference.
	Proxy func(ref Ref) T
}
