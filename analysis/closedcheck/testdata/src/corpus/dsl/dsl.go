// Package dsl interprets a workflow described as data, after the DSL // want package:"analysed"
// samples: a tree of statements — sequences, parallel branches, activity
// calls — each executing its children through the same method.
package dsl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Activities interface { // want Activities:"host"
	Run(ctx context.Context, name string, args []string) (string, error)
}

// Statement is one node of the workflow.
type Statement interface {
	Execute(fc flow.Context, a Activities, vars map[string]string) error
}

// Activity calls an activity and binds its result.
type Activity struct {
	Name   string
	Args   []string
	Result string
}

func (s *Activity) Execute(fc flow.Context, a Activities, vars map[string]string) error { // want Execute:`closed writes\[2\] stores\(2\[\] ← \-2\)`
	args := make([]string, len(s.Args))
	for i, arg := range s.Args {
		if v, ok := vars[arg]; ok {
			arg = v
		}
		args[i] = arg
	}
	out, err := a.Run(fc, s.Name, args)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	if s.Result != "" {
		vars[s.Result] = out
	}
	return nil
}

// Sequence runs its statements in order.
type Sequence struct{ Steps []Statement }

func (s *Sequence) Execute(fc flow.Context, a Activities, vars map[string]string) error { // want Execute:`closed calls\(param \-1\.Steps\[\] Execute\)`
	for _, st := range s.Steps {
		if err := st.Execute(fc, a, vars); err != nil {
			return err
		}
	}
	return nil
}

// Parallel runs its branches, here one after the other (each sees a copy
// of the variables), and merges what they bind in branch order.
type Parallel struct{ Branches []Statement }

func (p *Parallel) Execute(fc flow.Context, a Activities, vars map[string]string) error { // want Execute:`closed calls\(param \-1\.Branches\[\] Execute\) writes\[2\] stores\(2\[\] ← \-2\) stores\(2\[\] ← 2\[\]\)`
	var errs []error
	results := make([]map[string]string, len(p.Branches))
	for i, b := range p.Branches {
		local := map[string]string{}
		for k, v := range vars {
			local[k] = v
		}
		errs = append(errs, b.Execute(fc, a, local))
		results[i] = local
	}
	for _, r := range results {
		for k, v := range r {
			vars[k] = v
		}
	}
	return errors.Join(errs...)
}

// Condition runs one branch or the other.
type Condition struct { // want Condition:`fields \.Then\(Execute\)`
	Var, Equals string
	Then, Else  Statement
}

func (c *Condition) Execute(fc flow.Context, a Activities, vars map[string]string) error { // want Execute:`closed calls\(param \-1\.Then Execute\) calls\(param \-1\.Else Execute\)`
	if strings.EqualFold(vars[c.Var], c.Equals) {
		return c.Then.Execute(fc, a, vars)
	}
	if c.Else != nil {
		return c.Else.Execute(fc, a, vars)
	}
	return nil
}

// Def is the data a workflow is written in.
type Def struct {
	Kind     string // "activity", "sequence", "parallel", "if"
	Name     string
	Args     []string
	Result   string
	Children []Def
	Var      string
	Equals   string
}

// Build turns a definition into statements.
func Build(d Def) (Statement, error) { // want Build:`closed result0\(Execute calls\(iface corpus/dsl\.Statement Execute\)\)`
	switch d.Kind {
	case "activity":
		return &Activity{Name: d.Name, Args: d.Args, Result: d.Result}, nil
	case "sequence", "parallel":
		var kids []Statement
		for _, c := range d.Children {
			k, err := Build(c)
			if err != nil {
				return nil, err
			}
			kids = append(kids, k)
		}
		if d.Kind == "sequence" {
			return &Sequence{Steps: kids}, nil
		}
		return &Parallel{Branches: kids}, nil
	case "if":
		if len(d.Children) == 0 {
			return nil, errors.New("if without then")
		}
		then, err := Build(d.Children[0])
		if err != nil {
			return nil, err
		}
		cond := &Condition{Var: d.Var, Equals: d.Equals, Then: then}
		if len(d.Children) > 1 {
			if cond.Else, err = Build(d.Children[1]); err != nil {
				return nil, err
			}
		}
		return cond, nil
	}
	return nil, fmt.Errorf("unknown statement %q", d.Kind)
}

// Interpret runs a workflow written as data.
//
//flowgen:flow
func Interpret(fc flow.Context, a Activities, d Def, vars map[string]string) (map[string]string, error) {
	root, err := Build(d)
	if err != nil {
		return nil, err
	}
	if vars == nil {
		vars = map[string]string{}
	}
	return vars, root.Execute(fc, a, vars)
}
