// Package funcvals holds flows calling function values kept in fields and // want package:"analysed"
// elements of values never written after initialisation.
package funcvals

import (
	"strconv"
	"strings"
	"time"

	"example.com/ops"
	"github.com/asyncflow-go/asyncflow/flow"
)

// Handlers is an exported dispatch table nothing writes.
var Handlers = map[string]func(int) int{
	"double": func(n int) int { return 2 * n },
	"negate": func(n int) int { return -n },
}

// Dispatch calls through the table.
//
//flowgen:flow
func Dispatch(fc flow.Context, op string, n int) int { // want Dispatch:`closed reads\(funcvals\.Handlers\)`
	if h, ok := Handlers[op]; ok {
		return h(n)
	}
	return n
}

// Options configure a retry loop with closures.
type Options struct { // want Options:`fields \.Backoff: open`
	Attempts int
	Backoff  func(attempt int) time.Duration
	OnRetry  func(attempt int, err error)
}

// retry calls the options' closures: its callers say what they are.
func retry(o Options, do func() error) error { // want retry:`closed calls\(param 1 \) calls\(param 0\.OnRetry \) calls\(param 0\.Backoff \)`
	var err error
	for i := range o.Attempts {
		if err = do(); err == nil {
			return nil
		}
		if o.OnRetry != nil {
			o.OnRetry(i, err)
		}
		_ = o.Backoff(i)
	}
	return err
}

// Retried passes closures that are closed.
//
//flowgen:flow
func Retried(fc flow.Context, n int) error {
	opts := Options{
		Attempts: 3,
		Backoff:  func(a int) time.Duration { return time.Duration(a) * time.Second },
		OnRetry:  func(a int, err error) { n += a },
	}
	return retry(opts, func() error { return nil })
}

// Jittered passes a closure that draws a wall-clock jitter.
//
//flowgen:flow
func Jittered(fc flow.Context) error { // want `flow Jittered is not closed: Jittered → time.Since` Jittered:`open: funcvals\.Jittered → time\.Since`
	opts := Options{Attempts: 2, Backoff: func(a int) time.Duration { return time.Since(time.Now()) }} // want `time.Since` `time.Now`
	return retry(opts, func() error { return nil })
}

// Option is a functional option.
type Option func(*config)

type config struct {
	limit int
	label string
}

// WithLimit sets the limit.
func WithLimit(n int) Option { return func(c *config) { c.limit = n } }

// WithLabel sets the label.
func WithLabel(s string) Option { return func(c *config) { c.label = strings.ToUpper(s) } }

// WithStamp sets the label from the clock.
func WithStamp() Option { return func(c *config) { c.label = time.Now().String() } } // want `time.Now` WithStamp:`open: funcvals\.WithStamp → time\.Now`

func newConfig(opts ...Option) config { // want newConfig:`closed calls\(param 0\[\] \)`
	c := config{limit: 10}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Configured builds a configuration from options.
//
//flowgen:flow
func Configured(fc flow.Context, n int) string {
	c := newConfig(WithLimit(n), WithLabel("x"))
	return c.label + strconv.Itoa(c.limit)
}

// Stamped adds an option that reads the clock.
//
//flowgen:flow
func Stamped(fc flow.Context) string { // want `flow Stamped is not closed: Stamped → WithStamp → time.Now` Stamped:`open: funcvals\.Stamped → funcvals\.WithStamp → time\.Now`
	return newConfig(WithLimit(1), WithStamp()).label
}

// Pipeline runs another package's table of steps.
//
//flowgen:flow
func Pipeline(fc flow.Context, s string) string { // want Pipeline:`closed reads\(example\.com/ops\.Defaults example\.com/ops\.Steps\)`
	for _, st := range ops.Steps {
		s = st.Run(s)
	}
	return s + strconv.Itoa(ops.Defaults.Backoff(ops.Defaults.Retries))
}

// Clock calls a function of another package's table that reads the clock.
//
//flowgen:flow
func Clock(fc flow.Context) int64 { // want `flow Clock is not closed: Clock → ops.Clocks initializer → time.Now` Clock:`open: funcvals\.Clock → ops\.Clocks initializer → time\.Now`
	return ops.Clocks["unix"]() // want `package variable ops.Clocks\[\] is not closed: ops.Clocks initializer → time.Now`
}

// Hooks holds a function a flow cannot know: it is set by whoever calls
// Register.
var hooks = map[string]func() int{}

// Register adds a hook at run time.
func Register(name string, h func() int) { hooks[name] = h } // want Register:`open: funcvals\.Register → package variable hooks`

// Hooked calls a hook.
//
//flowgen:flow
func Hooked(fc flow.Context) int { // want `flow Hooked is not closed` Hooked:`open: funcvals\.Hooked → package variable hooks`
	return hooks["a"]() // want `package variable hooks: reads package state that is written at`
}

// Given calls a field of a struct the flow is given.
//
//flowgen:flow
func Given(fc flow.Context, o Options) time.Duration { // want `flow Given is not closed` Given:`open: funcvals\.Given → field Backoff`
	return o.Backoff(1) // want `field Backoff: holds a function whose target cannot be known`
}
