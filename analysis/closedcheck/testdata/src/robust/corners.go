package robust // want package:`analysed flow\(robust.HooksOpen reads example.com/cornerlib.Hooks\) flow\(robust.Inits reads robust.A robust.B\) .*impl\(example.com/ptrlib.T \*robust.recorder\) impl\(example.com/ptrlib.T \*robust.stampingRecorder\) impl\(robust.RI robust.ri\)\}$`

import (
	"iter"
	"sort"
	"strings"
	"unsafe"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Odd corners of Go the analysis must take in its stride: generics, method
// values and expressions, recursive types, unsafe, closures in closures,
// initialisation in several steps, type parameters in interfaces. Each flow
// here is closed but Unsafe.

// generics
type Number interface{ ~int | ~int64 | ~float64 }

func Sum[T Number](xs ...T) T {
	var t T
	for _, x := range xs {
		t += x
	}
	return t
}

type Stack[T any] struct{ items []T }

func (s *Stack[T]) Push(x T) { s.items = append(s.items, x) } // want Push:`^closed writes\[-1\] stores\(-1\.items\[\] ← 0\)$`
func (s *Stack[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, x := range s.items {
			if !yield(x) {
				return
			}
		}
	}
}

type stringer interface{ String() string }

type Box[T stringer] struct{ v T }

func (b Box[T]) Show() string { return b.v.String() } // want Show:`^closed calls\(typeparam 0 String\)$`

type Tree[T any] struct {
	Left, Right *Tree[T]
	Val         T
}

func (t *Tree[T]) Walk(f func(T)) { // want Walk:`^closed calls\(param 0 \)$`
	if t == nil {
		return
	}
	t.Left.Walk(f)
	f(t.Val)
	t.Right.Walk(f)
}

type Pair[K comparable, V any] struct {
	K K
	V V
}

func Map[T, U any](xs []T, f func(T) U) []U { // want Map:`^closed calls\(param 1 \)$`
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

type List[T any] interface {
	Len() int
	At(i int) T
}

type sl[T any] []T

func (s sl[T]) Len() int     { return len(s) }
func (s sl[T]) At(i int) T   { return s[i] }
func Gen[T any](l List[T]) T { return l.At(l.Len() - 1) } // want Gen:`^closed calls\(param 0 At\) calls\(param 0 Len\)$`

type Cmp[T any] interface {
	Compare(T) int
}

type ival int

func (a ival) Compare(b ival) int { return int(a - b) }

func Max[T Cmp[T]](xs []T) T { // want Max:`^closed calls\(typeparam 0 Compare\)$`
	m := xs[0]
	for _, x := range xs[1:] {
		if x.Compare(m) > 0 {
			m = x
		}
	}
	return m
}

//flowgen:flow
func Generic(fc flow.Context, s Store) error {
	st := &Stack[string]{}
	st.Push("a")
	var b strings.Builder
	for x := range st.All() {
		b.WriteString(x)
	}
	t := &Tree[int]{Val: 1, Left: &Tree[int]{Val: 0}}
	n := 0
	t.Walk(func(v int) { n += v })
	ys := Map([]int{1, 2}, func(i int) string { return strings.Repeat("x", i) })
	g := Gen[int](sl[int]{1, 2})
	m := Max([]ival{1, 3, 2})
	_ = Pair[string, int]{"a", Sum(1, 2, g, int(m))}
	return s.Put(fc, b.String(), strings.Join(ys, ""))
}

// method values and expressions
type counter struct{ n int }

func (c *counter) inc() int { c.n++; return c.n } // want inc:`^closed writes\[-1\]$`
func (c counter) get() int  { return c.n }

//flowgen:flow
func MethodValues(fc flow.Context, s Store) error {
	c := &counter{}
	f := c.inc
	g := (*counter).inc
	h := counter.get
	var i interface{ get() int } = *c
	k := i.get
	fs := []func() int{f, func() int { return g(c) }, func() int { return h(*c) }, k}
	total := 0
	for _, fn := range fs {
		total += fn()
	}
	return s.Put(fc, "k", strings.Repeat("x", total))
}

// recursive types
type Node struct { // want Node:`^fields \.Self\(Eval\)$`
	Kids []*Node
	Next *Node
	Fn   func(*Node) *Node
	Self interface{ Eval(*Node) int }
}

type evaler struct{ n *Node }

func (e evaler) Eval(n *Node) int { // want Eval:`^closed calls\(param 0\.Kids\[\]\.Self Eval\)$`
	if n == nil {
		return 0
	}
	s := 0
	for _, k := range n.Kids {
		s += k.Self.Eval(k)
	}
	return s
}

type R func(R) R

type RI interface{ Next() RI }

type ri struct{ next RI }

func (r ri) Next() RI { return r.next }

//flowgen:flow
func Recursive(fc flow.Context, s Store) error {
	n := &Node{}
	n.Next = n
	n.Self = evaler{n}
	n.Fn = func(x *Node) *Node { return x.Next }
	n.Kids = []*Node{n}
	var r R
	r = func(x R) R { return x }
	r(r)
	var x RI = ri{}
	for i := 0; i < 3 && x != nil; i++ {
		x = x.Next()
	}
	return s.Put(fc, "k", strings.Repeat("x", n.Self.Eval(n.Fn(n))))
}

// unsafe without cgo
//
//flowgen:flow
func Unsafe(fc flow.Context, s Store, b []byte) error { // want `flow Unsafe is not closed: Unsafe → unsafe\.Pointer: is unsafe` Unsafe:`^open: robust\.Unsafe → unsafe\.Pointer: is unsafe$`
	str := unsafe.String(unsafe.SliceData(b), len(b))
	p := unsafe.Pointer(&b[0]) // want `unsafe\.Pointer: is unsafe`
	q := (*byte)(unsafe.Add(p, 1))
	_ = *q
	_ = unsafe.Sizeof(b)
	return s.Put(fc, "k", str)
}

// closures in closures
//
//flowgen:flow
func Closures(fc flow.Context, s Store) error {
	mk := func(n int) func() func() int {
		return func() func() int {
			return func() int {
				return func(f func() int) int { return f() }(func() int { return n })
			}
		}
	}
	var rec func(int) int
	rec = func(i int) int {
		if i == 0 {
			return 0
		}
		return rec(i-1) + mk(i)()()
	}
	return s.Put(fc, "k", strings.Repeat("x", rec(3)))
}

// init cycles through functions
var A = initA()
var B = initB()

func initA() int { return len(tableA) + 1 }
func initB() int { return A + 1 } // want initB:`^closed reads\(robust\.A\)$`

var tableA = map[string]func() int{}

func init() { // want init:`^closed reads\(robust\.A robust\.B\)$`
	tableA["a"] = func() int { return A }
	tableA["b"] = func() int { return B }
	tableA["c"] = tableA["a"]
}

//flowgen:flow
func Inits(fc flow.Context, s Store) error { // want Inits:`^closed reads\(robust\.A robust\.B\)$`
	return s.Put(fc, "k", strings.Repeat("x", tableA["a"]()+B))
}

// type params in interfaces
type Getter[T any] interface{ Get() T }
type Setter[T any] interface {
	Getter[T]
	Set(T)
}

type cell[T any] struct{ v T }

func (c *cell[T]) Get() T  { return c.v }
func (c *cell[T]) Set(v T) { c.v = v } // want Set:`^closed writes\[-1\] stores\(-1\.v ← 0\)$`

func Use[T any, S Setter[T]](s S, v T) T { // want Use:`^closed calls\(typeparam 1 Set\) calls\(typeparam 1 Get\)$`
	s.Set(v)
	return s.Get()
}

type PtrTo[T any] interface {
	*T
	Setter[int]
}

func MakeAndSet[T any, P PtrTo[T]]() P { // want MakeAndSet:`^closed calls\(typeparam 1 Set\)$`
	p := P(new(T))
	p.Set(1)
	return p
}

type Ord[T any] interface {
	~int | ~string
	Less(T) bool
}

type oint int

func (a oint) Less(b oint) bool { return a < b }

func Least[T Ord[T]](xs ...T) T { // want Least:`^closed calls\(typeparam 0 Less\)$`
	m := xs[0]
	for _, x := range xs {
		if x.Less(m) {
			m = x
		}
	}
	return m
}

//flowgen:flow
func TypeParamIfaces(fc flow.Context, s Store) error {
	c := &cell[int]{}
	v := Use[int](c, 3)
	var g Getter[int] = c
	p := MakeAndSet[cell[int]]()
	_ = Least[oint](3, 1, 2)
	keys := []string{"b", "a"}
	sort.Strings(keys)
	return s.Put(fc, strings.Join(keys, ""), strings.Repeat("x", v+g.Get()+p.Get()))
}
