// Package dslext adds statements of its own to the dsl package's tree. // want package:"analysed"
package dslext

import (
	"math/rand/v2"
	"strconv"

	"corpus/dsl"
	"github.com/asyncflow-go/asyncflow/flow"
)

// Pick binds one of its choices at random.
type Pick struct {
	Var     string
	Choices []string
}

func (p *Pick) Execute(fc flow.Context, a dsl.Activities, vars map[string]string) error { // want Execute:`open: dslext\.Pick\.Execute → rand\.IntN`
	vars[p.Var] = p.Choices[rand.IntN(len(p.Choices))] // want `rand.IntN`
	return nil
}

// Counter binds a counter.
type Counter struct{ Var string }

func (c *Counter) Execute(fc flow.Context, a dsl.Activities, vars map[string]string) error { // want Execute:`closed writes\[2\] stores\(2\[\] ← \-2\)`
	n, _ := strconv.Atoi(vars[c.Var])
	vars[c.Var] = strconv.Itoa(n + 1)
	return nil
}

// Counted runs a sequence of the package's statements and the counter.
//
//flowgen:flow
func Counted(fc flow.Context, a dsl.Activities, vars map[string]string) error {
	root := &dsl.Sequence{Steps: []dsl.Statement{
		&dsl.Activity{Name: "greet", Args: []string{"name"}, Result: "greeting"},
		&Counter{Var: "n"},
	}}
	return root.Execute(fc, a, vars)
}

// Random runs a sequence with a random pick in it.
//
//flowgen:flow
func Random(fc flow.Context, a dsl.Activities, vars map[string]string) error { // want `flow Random is not closed: Random → Pick.Execute → rand.IntN` Random:`open: dslext\.Random → dslext\.Pick\.Execute → rand\.IntN`
	root := &dsl.Sequence{Steps: []dsl.Statement{&Pick{Var: "x", Choices: []string{"a", "b"}}}}
	return root.Execute(fc, a, vars)
}
