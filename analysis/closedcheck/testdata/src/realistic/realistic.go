package realistic // want package:"analysed"

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Notifier interface { // want Notifier:"host"
	Notify(ctx context.Context, who, msg string) error
}

var (
	// region is read from the environment at start-up: it differs between
	// machines and incarnations.
	region = os.Getenv("REGION") // want `os.Getenv`
	// started is the clock at start-up.
	started time.Time
	// greeting is a plain constant-like table: fine.
	greeting = strings.Repeat("hi ", 2)
)

func init() { // want init:`open: realistic\.init → time\.Now`
	started = time.Now() // want `time.Now`
}

//flowgen:flow
func Regional(fc flow.Context, n Notifier, who string) error { // want `flow Regional is not closed: Regional → package variable region: is initialised by code that is not closed` Regional:`open: realistic\.Regional → package variable region`
	return n.Notify(fc, who, "from "+region) // want `package variable region: is initialised by code that is not closed \(region initializer → os.Getenv`
}

//flowgen:flow
func Uptime(fc flow.Context) time.Duration { // want `flow Uptime is not closed` Uptime:`open: realistic\.Uptime → package variable started`
	return flow.Now(fc).Sub(started) // want `package variable started: is initialised by code that is not closed \(init → time.Now`
}

//flowgen:flow
func Greet(fc flow.Context, n Notifier, who string) error {
	return n.Notify(fc, who, greeting+who)
}

//flowgen:flow
func Summary(fc flow.Context, counts map[string]int) string {
	lines := make([]string, 0, len(counts))
	for name, n := range counts {
		lines = append(lines, fmt.Sprintf("%s: %d", strings.ToUpper(name), n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

//flowgen:flow
func SummaryWithHost(fc flow.Context, n Notifier, counts map[string]int) []error { // want `flow SummaryWithHost is not closed` SummaryWithHost:`open: realistic\.SummaryWithHost → range over a map`
	var errs []error
	for name := range counts { // want `range over a map`
		errs = append(errs, n.Notify(fc, name, "count")) // host calls in random order
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

type step struct {
	name string
	run  func(int) int
}

//flowgen:flow
func Pipeline(fc flow.Context, x int) int {
	ops := map[string]func(int) int{
		"double": func(v int) int { return v * 2 },
		"inc":    func(v int) int { return v + 1 },
	}
	x = ops["double"](x)
	steps := []func(int) int{ops["inc"], func(v int) int { return v - 3 }}
	for _, s := range steps {
		x = s(x)
	}
	st := step{name: "square", run: func(v int) int { return v * v }}
	return st.run(x)
}

//flowgen:flow
func BadPipeline(fc flow.Context, x int) int { // want `flow BadPipeline is not closed` BadPipeline:`open: realistic\.BadPipeline → time\.Now`
	ops := []func(int) int{
		func(v int) int { return v + int(time.Now().Unix()) }, // want `time.Now`
	}
	return ops[0](x)
}

// DenialError is an error type; ErrDenied a sentinel of it.
type DenialError struct{ Code int }

func (e *DenialError) Error() string { return "denied" }

var ErrDenied = &DenialError{Code: 7} // want ErrDenied:"sentinel"

//flowgen:flow
func Deny(fc flow.Context, n Notifier, who string) error {
	if who == "" {
		return ErrDenied
	}
	return n.Notify(fc, who, "ok")
}

type account struct {
	Active bool
	Cents  int
}

//flowgen:flow
func Actives(fc flow.Context, accts map[string]account) ([]string, int) {
	var active []string
	inactive := 0
	for id, a := range accts {
		if a.Active {
			active = append(active, strings.ToLower(id))
		} else {
			inactive++
		}
	}
	sort.Strings(active)
	return active, inactive
}

//flowgen:flow
func ActivesUnsorted(fc flow.Context, accts map[string]account) []string { // want `flow ActivesUnsorted is not closed` ActivesUnsorted:`open: realistic\.ActivesUnsorted → range over a map`
	var active []string
	for id, a := range accts { // want `range over a map`
		if a.Active {
			active = append(active, id)
		}
	}
	return active
}

// pricing is an unexported strategy interface: its implementations are all
// here, so calls through it are judged against each.
type pricing interface{ price(cents int) int }

type standard struct{}

func (standard) price(c int) int { return c }

type discount struct{ pct int }

func (d discount) price(c int) int { return c * (100 - d.pct) / 100 }

func strategy(kind string) pricing {
	if kind == "sale" {
		return discount{pct: 10}
	}
	return standard{}
}

//flowgen:flow
func Price(fc flow.Context, kind string, cents int) int {
	return strategy(kind).price(cents)
}

// clocky is another strategy interface with one implementation that reads
// the clock.
type clocky interface{ at() int64 }

type fixed struct{}

func (fixed) at() int64 { return 0 }

type live struct{}

func (live) at() int64 { return time.Now().Unix() } // want `time.Now` at:`open: realistic\.live\.at → time\.Now`

func pickClock(b bool) clocky {
	if b {
		return live{}
	}
	return fixed{}
}

//flowgen:flow
func When(fc flow.Context, b bool) int64 { // want `flow When is not closed: When → live.at → time.Now` When:`open: realistic\.When → realistic\.live\.at → time\.Now`
	return pickClock(b).at()
}

//flowgen:flow
func Fib(fc flow.Context, n int) int {
	var fib func(int) int
	fib = func(k int) int {
		if k < 2 {
			return k
		}
		return fib(k-1) + fib(k-2)
	}
	return fib(n)
}

//flowgen:flow
func Extremes(fc flow.Context, m map[string]int) (int, int) {
	hi, lo := 0, 1<<30
	for _, v := range m {
		if v > hi {
			hi = v
		}
		lo = min(lo, v)
	}
	return hi, lo
}

//flowgen:flow
func Longest(fc flow.Context, m map[string]int) string { // want `flow Longest is not closed` Longest:`open: realistic\.Longest → range over a map`
	longest := ""
	for k := range m { // want `range over a map`
		if len(k) > len(longest) {
			longest = k // ties between keys of one length: random
		}
	}
	return longest
}

//flowgen:flow
func ArgMax(fc flow.Context, m map[string]int) string { // want `flow ArgMax is not closed` ArgMax:`open: realistic\.ArgMax → range over a map`
	best, bestKey := 0, ""
	for k, v := range m { // want `range over a map`
		if v > best {
			best, bestKey = v, k
		}
	}
	return bestKey
}

//flowgen:flow
func Descending(fc flow.Context, m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	return keys
}

// handlers is a dispatch table never written after initialisation.
var handlers = map[string]func(int) int{
	"double": func(n int) int { return 2 * n },
	"negate": func(n int) int { return -n },
}

//flowgen:flow
func Dispatch(fc flow.Context, op string, n int) int {
	if h, ok := handlers[op]; ok {
		return h(n)
	}
	return handlers["double"](n)
}

// booted is the clock when the package was initialised.
var booted = time.Now() // want `time.Now`

//flowgen:flow
func SinceBoot(fc flow.Context) time.Duration { // want `flow SinceBoot is not closed` SinceBoot:`open: realistic\.SinceBoot → package variable booted`
	return flow.Now(fc).Sub(booted) // want `package variable booted: is initialised by code that is not closed \(booted initializer → time.Now`
}
