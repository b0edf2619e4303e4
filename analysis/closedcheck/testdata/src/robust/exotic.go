package robust

import (
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

type aliasB = plainB
type plainB struct{ F func() string } // want plainB:`^fields \.F: open$`

type genericAlias[T any] = map[string]T

type intSeq func(func(int) bool)

func (s intSeq) Each(f func(int)) { // want Each:`^closed calls\(param -1 \) ordered calls\(param 0 \)$`
	for x := range s {
		f(x)
	}
}

func countTo(n int) intSeq {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

func once(yield func() bool) { yield() } // want once:`^closed calls\(param 0 \)$`

type embeds struct {
	plainB
	*strings.Builder
	fs   [3]func() int
	nest [][][]func() string
}

func _()                           {}
func (embeds) _()                  {}
func init()                        {}
func init()                        { _ = len("") }
func append2(x []int, y int) []int { return append(x, y) }

type strFunc func() string

type mer interface{ M() string }
type merImpl struct{ M2 func() string } // want merImpl:`^fields \.M2: open$`

func (i merImpl) M() string { return i.M2() } // want M:`^closed calls\(param -1\.M2 \)$`

func namedResults() (s string, err error) {
	defer func() { s += "!" }()
	s = "x"
	return
}

func joinAll(fs ...func() string) string { // want joinAll:`^closed calls\(param 0\[\] \)$`
	out := ""
	for _, f := range fs {
		out += f()
	}
	return out
}

// Aliases (generic too), methods on function types, ranges over integers
// and over iterator functions, builtins shadowed, blank and repeated
// declarations, labels, method expressions of interfaces.
//
//flowgen:flow
func Exotic(fc flow.Context, s Store) error {
	var a aliasB = plainB{F: func() string { return "a" }}
	var ga genericAlias[int] = genericAlias[int]{"a": 1}
	total := 0
	countTo(3).Each(func(i int) { total += i })
	for range once {
	}
	for i := range 10 {
		total += i
	}
	e := embeds{plainB: a, Builder: &strings.Builder{}}
	e.fs[0] = func() int { return 1 }
	e.nest = [][][]func() string{{{a.F}}}
	e.WriteString(e.F())
	e.WriteString(e.nest[0][0][0]())
	total += e.fs[0]()
	len := func(s string) int { return 0 }
	nil := 0
	total += len("x") + nil
	var i mer = merImpl{M2: strFunc(func() string { return "m" })}
	m := mer.M
	r, _ := namedResults()
	fs := []func() string{i.M, func() string { return m(i) }}
	r += joinAll(fs...) + joinAll(a.F, e.F)
	keys := slices.Sorted(maps.Keys(ga))
	var x []int
	x = append2(x, 1)
L:
	for j := 0; j < 3; j++ {
		switch {
		case j == 1:
			continue L
		case j == 2:
			break L
		}
		goto next
	next:
	}
	var it iter.Seq2[int, string] = func(yield func(int, string) bool) {
		for i, k := range keys {
			if !yield(i, k) {
				return
			}
		}
	}
	for i, k := range it {
		r += k + strings.Repeat("x", i)
	}
	return s.Put(fc, r, e.String()+strings.Repeat("x", total+ga["a"]+x[0]))
}

type hookHolder struct{ hook func() time.Time } // want hookHolder:`^fields \.hook: open$`

//flowgen:flow
func ExoticOpen(fc flow.Context, s Store) error { // want `flow ExoticOpen is not closed: ExoticOpen → time\.Since: reads the wall clock; subtract from flow\.Now\(fc\)` ExoticOpen:`^open: robust\.ExoticOpen → time\.Since: reads the wall clock; subtract from flow\.Now\(fc\) \(\+2\)$`
	var a aliasB = plainB{F: func() string { return time.Since(time.Time{}).String() }} // want `time\.Since: reads the wall clock; subtract from flow\.Now\(fc\)`
	g := hookHolder{hook: time.Now}
	var e embeds
	e.nest = [][][]func() string{{{a.F}}}
	var i mer = merImpl{M2: strFunc(func() string { return time.Since(g.hook()).String() })} // want `time\.Since: reads the wall clock; subtract from flow\.Now\(fc\)` `time\.Now: reads the wall clock; use flow\.Now\(fc\)`
	return s.Put(fc, e.nest[0][0][0](), joinAll(i.M))
}
