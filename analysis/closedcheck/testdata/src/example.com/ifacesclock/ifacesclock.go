// Package ifacesclock adds a node type of its own to another package's // want package:"analysed"
// tree: one that reads the clock.
package ifacesclock

import (
	"time"

	"example.com/strategy"
	"github.com/asyncflow-go/asyncflow/flow"
)

type hour struct{}

func (hour) Eval(map[string]int64) int64 { return int64(time.Now().Hour()) } // want `time.Now` Eval:`open: ifacesclock\.hour\.Eval → time\.Now`

// Stamped builds a tree with a clock in it.
//
//flowgen:flow
func Stamped(fc flow.Context, env map[string]int64) int64 { // want `flow Stamped is not closed: Stamped → hour.Eval → time.Now` Stamped:`open: ifacesclock\.Stamped → ifacesclock\.hour\.Eval → time\.Now`
	tree := strategy.Sum{Terms: []strategy.Node{strategy.Lit{V: 1}, hour{}}}
	return tree.Eval(env)
}

// Parsed evaluates a tree whose nodes cannot be traced: every node type
// the program holds is judged, hour among them.
//
//flowgen:flow
func Parsed(fc flow.Context, def []string, env map[string]int64) int64 { // want `flow Parsed is not closed: Parsed → hour.Eval → time.Now` Parsed:`open: ifacesclock\.Parsed → ifacesclock\.hour\.Eval → time\.Now`
	return strategy.Parse(def).Eval(env) // want `strategy.Node.Eval: is called through an interface whose value cannot be traced, and its implementation ifacesclock.hour is not closed`
}
