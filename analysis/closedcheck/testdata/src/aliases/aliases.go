// Package aliases holds package state written through aliases: locals // want package:"analysed"
// that refer to it, functions given it, pointers to it.
package aliases

import (
	"slices"
	"sort"

	"github.com/asyncflow-go/asyncflow/flow"
)

var (
	// limits is written through a local that refers to it.
	limits = []int{10, 20, 30}
	// tiers is only read through locals: a lookup table.
	tiers = []int{1, 2, 3}
	// cache is filled by a function it is given to.
	cache = map[string]int{}
	// weights is given to a function that only reads it.
	weights = map[string]int{"a": 1}
	// config is reached through a package-level pointer and changed by it.
	config = settings{Limit: 5}
	live   = &config
	// defaults is copied and the copy changed: it stays as it is.
	defaults = settings{Limit: 7}
	// labels' tags are shared by a copy, and written through it.
	labels = settings{Tags: []string{"a"}}
)

type settings struct {
	Limit int
	Tags  []string
}

func raise() { // want raise:`open: aliases.raise → package variable limits`
	l := limits
	l[0]++
}

func fill(m map[string]int) { m["x"] = 1 } // want fill:"closed writes\\[0\\]"

func warm() { fill(cache) } // want warm:`open: aliases.warm → package variable cache`

func total(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

func setLimit(n int) { live.Limit = n } // want setLimit:`open: aliases.setLimit → package variable live`

// Raised reads limits, which raise writes through a local.
//
//flowgen:flow
func Raised(fc flow.Context) int { // want `flow Raised is not closed: Raised → package variable limits: reads package state that is written at aliases/aliases.go:37:2` Raised:`open: aliases.Raised → package variable limits`
	return limits[0] // want `package variable limits: reads package state that is written at aliases/aliases.go:37:2`
}

// Tiered reads tiers through a local, sorted as a copy.
//
//flowgen:flow
func Tiered(fc flow.Context) int {
	t := tiers
	c := slices.Clone(tiers)
	sort.Ints(c)
	return t[0] + c[0] + total(weights)
}

// Cached reads cache, which warm fills through fill.
//
//flowgen:flow
func Cached(fc flow.Context) int { // want `flow Cached is not closed` Cached:`open: aliases.Cached → package variable cache`
	return cache["x"] // want `package variable cache: reads package state that is written at aliases/aliases.go:42:20`
}

// Configured reads config, which setLimit writes through live.
//
//flowgen:flow
func Configured(fc flow.Context) int { // want `flow Configured is not closed` Configured:`open: aliases.Configured → package variable config`
	return config.Limit // want `package variable config: reads package state that is written at aliases/aliases.go:52:24`
}

// Copied changes a copy of defaults: defaults itself is unchanged.
//
//flowgen:flow
func Copied(fc flow.Context, n int) int {
	d := defaults
	d.Limit = n
	return d.Limit + defaults.Limit
}

// Sneaky writes package state through a local itself.
//
//flowgen:flow
func Sneaky(fc flow.Context, n int) int { // want `flow Sneaky is not closed` Sneaky:`open: aliases.Sneaky → package variable labels`
	tags := labels.Tags // want `package variable labels: reads package state that is written at aliases/aliases.go:99:2`
	tags[0] = "x"       // want `package variable labels: is written through tags\[…\]`
	return n
}
