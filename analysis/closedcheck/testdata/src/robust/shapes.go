package robust

import (
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// A struct embedding an unexported interface implements it through the
// embedded value, so judging its method judged every implementation of the
// interface again, without end (the analysis overflowed its stack).
type shape interface{ area() int }

type framed struct{ shape }

type square struct{ n int }

func (s square) area() int { return s.n * s.n }

type stamped struct{}

func (stamped) area() int { return time.Now().Second() } // want area:`^open: robust.stamped.area → time.Now` `time.Now: reads the wall clock; use flow.Now\(fc\) \(flow EmbeddedParam: EmbeddedParam → stamped.area → time.Now\)`

type ring interface{ turn() ring }

type wheel struct{ ring }

func total(ss []shape) int { // want total:`^closed calls\(param 0\[\] area\)$`
	t := 0
	for _, s := range ss {
		t += s.area()
	}
	return t
}

//flowgen:flow
func Embedded(fc flow.Context, n int) int {
	return total([]shape{framed{square{n}}, square{n}})
}

// What a flow's parameter holds cannot be traced: every implementation is
// judged, and stamped is not closed.
//
//flowgen:flow
func EmbeddedParam(fc flow.Context, s shape, r ring) int { // want `flow EmbeddedParam is not closed: EmbeddedParam → stamped.area → time.Now` EmbeddedParam:`^open: robust.EmbeddedParam → robust.stamped.area → time.Now`
	if r != nil {
		r = r.turn()
	}
	return s.area()
}

var _ = wheel{}
var _ = stamped{}
