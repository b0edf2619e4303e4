package closedcheck

import (
	"fmt"
	"strings"
)

// Kind is the rule a cause breaks. Its String is the diagnostic's category.
type Kind uint8

// The rules, in the order doc.go lists them.
const (
	KindGo         Kind = iota + 1 // a go statement
	KindChannel                    // channel operations and select
	KindSync                       // sync and sync/atomic
	KindVar                        // package state that can change
	KindClock                      // wall clocks and timers
	KindRandom                     // randomness
	KindIO                         // I/O and ambient authority
	KindContext                    // contexts made outside the flow's
	KindLog                        // ending, unwinding or changing the host's logger; timestamps kept
	KindMap                        // random iteration order
	KindDynamic                    // a call whose target cannot be known
	KindConfig                     // denied by configuration
	KindUnanalysed                 // a function of a package closedcheck did not analyse
)

var kindNames = [...]string{
	KindGo: "go", KindChannel: "channel", KindSync: "sync", KindVar: "var", KindClock: "clock",
	KindRandom: "random", KindIO: "io", KindContext: "context", KindLog: "log", KindMap: "map",
	KindDynamic: "dynamic", KindConfig: "config", KindUnanalysed: "unanalysed",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Reason says why a function is not closed: the chain of calls from it to
// the cause, what the cause does, and where it is.
type Reason struct {
	Chain []string // function names from the function to the cause, inclusive
	What  string   // what the cause does
	Pos   string   // file:line:col of the cause
	Kind  Kind
	// Missing is the import path of the package not analysed, for
	// KindUnanalysed: a driver can analyse it and run again.
	Missing string
}

func (r *Reason) String() string {
	return strings.Join(r.Chain, " → ") + ": " + r.What
}

// key identifies a cause, whatever the chain that reaches it.
func (r *Reason) key() string { return r.Pos + "\x00" + r.What }

// Obligation is something a function does with what it is given, which its
// callers discharge with what they give it, or which the flow at the top of
// the chain discharges against the whole program it sees.
type Obligation struct {
	// Param is the parameter index (the receiver is -1), or with TypeParam
	// the index among the receiver's type parameters then the function's.
	Param     int
	TypeParam bool
	// Path leads from the parameter to what is called: field names, and
	// "[]" for an element of a slice, array or map.
	Path []string
	// Method is the method called; "" for a call of a function value
	// (including a range over a function).
	Method string
	// Ordered says the function depends on the order in which a function
	// value it ranges over (an iterator) yields.
	Ordered bool
	// Iface, for a call of Method through an exported interface whose value
	// cannot be traced ("path.Name"), asks for every implementation the
	// program holds to be judged. Param and Path are then unused.
	Iface string
}

func (o Obligation) String() string {
	if o.Iface != "" {
		return fmt.Sprintf("calls(iface %s %s)", o.Iface, o.Method)
	}
	kind := "param"
	if o.TypeParam {
		kind = "typeparam"
	}
	s := fmt.Sprintf("calls(%s %d%s %s)", kind, o.Param, pathString(o.Path), o.Method)
	if o.Ordered {
		s += " ordered"
	}
	return s
}

func pathString(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if p == "[]" {
			b.WriteString("[]")
		} else {
			b.WriteString("." + p)
		}
	}
	return b.String()
}

// Store is a value a function stores into memory it is given: at DstPath
// of parameter Dst (-1: the receiver), the value at SrcPath of parameter
// Src, or (Src == -2) a value that cannot be traced.
type Store struct {
	Dst     int
	DstPath []string
	Src     int
	SrcPath []string
}

// ResultMethods is what calling methods on an interface a function returns
// amounts to, over every type the function can return there.
type ResultMethods struct {
	Result  int
	Unknown bool // some value returned there cannot be traced
	Methods []MethodVerdict
}

// MethodVerdict is the verdict on one method of a returned interface.
type MethodVerdict struct {
	Name        string
	Reasons     []*Reason
	Obligations []Obligation
}

// funcFact is what importing packages must know of a function to judge a
// call of it without its source. Only a function that says something has
// one: in an analysed package (one with a packageFact) a function without a
// fact is closed, carries no obligations, reads no variable the whole
// program must check, writes nothing it is given, and returns nothing that
// is not closed to call.
type funcFact struct {
	Reasons     []*Reason // every cause, the first one first; none when closed
	Obligations []Obligation
	// Reads are the package variables ("path.Name") it reads, directly or
	// through its callees, that no code of their package writes but other
	// packages could: a main or test package rules them out.
	Reads []string
	// Writes are the parameters (-1: the receiver) it writes through.
	Writes []int
	// Stores say what it stores in what it is given (c.steps = append(c.steps, f)):
	// callers trace what ends up there.
	Stores []Store
	// Aliases are the package variables whose memory what it returns shares.
	Aliases []string
	// MapOrder says it returns an iterator that yields in map order.
	MapOrder bool
	// Results says what the methods of interfaces it returns do.
	Results []ResultMethods
}

func (*funcFact) AFact() {}

func (f *funcFact) String() string {
	var b strings.Builder
	if len(f.Reasons) == 0 {
		b.WriteString("closed")
	} else {
		b.WriteString("open: " + f.Reasons[0].String())
		if len(f.Reasons) > 1 {
			fmt.Fprintf(&b, " (+%d)", len(f.Reasons)-1)
		}
	}
	for _, o := range f.Obligations {
		b.WriteString(" " + o.String())
	}
	if len(f.Reads) > 0 {
		b.WriteString(" reads(" + strings.Join(f.Reads, " ") + ")")
	}
	if len(f.Writes) > 0 {
		fmt.Fprintf(&b, " writes%v", f.Writes)
	}
	for _, s := range f.Stores {
		fmt.Fprintf(&b, " stores(%d%s ← %d%s)", s.Dst, pathString(s.DstPath), s.Src, pathString(s.SrcPath))
	}
	if len(f.Aliases) > 0 {
		b.WriteString(" aliases(" + strings.Join(f.Aliases, " ") + ")")
	}
	if f.MapOrder {
		b.WriteString(" maporder")
	}
	for _, r := range f.Results {
		fmt.Fprintf(&b, " result%d(", r.Result)
		if r.Unknown {
			b.WriteString("unknown")
		}
		for i, m := range r.Methods {
			if i > 0 || r.Unknown {
				b.WriteString(" ")
			}
			b.WriteString(m.Name)
			if len(m.Reasons) > 0 {
				b.WriteString(": open")
			}
			for _, o := range m.Obligations {
				b.WriteString(" " + o.String())
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

// packageFact marks a package closedcheck analysed, so that a function of
// it without a funcFact is known to be closed rather than unknown. It also
// carries, for the packages below it too, what the whole program must
// check: flows that read package variables other packages could write, and
// the writes of package variables made outside the variable's package.
type packageFact struct {
	// Unanalysed, if set, says why closedcheck could not judge the
	// package's code (see degrade.go): importers treat it as not analysed.
	Unanalysed string
	Flows      []FlowReads
	Writes     []VarWrite
	Reported   []string // matches already reported at this package (a test package), as reportKey
	// Impls are the types implementing exported interfaces (of the package
	// or of those it imports), here and below: importers that cannot see a
	// type (an unexported one) still judge calls that can reach it.
	Impls []ImplFact
}

// ImplFact is a type implementing an interface, with the verdicts of its
// methods of that interface that are not closed.
type ImplFact struct {
	Iface   string // "path.Name"
	Type    string // "path.Name", "*path.Name" when only the pointer implements it
	Methods []MethodVerdict
}

// FlowReads is a flow and the package variables its code reads.
type FlowReads struct {
	Flow  string // package name and flow: "billing.Charge"
	Pos   string
	Reads []string
}

// VarWrite is a write of a package variable by another package (or by a
// package's tests).
type VarWrite struct {
	Var string // "path.Name"
	Pkg string // the package writing it
	Pos string
}

func (*packageFact) AFact() {}

func (f *packageFact) String() string {
	var b strings.Builder
	if f.Unanalysed != "" {
		return "unanalysed: " + f.Unanalysed
	}
	b.WriteString("analysed")
	for _, fl := range f.Flows {
		fmt.Fprintf(&b, " flow(%s reads %s)", fl.Flow, strings.Join(fl.Reads, " "))
	}
	for _, w := range f.Writes {
		fmt.Fprintf(&b, " write(%s by %s)", w.Var, w.Pkg)
	}
	for _, im := range f.Impls {
		fmt.Fprintf(&b, " impl(%s %s", im.Iface, im.Type)
		for _, m := range im.Methods {
			b.WriteString(" " + m.Name)
			if len(m.Reasons) > 0 {
				b.WriteString(": open")
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

// hostFact marks a //flowgen:host interface, whose methods are the membrane.
type hostFact struct{}

func (*hostFact) AFact()         {}
func (*hostFact) String() string { return "host" }

// varFact says something of an exported package variable: it is an error
// sentinel never written after initialisation (importers may read it), or
// its package writes it (importers' reads are not closed). Without a fact,
// its package never writes it: a read is closed unless the whole program
// writes it elsewhere.
type varFact struct {
	Sentinel bool
	Written  string // where its package writes it
	// Calls says what calling the function values it holds amounts to,
	// by path (a table of functions, an options struct with closures);
	// a path not listed is closed to call.
	Calls []PathVerdict
}

// PathVerdict is the verdict on calling the function values found at a
// path of fields and elements.
type PathVerdict struct {
	Path        []string
	Reasons     []*Reason
	Obligations []Obligation
}

func (*varFact) AFact() {}

func (f *varFact) String() string {
	var b strings.Builder
	switch {
	case f.Sentinel:
		b.WriteString("sentinel")
	case f.Written != "":
		b.WriteString("written at " + f.Written)
	default:
		b.WriteString("unwritten")
	}
	for _, c := range f.Calls {
		fmt.Fprintf(&b, " calls(%s", pathString(c.Path))
		if len(c.Reasons) > 0 {
			b.WriteString(" open: " + c.Reasons[0].String())
		}
		for _, o := range c.Obligations {
			b.WriteString(" " + o.String())
		}
		b.WriteString(")")
	}
	return b.String()
}
