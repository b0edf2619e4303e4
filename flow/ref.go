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

// ServiceRef returns a reference to the named service.
func ServiceRef(name string) Ref { return Ref{Kind: RefService, Name: name} }

// ObjectRef returns a reference to the object with key, found through the
// resolver registered under name.
func ObjectRef(name, key string) Ref { return Ref{Kind: RefObject, Name: name, Key: key} }

// IsZero reports whether r refers to nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

func (r Ref) String() string { return codec.FormatRef(r.Kind, r.Name, r.Key) }

// MarshalFlow implements codec.Marshaler.
func (r Ref) MarshalFlow(e *codec.Encoder) { e.PutRef(r.Kind, r.Name, r.Key) }

// UnmarshalFlow implements codec.Unmarshaler.
func (r *Ref) UnmarshalFlow(d *codec.Decoder) { r.Kind, r.Name, r.Key = d.ReadRef() }

// Referrer is implemented by guest proxies: the durable reference a proxy
// stands for. Starting a flow accepts only Referrers for host-interface
// parameters.
type Referrer interface {
	FlowRef() Ref
}
