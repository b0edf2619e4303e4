package flow

import "github.com/asyncflow-go/asyncflow/flow/codec"

// Ref kinds.
const (
	RefService = "service" // a named service the host provides in every incarnation
	RefObject  = "object"  // a keyed host object found again through a resolver
)

// Ref is a durable reference to a host object, the form in which host objects
// cross the membrane: a named service, or an object with a stable key and a
// resolver the host registers.
type Ref struct {
	Kind string // RefService or RefObject
	Name string // the service's name, or the resolver's
	Key  string // the object's key; empty for a service
}

// IsZero reports whether r refers to nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

func (r Ref) String() string { return codec.FormatRef(r.Kind, r.Name, r.Key) }

// MarshalFlow implements codec.Marshaler.
func (r Ref) MarshalFlow(e *codec.Encoder) { e.PutRef(r.Kind, r.Name, r.Key) }

// UnmarshalFlow implements codec.Unmarshaler.
func (r *Ref) UnmarshalFlow(d *codec.Decoder) { r.Kind, r.Name, r.Key = d.ReadRef() }

// Keyed is implemented by host objects that cross the membrane as a
// reference by key: a host method may return one to a flow, and a flow may
// be started with one, and the resolver provided for its host interface
// (the generated Provide…Resolver) finds the object again by its key, in any
// incarnation.
type Keyed interface {
	FlowKey() string
}
