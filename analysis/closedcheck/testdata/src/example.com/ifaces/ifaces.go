// Package ifaces holds flows that call through exported interfaces of // want package:"analysed"
// another package.
package ifaces

import (
	"context"

	"example.com/strategy"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Ledger interface { // want Ledger:"host"
	Post(ctx context.Context, cents int64) error
}

// Priced: the factory's return statements give only closed strategies.
//
//flowgen:flow
func Priced(fc flow.Context, l Ledger, kind string, cents int64) error {
	p := strategy.New(kind)
	return l.Post(fc, p.Price(cents))
}

// Chosen: a strategy chosen by a switch, each branch a factory or a value.
//
//flowgen:flow
func Chosen(fc flow.Context, l Ledger, kind string, cents int64) error {
	var p strategy.Pricer
	switch kind {
	case "sale", "clearance":
		p = strategy.New(kind)
	default:
		p = strategy.New("")
	}
	return l.Post(fc, p.Price(cents))
}

// Rush: the factory returns the strategy that reads the clock.
//
//flowgen:flow
func Rush(fc flow.Context, l Ledger, cents int64) error { // want `flow Rush is not closed: Rush → strategy.surge.Price → time.Now` Rush:`open: ifaces\.Rush → strategy\.surge\.Price → time\.Now`
	p := strategy.Peak()
	return l.Post(fc, p.Price(cents)) // want `strategy.Peak\(…\).Price is not closed: strategy.surge.Price → time.Now: reads the wall clock`
}

// Given: where the value comes from cannot be traced, so every
// implementation the program holds is judged, and one reads the clock.
//
//flowgen:flow
func Given(fc flow.Context, l Ledger, ps []strategy.Pricer, cents int64) error { // want `flow Given is not closed: Given → strategy.surge.Price → time.Now` Given:`open: ifaces\.Given → strategy\.surge\.Price → time\.Now`
	for _, p := range ps {
		cents = p.Price(cents) // want `strategy.Pricer.Price: is called through an interface whose value cannot be traced, and its implementation strategy.surge is not closed` `strategy.surge.Price is not closed`
	}
	return l.Post(fc, cents)
}

// Formula evaluates a tree the factory builds: its nodes call the same
// method on their children, and every node type is closed.
//
//flowgen:flow
func Formula(fc flow.Context, l Ledger, def []string, env map[string]int64) error {
	tree := strategy.Parse(def)
	return l.Post(fc, tree.Eval(env))
}

// Literal builds the tree itself.
//
//flowgen:flow
func Literal(fc flow.Context, l Ledger, env map[string]int64) error {
	tree := strategy.Sum{Terms: []strategy.Node{strategy.Lit{V: 1}, strategy.Max{A: strategy.Ref{Name: "x"}, B: strategy.Lit{V: 2}}}}
	return l.Post(fc, tree.Eval(env))
}
