package robust

import (
	"os"
	"strings"
	"time"

	"example.com/cornerlib"
	"github.com/asyncflow-go/asyncflow/flow"
)

// The open counterparts of corners.go: each flow reaches something that is
// not closed through the same shapes, and must be reported.

//flowgen:flow
func GenericIterOpen(fc flow.Context, s Store) error { // want `flow GenericIterOpen is not closed: GenericIterOpen → cornerlib\.Set\.All: yields in map order \(it ranges over a map\); sort what it yields, or consume it with an order-free loop` GenericIterOpen:`^open: robust\.GenericIterOpen → cornerlib\.Set\.All: yields in map order \(it ranges over a map\); sort what it yields, or consume it with an order-free loop$`
	var b strings.Builder
	for k := range cornerlib.NewSet("a", "b").All() { // want `cornerlib\.Set\.All: yields in map order \(it ranges over a map\); sort what it yields, or consume it with an order-free loop`
		b.WriteString(k)
	}
	return s.Put(fc, "k", b.String())
}

type clockVisitor struct{}

func (c clockVisitor) Visit(x int) cornerlib.Visitor[int] { // want Visit:`^open: robust\.clockVisitor\.Visit → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`
	_ = time.Now() // want `time\.Now: reads the wall clock; use flow\.Now\(fc\)`
	return c
}

//flowgen:flow
func VisitorOpen(fc flow.Context, s Store) error { // want `flow VisitorOpen is not closed: VisitorOpen → cornerlib\.Walk → cornerlib\.Visitor\[T\]\.Visit: is called through an interface whose implementation cannot be known: cannot prove closed` VisitorOpen:`^open: robust\.VisitorOpen → cornerlib\.Walk → cornerlib\.Visitor\[T\]\.Visit: is called through an interface whose implementation cannot be known: cannot prove closed \(\+1\)$`
	cornerlib.Walk[int](clockVisitor{}, []int{1}) // want `cornerlib\.Walk is not closed: cornerlib\.Walk → cornerlib\.Visitor\[T\]\.Visit: is called through an interface whose implementation cannot be known: cannot prove closed`
	return s.Put(fc, "k", "v")
}

type ticker struct{}

func (ticker) now() string { return time.Now().String() } // want `time\.Now: reads the wall clock; use flow\.Now\(fc\)` now:`^open: robust\.ticker\.now → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`

//flowgen:flow
func MethodValueOpen(fc flow.Context, s Store) error { // want `flow MethodValueOpen is not closed: MethodValueOpen → ticker\.now → time\.Now: reads the wall clock; use flow\.Now\(fc\)` MethodValueOpen:`^open: robust\.MethodValueOpen → robust\.ticker\.now → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`
	f := ticker{}.now
	g := ticker.now
	fs := map[string]func() string{"f": f, "g": func() string { return g(ticker{}) }}
	return s.Put(fc, "k", fs["f"]()+fs["g"]())
}

//flowgen:flow
func ClosuresOpen(fc flow.Context, s Store) error { // want `flow ClosuresOpen is not closed: ClosuresOpen → os\.Getenv: is I/O or ambient authority \(files, environment, processes\)` ClosuresOpen:`^open: robust\.ClosuresOpen → os\.Getenv: is I/O or ambient authority \(files, environment, processes\)$`
	mk := func() func() func() string {
		return func() func() string {
			return func() string { return os.Getenv("STAMP") } // want `os\.Getenv: is I/O or ambient authority \(files, environment, processes\)`
		}
	}
	return s.Put(fc, "k", mk()()())
}

//flowgen:flow
func HooksOpen(fc flow.Context, s Store) error { // want `flow HooksOpen is not closed: HooksOpen → cornerlib\.init → time\.Now: reads the wall clock; use flow\.Now\(fc\)` HooksOpen:`^open: robust\.HooksOpen → cornerlib\.init → time\.Now: reads the wall clock; use flow\.Now\(fc\) reads\(example\.com/cornerlib\.Hooks\)$`
	return s.Put(fc, "k", cornerlib.Hooks["now"]()) // want `package variable cornerlib\.Hooks\[\] is not closed: cornerlib\.init → time\.Now: reads the wall clock; use flow\.Now\(fc\)`
}

type treeNode struct { // want treeNode:`^fields \.Self\(Eval: open\)$`
	Kids []*treeNode
	Self interface{ Eval(*treeNode) string }
}

type clockEval struct{}

func (clockEval) Eval(n *treeNode) string { // want Eval:`^open: robust\.clockEval\.Eval → time\.Now: reads the wall clock; use flow\.Now\(fc\) calls\(param 0\.Kids\[\]\.Self Eval\)$`
	out := time.Now().String() // want `time\.Now: reads the wall clock; use flow\.Now\(fc\)`
	for _, k := range n.Kids {
		out += k.Self.Eval(k)
	}
	return out
}

//flowgen:flow
func RecursiveOpen(fc flow.Context, s Store) error { // want `flow RecursiveOpen is not closed: RecursiveOpen → clockEval\.Eval → time\.Now: reads the wall clock; use flow\.Now\(fc\)` RecursiveOpen:`^open: robust\.RecursiveOpen → robust\.clockEval\.Eval → time\.Now: reads the wall clock; use flow\.Now\(fc\)$`
	n := &treeNode{Self: clockEval{}}
	n.Kids = []*treeNode{n}
	return s.Put(fc, "k", n.Self.Eval(n))
}

var sets int

type countingCell[T any] struct{ v T }

func (c *countingCell[T]) Get() T  { return c.v }
func (c *countingCell[T]) Set(v T) { c.v = v; sets++ } // want `package variable sets: writes package state, which replay does not restore` Set:`^open: robust\.countingCell\.Set → package variable sets: writes package state, which replay does not restore writes\[-1\] stores\(-1\.v ← 0\)$`

type counterSetter[T any] interface {
	Get() T
	Set(T)
}

func UseCounting[T any, S counterSetter[T]](s S, v T) T { // want UseCounting:`^closed calls\(typeparam 1 Set\) calls\(typeparam 1 Get\)$`
	s.Set(v)
	return s.Get()
}

//flowgen:flow
func TypeParamOpen(fc flow.Context, s Store) error { // want `flow TypeParamOpen is not closed: TypeParamOpen → countingCell\.Set → package variable sets: writes package state, which replay does not restore` TypeParamOpen:`^open: robust\.TypeParamOpen → robust\.countingCell\.Set → package variable sets: writes package state, which replay does not restore$`
	v := UseCounting[int](&countingCell[int]{}, 3)
	return s.Put(fc, "k", strings.Repeat("x", v))
}

var hits int

var hooks = map[string]func() int{}

var table = map[string]func() int{
	"inc": func() int { hits++; return hits }, // want `package variable hits: writes package state, which replay does not restore`
}

func init() { // want init:`^open: robust\.init → package variable hits: writes package state, which replay does not restore$`
	hooks["inc"] = func() int { hits++; return hits } // want `package variable hits: writes package state, which replay does not restore`
}

// A handler init stores in a table runs when it is called: its write is
// not initialisation.
//
//flowgen:flow
func InitHookOpen(fc flow.Context) int { return hooks["inc"]() } // want `flow InitHookOpen is not closed: InitHookOpen → init → package variable hits: writes package state, which replay does not restore` InitHookOpen:`^open: robust\.InitHookOpen → robust\.init → package variable hits: writes package state, which replay does not restore$`

//flowgen:flow
func InitializerHookOpen(fc flow.Context) int { return table["inc"]() } // want `flow InitializerHookOpen is not closed: InitializerHookOpen → table initializer → package variable hits: writes package state, which replay does not restore` InitializerHookOpen:`^open: robust\.InitializerHookOpen → robust\.table initializer → package variable hits: writes package state, which replay does not restore$`

var shared = []int{1, 2, 3}

// A literal called where it is written is given its arguments: the package
// slice it writes through is shared.
//
//flowgen:flow
func InvokedLiteralOpen(fc flow.Context) int { // want `flow InvokedLiteralOpen is not closed: InvokedLiteralOpen → package variable shared: is written through xs\[…\]: it is package state, which replay does not restore` InvokedLiteralOpen:`^open: robust\.InvokedLiteralOpen → package variable shared: is written through xs\[…\]: it is package state, which replay does not restore \(\+2\)$`
	func(xs []int) { xs[0] = 9 }(shared) // want `package variable shared: is written through xs\[…\]: it is package state, which replay does not restore` `package variable shared: reads package state that is written at robust/cornersopen\.go:137:19; pass the value in, or make it a constant`
	return shared[0]                     // want `package variable shared: reads package state that is written at robust/cornersopen\.go:137:19; pass the value in, or make it a constant`
}
