// Package iterators holds flows that range over functions (iter.Seq). // want package:"analysed"
package iterators

import (
	"iter"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

// List keeps items in order.
type List struct{ items []string }

// All yields the items in order.
func (l *List) All() iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for i, s := range l.items {
			if !yield(i, s) {
				return
			}
		}
	}
}

// Set keeps members in a map.
type Set struct{ m map[string]int }

// Members yields in map order: its consumers must not depend on it.
func (s *Set) Members() iter.Seq2[string, int] { // want Members:"closed maporder"
	return func(yield func(string, int) bool) {
		for k, v := range s.m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Names yields the members' names, in map order too.
func (s *Set) Names() iter.Seq[string] { // want Names:"closed maporder"
	seq := func(yield func(string) bool) {
		for k := range s.m {
			if !yield(k) {
				return
			}
		}
	}
	return seq
}

// Countdown is an iterator written as a function.
func Countdown(yield func(int) bool) { // want Countdown:`closed calls\(param 0 \)`
	for i := 3; i > 0; i-- {
		if !yield(i) {
			return
		}
	}
}

// Ordered ranges over a slice iterator.
//
//flowgen:flow
func Ordered(fc flow.Context, l *List) string {
	var out []string
	for i, s := range l.All() {
		out = append(out, strings.Repeat(s, i))
	}
	for n := range Countdown {
		out = append(out, strings.Repeat("!", n))
	}
	return strings.Join(out, ",")
}

// Totals sums what a map iterator yields: the order does not matter.
//
//flowgen:flow
func Totals(fc flow.Context, s *Set) (int, int, map[string]int) {
	total, n := 0, 0
	doubled := map[string]int{}
	for k, v := range s.Members() {
		total += v
		n++
		doubled[k] = 2 * v
	}
	return total, n, doubled
}

// Sorted collects the names and sorts them.
//
//flowgen:flow
func Sorted(fc flow.Context, s *Set) []string {
	var names []string
	for k := range s.Names() {
		names = append(names, k)
	}
	sort.Strings(names)
	return append(names, slices.Sorted(s.Names())...)
}

// First takes whichever name comes first: map order.
//
//flowgen:flow
func First(fc flow.Context, s *Set) string { // want `flow First is not closed: First → Set.Names: yields in map order` First:`open: iterators\.First → iterators\.Set\.Names`
	for k := range s.Names() { // want `Set.Names: yields in map order`
		return k
	}
	return ""
}

// Collected keeps the names in map order.
//
//flowgen:flow
func Collected(fc flow.Context, s *Set) []string { // want `flow Collected is not closed` Collected:`open: iterators\.Collected → iterators\.Set\.Names`
	return slices.Collect(s.Names()) // want `Set.Names: yields in map order`
}

// sum does not depend on the order it is given values in.
func sum(seq iter.Seq[int]) int { // want sum:`closed calls\(param 0 \)`
	t := 0
	for v := range seq {
		t += v
	}
	return t
}

// firstOf does.
func firstOf(seq iter.Seq[string]) string { // want firstOf:`closed calls\(param 0 \) ordered`
	for v := range seq {
		return v
	}
	return ""
}

// Helpers passes map iterators to helpers: one sums, one takes the first.
//
//flowgen:flow
func Helpers(fc flow.Context, m map[string]int) (int, string) { // want `flow Helpers is not closed: Helpers → maps.Keys: yields in random order` Helpers:`open: iterators\.Helpers → maps\.Keys`
	return sum(maps.Values(m)), firstOf(maps.Keys(m)) // want `maps.Keys: yields in random order`
}

// Lines ranges over standard iterators.
//
//flowgen:flow
func Lines(fc flow.Context, text string) int {
	n := 0
	for line := range strings.Lines(text) {
		for f := range strings.FieldsSeq(line) {
			n += len(f)
		}
	}
	return n
}
