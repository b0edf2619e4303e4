package dynamic // want package:"analysed"

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Ledger interface { // want Ledger:"host"
	Post(ctx context.Context, amount int64) (string, error)
}

// Pricer is not a host interface: calls through it cannot be resolved.
type Pricer interface {
	Price(item string) int64
}

type flat struct{ cents int64 }

func (f flat) Price(string) int64 { return f.cents }

type clocked struct{}

func (clocked) Price(string) int64 { return time.Now().Unix() } // want `time.Now` Price:`open: dynamic\.clocked\.Price → time\.Now`

// apply calls the function it is given: callers are judged by what they pass.
func apply(xs []int64, f func(int64) int64) []int64 { // want apply:`closed calls\(param 1 \)`
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func double(x int64) int64 { return 2 * x }

func stamp(x int64) int64 { return x + time.Now().Unix() } // want `time.Now` stamp:`open: dynamic\.stamp → time\.Now`

// total calls a method of the interface it is given.
func total(p Pricer, items []string) int64 { // want total:`closed calls\(param 0 Price\)`
	var t int64
	for _, it := range items {
		t += p.Price(it)
	}
	return t
}

type byLen []string

func (b byLen) Len() int           { return len(b) }
func (b byLen) Less(i, j int) bool { return len(b[i]) < len(b[j]) }
func (b byLen) Swap(i, j int)      { b[i], b[j] = b[j], b[i] } // want Swap:`closed writes\[\-1\]`

type byTime []string

func (b byTime) Len() int           { return len(b) }
func (b byTime) Less(i, j int) bool { return time.Now().Unix()%2 == 0 } // want `time.Now` Less:`open: dynamic\.byTime\.Less → time\.Now`
func (b byTime) Swap(i, j int)      { b[i], b[j] = b[j], b[i] }         // want Swap:`closed writes\[\-1\]`

type service struct {
	hook func() int64
}

var globalHook = func() int64 { return 1 }

var counter int

func (s *service) incr() int64 { counter++; return int64(counter) } // want `writes package state` incr:`open: dynamic\.service\.incr → package variable counter`

//flowgen:flow
func Closures(fc flow.Context, l Ledger, xs []int64) (string, error) {
	scale := func(x int64) int64 { return x * 3 }
	ys := apply(xs, scale)
	ys = apply(ys, double)
	ys = apply(ys, func(x int64) int64 { return x + 1 })
	var sum int64
	for _, y := range ys {
		sum += y
	}
	return l.Post(fc, sum)
}

//flowgen:flow
func BadCallback(fc flow.Context, xs []int64) []int64 { // want `flow BadCallback is not closed: BadCallback → stamp → time.Now` BadCallback:`open: dynamic\.BadCallback → dynamic\.stamp → time\.Now`
	return apply(xs, stamp)
}

//flowgen:flow
func Interfaces(fc flow.Context, items []string) int64 {
	var p Pricer = flat{cents: 5}
	return total(flat{cents: 3}, items) + p.Price("x")
}

//flowgen:flow
func BadInterface(fc flow.Context, items []string) int64 { // want `flow BadInterface is not closed: BadInterface → clocked.Price → time.Now` BadInterface:`open: dynamic\.BadInterface → dynamic\.clocked\.Price → time\.Now`
	return total(clocked{}, items)
}

// pick returns a Pricer: its return statements say which types.
func pick(i int) Pricer {
	if i > 0 {
		return flat{}
	}
	return clocked{}
}

//flowgen:flow
func Unknown(fc flow.Context, i int) int64 { // want `flow Unknown is not closed` Unknown:`open: dynamic\.Unknown → dynamic\.clocked\.Price → time\.Now`
	p := pick(i)
	return p.Price("x") // judged against flat and clocked: clocked reads the clock
}

//flowgen:flow
func Fields(fc flow.Context, s *service) int64 { // want `flow Fields is not closed` Fields:`open: dynamic\.Fields → field hook`
	return s.hook() // want `field hook: holds a function whose target cannot be known`
}

//flowgen:flow
func GlobalFunc(fc flow.Context) int64 {
	return globalHook() // never written, unexported: resolved to its literal
}

//flowgen:flow
func MethodValue(fc flow.Context, xs []int64) []int64 { // want `flow MethodValue is not closed: MethodValue → service.incr → package variable counter` MethodValue:`open: dynamic\.MethodValue → dynamic\.service\.incr → package variable counter`
	s := &service{}
	f := s.incr
	_ = f()
	return xs
}

//flowgen:flow
func Sorting(fc flow.Context, names []string) []string {
	sort.Sort(byLen(names))
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

//flowgen:flow
func BadSorting(fc flow.Context, names []string) []string { // want `flow BadSorting is not closed: BadSorting → byTime.Less → time.Now` BadSorting:`open: dynamic\.BadSorting → dynamic\.byTime\.Less → time\.Now`
	sort.Sort(byTime(names))
	return names
}

//flowgen:flow
func StdInterfaces(fc flow.Context, data []byte) (string, error) {
	h := sha256.New()
	h.Write(data)
	var buf bytes.Buffer
	var w io.Writer = &buf
	fmt.Fprintf(w, "%x", h.Sum(nil))
	_, _ = io.Copy(&buf, strings.NewReader("tail"))
	err := errors.New("x")
	if err != nil && err.Error() == "y" {
		return "", err
	}
	var s fmt.Stringer = flat{}.asStringer()
	return hex.EncodeToString(buf.Bytes()) + s.String(), nil
}

type stringer struct{}

func (stringer) String() string { return "s" }

func (f flat) asStringer() fmt.Stringer { return stringer{} }

// Clock is not a host interface: a flow taking one cannot be proved closed.
type Clock interface{ Now() time.Time }

//flowgen:flow
func WithClock(fc flow.Context, c Clock) string { // want `flow WithClock is not closed` WithClock:`open: dynamic\.WithClock → dynamic\.Clock\.Now`
	return c.Now().String() // want `dynamic.Clock.Now: is called through an interface whose implementation cannot be known`
}

//flowgen:flow
func WithFunc(fc flow.Context, f func() int64) int64 { // want `flow WithFunc is not closed` WithFunc:`open: dynamic\.WithFunc → f`
	return f() // want `f: is a function value whose target cannot be known`
}
