package gen

import (
	"go/token"
	"go/types"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Package is what flowgen generates for: one Go package's host interfaces,
// flows and error sentinels.
type Package struct {
	Name   string // package name
	Path   string // import path
	Dir    string
	Out    string // path of the generated file
	Types  *types.Package
	Hosts  []*HostInterface // in source order
	Flows  []*Flow          // in source order
	Errors []*ErrorVar      // exported Err… sentinels, in source order
	Notes  []Problem        // what to point out, failing nothing
}

// HostInterface is an interface marked //flowgen:host.
type HostInterface struct {
	Name    string // Go name
	Durable string // durable name: the resolver name of its keyed objects
	Methods []*Method
	Pos     token.Position
	Type    *types.Named
	// PkgPath is the import path of an interface declared in another
	// package (whose flowgen output declares <Name>Host); empty for this
	// package's own.
	PkgPath string
}

// Method is one method of a host interface, embedded ones included.
type Method struct {
	Host     *HostInterface
	Name     string
	Ctx      string   // the user's name of the context parameter, or ""
	Params   []*Param // after the context.Context
	Results  []*Param // before the trailing error
	HasError bool
	Variadic bool
	Pos      token.Position
	// Policy is how the method's failed attempts are made again and how
	// long each may take, from the method's //flowgen:retry and
	// //flowgen:timeout directives or its interface's; nil for none.
	Policy *Policy
}

// Policy is a retry policy and attempt timeout declared with
// //flowgen:retry and //flowgen:timeout: what flowimpl.Policy holds, as
// written (flowimpl fills in the defaults).
type Policy struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	Multiplier float64
	Retryable  []string // error codes
	Timeout    time.Duration
}

// Flow is a function marked //flowgen:flow.
type Flow struct {
	Name    string // Go name
	Durable string // durable name
	// Params are the parameters after the flow.Context, in order: the
	// arguments (KindValue, KindHost), which Start takes and the log
	// stores, and the mailboxes and publications (KindSignal, KindStatus),
	// which the run function makes from their names.
	Params   []*Param
	Result   *Param // the non-error result, or nil
	HasError bool
	Variadic bool
	Pos      token.Position
}

// ParamKind says how a value crosses.
type ParamKind int

const (
	// KindValue crosses by copy through the codec.
	KindValue ParamKind = iota
	// KindHost is a host interface: it crosses as a reference.
	KindHost
	// KindSignal is a flow.Signal[T] parameter of a flow: the mailbox named
	// after it, not an argument.
	KindSignal
	// KindStatus is a flow.Status[T] parameter of a flow: the publication
	// named after it, not an argument.
	KindStatus
)

// Param is a parameter or result, lowered to how generated code moves it
// across the membrane.
type Param struct {
	Name string // the user's name; "" if unnamed or blank
	Type types.Type
	Kind ParamKind
	Host *HostInterface // for KindHost
	// Elem is T, the type of a KindSignal's messages or a KindStatus's
	// values; they cross by the codec's reflection.
	Elem types.Type
	// Coding says how a KindValue is written and read.
	Coding Coding
}

// Arg reports whether the parameter is an argument: stored with the
// activation and given to Start, rather than made from its name.
func (p *Param) Arg() bool { return p.Kind == KindValue || p.Kind == KindHost }

// Coding says how generated code writes a value with a codec.Encoder and
// reads it with a codec.Decoder: through a method for its kind (no
// reflection), or by reflection (Encoder.Value, Decoder.Value) when Put is
// empty.
type Coding struct {
	Put  string // Encoder method, e.g. "PutString"
	Read string // Decoder method, e.g. "ReadString"
	Bits int    // the width ReadInt and ReadUint check; 0 for other methods
	// Wire is the type the two methods take and return ("int64" for
	// PutInt); Convert says the value's type is another one, so generated
	// code converts to and from Wire.
	Wire    string
	Convert bool
}

// Direct reports whether the value is written and read without reflection.
func (c Coding) Direct() bool { return c.Put != "" }

// ErrorVar is an exported package-level error sentinel named Err….
type ErrorVar struct {
	Name string
	Code string
}

// The names the generated file declares. The collision check and the
// emitter both read them from here.

// ProxyType is the guest proxy's type: ledgerProxy.
func (h *HostInterface) ProxyType() string { return strings.ToLower(h.Name[:1]) + h.Name[1:] + "Proxy" }

// RefFunc returns a service's proxy: LedgerRef.
func (h *HostInterface) RefFunc() string { return h.Name + "Ref" }

// HostVar describes the interface to other packages: LedgerHost.
func (h *HostInterface) HostVar() string { return h.Name + "Host" }

// AsyncType is the async companion: LedgerAsync.
func (h *HostInterface) AsyncType() string { return h.Name + "Async" }

// AsyncFunc returns a proxy's async companion: AsyncLedger.
func (h *HostInterface) AsyncFunc() string { return "Async" + h.Name }

// ProvideFunc provides a service: ProvideLedger.
func (h *HostInterface) ProvideFunc() string { return "Provide" + h.Name }

// ResolverFunc provides a resolver: ProvideLedgerResolver.
func (h *HostInterface) ResolverFunc() string { return "Provide" + h.Name + "Resolver" }

// DispatchFunc calls the host's methods: dispatchLedger.
func (h *HostInterface) DispatchFunc() string { return "dispatch" + h.Name }

// What names the method in messages: Ledger.Transfer.
func (m *Method) What() string { return m.Host.Name + "." + m.Name }

// PolicyVar holds the method's declared policy: tellerTransferPolicy.
func (m *Method) PolicyVar() string {
	return strings.ToLower(m.Host.Name[:1]) + m.Host.Name[1:] + m.Name + "Policy"
}

// ResultsType holds the results of a method with several, for its Future:
// LedgerTransferResults.
func (m *Method) ResultsType() string { return m.Host.Name + m.Name + "Results" }

// Async reports whether the method has an async form: not when it returns a
// host interface, which a Future cannot hold.
func (m *Method) Async() bool {
	for _, r := range m.Results {
		if r.Kind == KindHost {
			return false
		}
	}
	return true
}

// RegisterFunc registers the flow: RegisterPayout.
func (f *Flow) RegisterFunc() string { return "Register" + f.Name }

// HandleType starts activations: PayoutHandle.
func (f *Flow) HandleType() string { return f.Name + "Handle" }

// RunFunc decodes the stored arguments and runs the flow: runPayout.
func (f *Flow) RunFunc() string { return "run" + f.Name }

// ChildFunc starts the flow as a child of a running flow: ChildPayout.
func (f *Flow) ChildFunc() string { return "Child" + f.Name }

// ActivationType names one activation, to send it messages and read its
// statuses: PayoutActivation. Only a flow that Talks has one.
func (f *Flow) ActivationType() string { return f.Name + "Activation" }

// Args are the flow's arguments, in order: its parameters less its
// signals and statuses.
func (f *Flow) Args() []*Param { return f.kind(func(p *Param) bool { return p.Arg() }) }

// Signals are the flow's flow.Signal parameters, in order.
func (f *Flow) Signals() []*Param { return f.kind(func(p *Param) bool { return p.Kind == KindSignal }) }

// Statuses are the flow's flow.Status parameters, in order.
func (f *Flow) Statuses() []*Param {
	return f.kind(func(p *Param) bool { return p.Kind == KindStatus })
}

// Talks reports whether hosts can send the flow messages or read what it
// publishes.
func (f *Flow) Talks() bool { return len(f.Signals())+len(f.Statuses()) > 0 }

func (f *Flow) kind(keep func(*Param) bool) []*Param {
	var out []*Param
	for _, p := range f.Params {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// SendMethod sends a signal's message: SendShipped; SendOnceMethod, with an
// idempotency key: SendShippedOnce.
func (p *Param) SendMethod() string     { return "Send" + exported(p.Name) }
func (p *Param) SendOnceMethod() string { return "Send" + exported(p.Name) + "Once" }

// StatusMethod reads a status: Stage.
func (p *Param) StatusMethod() string { return exported(p.Name) }

func exported(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[n:]
}

// ContinueFunc makes the error a flow returns to continue as new:
// ContinuePayoutAsNew.
func (f *Flow) ContinueFunc() string { return "Continue" + f.Name + "AsNew" }

// Declared is a package-level name the generated file declares, and what
// for ("host interface Ledger").
type Declared struct {
	Name string
	For  string
}

// Declares lists the package-level names the generated file declares, in
// the order it declares them.
func (m *Package) Declares() []Declared {
	var out []Declared
	for _, h := range m.Hosts {
		why := "host interface " + h.Name
		for _, n := range []string{h.ProxyType(), h.RefFunc(), h.HostVar(), h.AsyncType(), h.AsyncFunc()} {
			out = append(out, Declared{n, why})
		}
		for _, meth := range h.Methods {
			if meth.Policy != nil {
				out = append(out, Declared{meth.PolicyVar(), why})
			}
			if meth.Async() && len(meth.Results) > 1 {
				out = append(out, Declared{meth.ResultsType(), why})
			}
		}
		for _, n := range []string{h.ProvideFunc(), h.ResolverFunc(), h.DispatchFunc()} {
			out = append(out, Declared{n, why})
		}
	}
	for _, f := range m.Flows {
		why := "flow " + f.Name
		for _, n := range []string{f.HandleType(), f.RegisterFunc(), f.RunFunc(), f.ChildFunc(), f.ContinueFunc()} {
			out = append(out, Declared{n, why})
		}
		if f.Talks() {
			out = append(out, Declared{f.ActivationType(), why})
		}
	}
	return out
}
