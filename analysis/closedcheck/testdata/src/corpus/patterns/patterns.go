// Package patterns holds flows written with the higher-order and // want package:"analysed"
// object-oriented patterns real code uses: middleware chains, handler
// tables of method values, generic helpers, closures over counters,
// embedded structs, retry policies in package variables.
package patterns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Backend interface { // want Backend:"host"
	Do(ctx context.Context, op, arg string) (string, error)
}

// Step is one stage of a pipeline.
type Step func(fc flow.Context, in string) (string, error)

func logged(name string, next Step) Step { // want logged:`closed calls\(param 1 \)`
	return func(fc flow.Context, in string) (string, error) {
		slog.Info("step", "name", name, "in", in)
		return next(fc, in)
	}
}

func retried(n int, next Step) Step { // want retried:`closed calls\(param 1 \)`
	return func(fc flow.Context, in string) (string, error) {
		var err error
		for i := 0; i < n; i++ {
			var out string
			if out, err = next(fc, in); err == nil {
				return out, nil
			}
			flow.Sleep(fc, time.Duration(i+1)*time.Second)
		}
		return "", err
	}
}

func backend(b Backend, op string) Step {
	return func(fc flow.Context, in string) (string, error) { return b.Do(fc, op, in) }
}

func stamped(next Step) Step { // want stamped:`open: patterns\.stamped → time\.Now`
	return func(fc flow.Context, in string) (string, error) {
		return next(fc, in+time.Now().Format(time.RFC3339)) // want `time.Now`
	}
}

// Chained composes middleware around a host call.
//
//flowgen:flow
func Chained(fc flow.Context, b Backend, in string) (string, error) {
	s := logged("fetch", retried(3, backend(b, "fetch")))
	return s(fc, in)
}

// ChainedStamped adds a stage that reads the clock.
//
//flowgen:flow
func ChainedStamped(fc flow.Context, b Backend, in string) (string, error) { // want `flow ChainedStamped is not closed` ChainedStamped:`open: patterns\.ChainedStamped → patterns\.stamped → time\.Now`
	s := logged("fetch", stamped(backend(b, "fetch")))
	return s(fc, in)
}

// Service has handlers as methods.
type Service struct {
	b      Backend
	prefix string
}

func (s *Service) create(fc flow.Context, arg string) (string, error) {
	return s.b.Do(fc, "create", s.prefix+arg)
}

func (s *Service) remove(fc flow.Context, arg string) (string, error) {
	return s.b.Do(fc, "remove", s.prefix+arg)
}

// Dispatch routes commands through a table of method values.
//
//flowgen:flow
func Dispatch(fc flow.Context, b Backend, cmd, arg string) (string, error) {
	s := &Service{b: b, prefix: "svc/"}
	handlers := map[string]func(flow.Context, string) (string, error){
		"create": s.create,
		"remove": s.remove,
	}
	h, ok := handlers[strings.ToLower(cmd)]
	if !ok {
		return "", fmt.Errorf("unknown command %q", cmd)
	}
	return h(fc, arg)
}

// Map applies f to each element.
func Map[T, U any](xs []T, f func(T) U) []U { // want Map:`closed calls\(param 1 \)`
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// Filter keeps the elements f accepts.
func Filter[T any](xs []T, f func(T) bool) []T { // want Filter:`closed calls\(param 1 \)`
	var out []T
	for _, x := range xs {
		if f(x) {
			out = append(out, x)
		}
	}
	return out
}

// Generic uses generic helpers with closures.
//
//flowgen:flow
func Generic(fc flow.Context, b Backend, names []string) ([]string, error) {
	upper := Map(Filter(names, func(s string) bool { return s != "" }), strings.ToUpper)
	var errs []error
	out := Map(upper, func(s string) string {
		r, err := b.Do(fc, "greet", s)
		errs = append(errs, err)
		return r
	})
	return out, errors.Join(errs...)
}

func counter(start int) func() int {
	n := start
	return func() int {
		n++
		return n
	}
}

// Numbered numbers requests with a closure over a counter.
//
//flowgen:flow
func Numbered(fc flow.Context, b Backend, ops []string) error {
	next := counter(100)
	for _, op := range ops {
		if _, err := b.Do(fc, op, fmt.Sprint(next())); err != nil {
			return err
		}
	}
	return nil
}

// Base has shared behaviour.
type Base struct{ Name string }

// Describe says who it is.
func (b Base) Describe() string { return "I am " + b.Name }

// Robot embeds Base.
type Robot struct {
	Base
	Model string
}

// Embedded calls a promoted method.
//
//flowgen:flow
func Embedded(fc flow.Context, b Backend) (string, error) {
	r := Robot{Base: Base{Name: "R2"}, Model: "astromech"}
	return b.Do(fc, "say", r.Describe()+" "+r.Model)
}

// Policy is a retry policy.
type Policy struct {
	Initial, Max time.Duration
	Factor       float64
}

// Next is the delay after attempt n.
func (p *Policy) Next(n int) time.Duration {
	d := p.Initial
	for range n {
		d = time.Duration(float64(d) * p.Factor)
	}
	return min(d, p.Max)
}

// DefaultPolicy is used when none is given.
var DefaultPolicy = Policy{Initial: time.Second, Max: time.Minute, Factor: 2}

// Backoff waits between attempts by the default policy.
//
//flowgen:flow
func Backoff(fc flow.Context, b Backend, op string) (string, error) { // want Backoff:`closed reads\(corpus/patterns\.DefaultPolicy\)`
	var err error
	for n := range 5 {
		var out string
		if out, err = b.Do(fc, op, ""); err == nil {
			return out, nil
		}
		flow.Sleep(fc, DefaultPolicy.Next(n))
	}
	return "", err
}

// Memo memoises within one run of the flow.
//
//flowgen:flow
func Memo(fc flow.Context, b Backend, keys []string) (map[string]string, error) {
	memo := map[string]string{}
	get := func(k string) (string, error) {
		if v, ok := memo[k]; ok {
			return v, nil
		}
		v, err := b.Do(fc, "get", k)
		memo[k] = v
		return v, err
	}
	for _, k := range keys {
		if _, err := get(k); err != nil {
			return nil, err
		}
	}
	return memo, nil
}

// Child is a flow other flows call.
//
//flowgen:flow
func Child(fc flow.Context, b Backend, arg string) (string, error) {
	return b.Do(fc, "child", arg)
}

// Parent calls another flow as a function.
//
//flowgen:flow
func Parent(fc flow.Context, b Backend, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		r, err := Child(fc, b, a)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
