package iterators

import (
	"iter"
	"os"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Stamps yields the wall clock: ranging over it calls its code.
func Stamps(n int) iter.Seq[int64] { // want Stamps:`^open: iterators\.Stamps → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`
	return func(yield func(int64) bool) {
		for range n {
			if !yield(time.Now().UnixNano()) { // want `time\.Now: reads the wall clock; use flow\.Now\(fc\)`
				return
			}
		}
	}
}

// Clocked ranges over an iterator whose code reads the clock.
//
//flowgen:flow
func Clocked(fc flow.Context, n int) int64 { // want `flow Clocked is not closed: Clocked → Stamps → time\.Now: reads the wall clock; use flow\.Now\(fc\)` Clocked:`^open: iterators\.Clocked → iterators\.Stamps → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`
	var t int64
	for s := range Stamps(n) {
		t += s
	}
	return t
}

// Env ranges over an iterator literal that reads the environment, held in
// a variable.
//
//flowgen:flow
func Env(fc flow.Context, keys []string) int { // want `flow Env is not closed: Env → os\.Getenv: is I/O or ambient authority \(files, environment, processes\)` Env:`^open: iterators\.Env → os\.Getenv: is I/O or ambient authority \(files, environment, processes\)$`
	seq := func(yield func(string) bool) {
		for _, k := range keys {
			if !yield(os.Getenv(k)) { // want `os\.Getenv: is I/O or ambient authority \(files, environment, processes\)`
				return
			}
		}
	}
	n := 0
	for v := range seq {
		n += len(v)
	}
	return n
}

// Counted ranges over a closed iterator held in a variable, with a body
// that is closed too.
//
//flowgen:flow
func Counted(fc flow.Context, l *List) int {
	all := l.All()
	n := 0
	for i := range all {
		n += i
	}
	return n
}
