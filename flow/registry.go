package flow

import "context"

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

// Service is a host service as the runtime sees it: a dispatcher from a method
// name and an encoded argument tuple to an encoded result tuple or an error.
// Generated Provide functions build one around a typed implementation, so the
// runtime calls hosts without reflection.
type Service func(ctx context.Context, method string, args []byte) ([]byte, error)

// Registry is what generated code registers flows and services with. The
// runtime implements it.
type Registry interface {
	// RegisterFlow registers a flow for this incarnation. Register every flow
	// before the runtime starts, in every incarnation, or its unfinished
	// activations are left untouched.
	RegisterFlow(def FlowDef) Starter
	// ProvideService offers a named service for this incarnation.
	ProvideService(name string, svc Service)
}

// Starter starts activations of one registered flow.
type Starter interface {
	// StartFlow starts an activation with the encoded argument tuple and
	// returns the id of its outcome vow. With a non-empty id it starts at
	// most one activation per flow and id: a repeated call with the same
	// arguments returns the same outcome.
	StartFlow(ctx context.Context, id string, args []byte) (VowID, error)
}
