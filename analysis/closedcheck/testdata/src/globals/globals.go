package globals // want package:"analysed"

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

var (
	// ErrNotFound is a sentinel: reading it is fine.
	ErrNotFound = errors.New("not found")                // want ErrNotFound:"sentinel"
	ErrWrapped  = fmt.Errorf("wrapped: %w", ErrNotFound) // want ErrWrapped:"sentinel"

	// rates is a lookup table never written after initialisation.
	rates = map[string]int{"eur": 100, "usd": 92}
	// pattern is compiled once and only read.
	pattern = regexp.MustCompile(`^[a-z]+$`)

	// counter is written by bump: mutable.
	counter int
	// cache is written by index.
	cache = map[string]string{}
	// buf's address escapes through a pointer-receiver method.
	buf bytes.Buffer
	// limits is filled in by init only: it counts as initialisation.
	limits []int
	// names is written by setupNames, which only init calls.
	names []string

	// Threshold is exported and written by SetThreshold.
	Threshold = 10 // want Threshold:`written at globals/globals\.go:90:28`
)

func init() {
	limits = []int{1, 2, 3}
	setupNames()
}

func setupNames() { names = append(names, "a", "b") }

func bump() { counter++ } // want `package variable counter: writes package state, which replay does not restore \(flow Bump: Bump → bump → package variable counter\)` bump:`open: globals\.bump → package variable counter`

func remember(k, v string) { cache[k] = v } // want `package variable cache: writes package state` remember:`open: globals\.remember → package variable cache`

func logLine(s string) { buf.WriteString(s) } // want `package variable buf: writes package state` logLine:`open: globals\.logLine → package variable buf`

//flowgen:flow
func Lookup(fc flow.Context, currency string) (int, error) {
	r, ok := rates[currency]
	if !ok || !pattern.MatchString(currency) {
		return 0, ErrNotFound
	}
	if errors.Is(ErrWrapped, ErrNotFound) {
		r += limits[0] + len(names)
	}
	return r, nil
}

//flowgen:flow
func Count(fc flow.Context) int { // want `flow Count is not closed: Count → package variable counter: reads package state that is written at` Count:`open: globals\.Count → package variable counter`
	return counter // want `package variable counter: reads package state that is written at globals/globals.go:45:15`
}

//flowgen:flow
func Bump(fc flow.Context) { // want `flow Bump is not closed: Bump → bump → package variable counter: writes package state` Bump:`open: globals\.Bump → globals\.bump → package variable counter`
	bump()
}

//flowgen:flow
func Remember(fc flow.Context, k string) string { // want `flow Remember is not closed` Remember:`open: globals\.Remember → globals\.remember → package variable cache`
	remember(k, strings.ToUpper(k))
	return cache[k] // want `package variable cache: reads package state`
}

//flowgen:flow
func Log(fc flow.Context, s string) { // want `flow Log is not closed` Log:`open: globals\.Log → globals\.logLine → package variable buf`
	logLine(s)
}

//flowgen:flow
func Exported(fc flow.Context, n int) bool { // want `flow Exported is not closed` Exported:`open: globals\.Exported → package variable Threshold`
	return n > Threshold // want `package variable Threshold: reads an exported variable other packages can change: cannot prove closed`
}

// SetThreshold changes Threshold: a flow reading it is not closed.
func SetThreshold(n int) { Threshold = n } // want SetThreshold:`open: globals\.SetThreshold → package variable Threshold`
