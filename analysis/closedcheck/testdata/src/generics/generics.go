package generics // want package:"analysed"

import (
	"cmp"
	"slices"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

type Pricer interface{ Price() int }

type Item struct{ Cents int }

func (i Item) Price() int { return i.Cents }

type Surge struct{ Cents int }

func (s Surge) Price() int { return s.Cents * int(time.Now().Hour()) } // want `time.Now` Price:`open: generics\.Surge\.Price → time\.Now`

// Total calls Price through its type parameter: resolved where it is
// instantiated.
func Total[T Pricer](items []T) int { // want Total:`closed calls\(typeparam 0 Price\)`
	t := 0
	for _, it := range items {
		t += it.Price()
	}
	return t
}

// Max is generic and closed.
func Max[T cmp.Ordered](xs []T) T {
	return slices.Max(xs)
}

// Stamped is generic and reads the clock whatever T is.
func Stamped[T any](x T) (T, int64) { // want Stamped:`open: generics\.Stamped → time\.Now`
	return x, time.Now().Unix() // want `time.Now`
}

// Stack is a generic type whose methods are judged like functions.
type Stack[T any] struct{ items []T }

func (s *Stack[T]) Push(x T) { s.items = append(s.items, x) } // want Push:`closed writes\[\-1\]`
func (s *Stack[T]) Len() int { return len(s.items) }

// Sum calls a method through a type parameter of its receiver type.
type Basket[T Pricer] struct{ items []T }

func (b Basket[T]) Sum() int { return Total(b.items) } // want Sum:`closed calls\(typeparam 0 Price\)`

//flowgen:flow
func Checkout(fc flow.Context, items []Item) int {
	s := &Stack[Item]{}
	for _, it := range items {
		s.Push(it)
	}
	return Total(items) + Max([]int{1, 2}) + s.Len() + Basket[Item]{items: items}.Sum()
}

//flowgen:flow
func SurgeCheckout(fc flow.Context, items []Surge) int { // want `flow SurgeCheckout is not closed: SurgeCheckout → Surge.Price → time.Now` SurgeCheckout:`open: generics\.SurgeCheckout → generics\.Surge\.Price → time\.Now`
	return Total(items)
}

//flowgen:flow
func SurgeBasket(fc flow.Context, items []Surge) int { // want `flow SurgeBasket is not closed` SurgeBasket:`open: generics\.SurgeBasket → generics\.Surge\.Price → time\.Now`
	return Basket[Surge]{items: items}.Sum()
}

//flowgen:flow
func Stamp(fc flow.Context, x int) int64 { // want `flow Stamp is not closed: Stamp → Stamped → time.Now` Stamp:`open: generics\.Stamp → generics\.Stamped → time\.Now`
	_, t := Stamped(x)
	return t
}

//flowgen:flow
func ThroughInterface(fc flow.Context, items []Pricer) int { // want `flow ThroughInterface is not closed` ThroughInterface:`open: generics\.ThroughInterface → generics\.Surge\.Price → time\.Now`
	return Total(items) // want `generics.Pricer.Price: is called through an interface`
}
