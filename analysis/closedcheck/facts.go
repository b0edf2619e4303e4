package closedcheck

import (
	"fmt"
	"strings"
)

// Reason says why a function is not closed: the chain of calls from it to
// the cause, what the cause does, and where it is.
type Reason struct {
	Chain []string // function names from the function to the cause, inclusive
	What  string   // what the cause does
	Pos   string   // file:line:col of the cause
	Kind  string   // rule: "go", "channel", "sync", "clock", "random", "io", "context", "log", "map", "var", "dynamic"
}

func (r *Reason) String() string {
	return strings.Join(r.Chain, " → ") + ": " + r.What
}

// Obligation is a call a function makes through one of its parameters or
// type parameters: the caller must show that what it passes is closed.
type Obligation struct {
	Param     int    // parameter index (receiver excluded), or type parameter index
	TypeParam bool   // Param indexes the function's type parameters
	Method    string // the method called; "" for a call of a function value
}

// funcFact is the verdict on a function, exported so importing packages
// judge calls without its source.
type funcFact struct {
	Closed      bool
	Reason      *Reason // nil when closed
	Obligations []Obligation
}

func (*funcFact) AFact() {}

func (f *funcFact) String() string {
	var b strings.Builder
	if f.Closed {
		b.WriteString("closed")
	} else {
		b.WriteString("open: " + f.Reason.String())
	}
	for _, o := range f.Obligations {
		kind := "param"
		if o.TypeParam {
			kind = "typeparam"
		}
		fmt.Fprintf(&b, " calls(%s %d %s)", kind, o.Param, o.Method)
	}
	return b.String()
}

// hostFact marks a //flowgen:host interface, whose methods are the membrane.
type hostFact struct{}

func (*hostFact) AFact()         {}
func (*hostFact) String() string { return "host" }

// varFact says an exported package variable is an error sentinel never
// written after initialisation; importers may read it.
type varFact struct{}

func (*varFact) AFact()         {}
func (*varFact) String() string { return "sentinel" }
