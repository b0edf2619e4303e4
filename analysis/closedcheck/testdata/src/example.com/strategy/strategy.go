// Package strategy holds exported interfaces, their implementations and // want package:"analysed"
// the factories that choose among them.
package strategy

import (
	"strings"
	"time"
)

// Pricer prices an order: a strategy chosen at run time.
type Pricer interface {
	Price(cents int64) int64
}

type flat struct{}

func (flat) Price(c int64) int64 { return c }

type percent struct{ pct int64 }

func (p percent) Price(c int64) int64 { return c * (100 - p.pct) / 100 }

type surge struct{}

func (surge) Price(c int64) int64 { return c * int64(1+time.Now().Hour()%2) } // want Price:`open: strategy\.surge\.Price → time\.Now`

// New chooses a strategy by name; every one it returns is closed.
func New(kind string) Pricer {
	switch strings.ToLower(kind) {
	case "sale":
		return percent{pct: 10}
	case "clearance":
		return &percent{pct: 50}
	}
	return flat{}
}

// Peak returns the strategy that reads the clock.
func Peak() Pricer { return surge{} } // want Peak:`closed result0\(Price: open\)`

// Node is a tree of expressions: each node evaluates its children through
// the same method.
type Node interface {
	Eval(env map[string]int64) int64
}

// Lit is a constant.
type Lit struct{ V int64 }

func (l Lit) Eval(map[string]int64) int64 { return l.V }

// Ref reads a variable of the environment.
type Ref struct{ Name string }

func (r Ref) Eval(env map[string]int64) int64 { return env[r.Name] }

// Sum adds its terms.
type Sum struct{ Terms []Node }

func (s Sum) Eval(env map[string]int64) int64 { // want Eval:`closed calls\(param \-1\.Terms\[\] Eval\)`
	var t int64
	for _, n := range s.Terms {
		t += n.Eval(env)
	}
	return t
}

// Max keeps the larger of two.
type Max struct{ A, B Node }

func (m Max) Eval(env map[string]int64) int64 { return max(m.A.Eval(env), m.B.Eval(env)) } // want Eval:`closed calls\(param \-1\.A Eval\) calls\(param \-1\.B Eval\)`

// Parse builds a tree from a definition: a number, a name, or "+" and
// "max" of others.
func Parse(def []string) Node { // want Parse:`closed result0\(Eval calls\(iface example\.com/strategy\.Node Eval\)\)`
	if len(def) == 0 {
		return Lit{}
	}
	switch def[0] {
	case "+":
		var terms []Node
		for _, d := range def[1:] {
			terms = append(terms, Parse([]string{d}))
		}
		return Sum{Terms: terms}
	case "max":
		return Max{A: Parse(def[1:2]), B: Parse(def[2:])}
	}
	if len(def[0]) > 0 && def[0][0] >= '0' && def[0][0] <= '9' {
		return Lit{V: int64(def[0][0] - '0')}
	}
	return Ref{Name: def[0]}
}
