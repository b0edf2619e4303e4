// Package cornerlib holds odd corners other packages reach: a generic set // want package:`analysed\}$`
// iterated in map order, a generic interface, hooks init installs.
package cornerlib

import (
	"iter"
	"time"
)

type Set[K comparable] struct{ m map[K]bool }

func NewSet[K comparable](ks ...K) *Set[K] {
	s := &Set[K]{m: map[K]bool{}}
	for _, k := range ks {
		s.m[k] = true
	}
	return s
}

func (s *Set[K]) All() iter.Seq[K] { // want All:`^closed maporder$`
	return func(yield func(K) bool) {
		for k := range s.m {
			if !yield(k) {
				return
			}
		}
	}
}

type Visitor[T any] interface{ Visit(T) Visitor[T] }

func Walk[T any](v Visitor[T], xs []T) { // want Walk:`^open: cornerlib\.Walk → cornerlib\.Visitor\[T\]\.Visit: is called through an interface whose implementation cannot be known: cannot prove closed calls\(param 0 Visit\)$`
	for _, x := range xs {
		if v = v.Visit(x); v == nil {
			return
		}
	}
}

var Hooks = map[string]func() string{} // want Hooks:`^unwritten calls\(\[\] open: cornerlib\.init → time\.Now: reads the wall clock; use flow\.Now\(fc\)\)$`

func init() { // want init:`^open: cornerlib\.init → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`
	Hooks["now"] = func() string { return time.Now().String() }
}
