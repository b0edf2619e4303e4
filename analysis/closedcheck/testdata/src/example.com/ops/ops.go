// Package ops holds tables of functions other packages call. // want package:"analysed"
package ops

import (
	"strings"
	"time"
)

// Step is a named transformation.
type Step struct {
	Name string
	Run  func(string) string
}

// Steps is a pipeline of pure functions nothing writes.
var Steps = []Step{
	{Name: "trim", Run: strings.TrimSpace},
	{Name: "upper", Run: strings.ToUpper},
	{Name: "wrap", Run: func(s string) string { return "[" + s + "]" }},
}

// Clocks maps names to functions that read the clock.
var Clocks = map[string]func() int64{ // want Clocks:`unwritten calls\(\[\] open: ops\.Clocks initializer → time\.Now: reads the wall clock; use flow\.Now\(fc\)\)`
	"unix": func() int64 { return time.Now().Unix() },
}

// Defaults are options with closures.
var Defaults = Options{Retries: 3, Backoff: func(n int) int { return n * n }}

// Options configure a retry.
type Options struct {
	Retries int
	Backoff func(int) int
}
