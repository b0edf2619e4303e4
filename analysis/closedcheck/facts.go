package closedcheck

import (
	"fmt"
	"strings"
)

// Kind is the rule a cause breaks. Its String is the diagnostic's category.
type Kind uint8

// The rules, in the order doc.go lists them.
const (
	KindGo      Kind = iota + 1 // a go statement
	KindChannel                 // channel operations and select
	KindSync                    // sync and sync/atomic
	KindVar                     // package state that can change
	KindClock                   // wall clocks and timers
	KindRandom                  // randomness
	KindIO                      // I/O and ambient authority
	KindContext                 // contexts made outside the flow's
	KindLog                     // ending, unwinding or changing the host's logger
	KindMap                     // random iteration order
	KindDynamic                 // a call whose target cannot be known
	KindConfig                  // denied by configuration
)

var kindNames = [...]string{
	KindGo: "go", KindChannel: "channel", KindSync: "sync", KindVar: "var", KindClock: "clock",
	KindRandom: "random", KindIO: "io", KindContext: "context", KindLog: "log", KindMap: "map",
	KindDynamic: "dynamic", KindConfig: "config",
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

// funcFact is what importing packages must know of a function to judge a
// call of it without its source. Only a function that is not closed, or
// that carries obligations, has one: in an analysed package (one with a
// packageFact) a function without a fact is closed.
type funcFact struct {
	Reason      *Reason // nil when closed
	Obligations []Obligation
}

func (*funcFact) AFact() {}

func (f *funcFact) String() string {
	var b strings.Builder
	if f.Reason == nil {
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

// packageFact marks a package closedcheck analysed, so that a function of
// it without a funcFact is known to be closed rather than unknown.
type packageFact struct{}

func (*packageFact) AFact()         {}
func (*packageFact) String() string { return "analysed" }

// hostFact marks a //flowgen:host interface, whose methods are the membrane.
type hostFact struct{}

func (*hostFact) AFact()         {}
func (*hostFact) String() string { return "host" }

// varFact says an exported package variable is an error sentinel never
// written after initialisation; importers may read it.
type varFact struct{}

func (*varFact) AFact()         {}
func (*varFact) String() string { return "sentinel" }
