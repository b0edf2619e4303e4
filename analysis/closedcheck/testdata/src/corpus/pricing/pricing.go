// Package pricing chooses prices by strategy, with options structs that // want package:"analysed"
// carry closures, after the strategy and options patterns of real flows.
package pricing

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Quotes interface { // want Quotes:"host"
	Base(ctx context.Context, sku string) (int64, error)
}

// Strategy prices a base price.
type Strategy interface {
	Apply(base int64, qty int) int64
}

// Flat is the base price.
type Flat struct{}

func (Flat) Apply(base int64, qty int) int64 { return base * int64(qty) }

// Volume discounts large quantities.
type Volume struct {
	Threshold int
	Pct       int64
}

func (v Volume) Apply(base int64, qty int) int64 {
	total := base * int64(qty)
	if qty >= v.Threshold {
		total -= total * v.Pct / 100
	}
	return total
}

// Rounded rounds what another strategy gives.
type Rounded struct { // want Rounded:`fields \.Inner\(Apply: open\)`
	Inner Strategy
	To    int64
}

func (r Rounded) Apply(base int64, qty int) int64 { // want Apply:`closed calls\(param \-1\.Inner Apply\)`
	p := r.Inner.Apply(base, qty)
	return int64(math.Round(float64(p)/float64(r.To))) * r.To
}

// HappyHour discounts by the host's clock.
type HappyHour struct{}

func (HappyHour) Apply(base int64, qty int) int64 { // want Apply:`open: pricing\.HappyHour\.Apply → time\.Now`
	if h := time.Now().Hour(); h >= 17 && h < 19 { // want `time.Now`
		return base * int64(qty) / 2
	}
	return base * int64(qty)
}

// ForTier chooses a strategy for a customer tier.
func ForTier(tier string) Strategy { // want ForTier:`closed result0\(Apply calls\(iface corpus/pricing\.Strategy Apply\)\)`
	switch strings.ToLower(tier) {
	case "wholesale":
		return Rounded{Inner: Volume{Threshold: 10, Pct: 15}, To: 100}
	case "gold":
		return Volume{Threshold: 1, Pct: 5}
	}
	return Flat{}
}

// Quote prices a line for a tier.
//
//flowgen:flow
func Quote(fc flow.Context, q Quotes, sku, tier string, qty int) (int64, error) {
	base, err := q.Base(fc, sku)
	if err != nil {
		return 0, err
	}
	return ForTier(tier).Apply(base, qty), nil
}

// QuoteEvening uses the happy-hour strategy.
//
//flowgen:flow
func QuoteEvening(fc flow.Context, q Quotes, sku string, qty int) (int64, error) { // want `flow QuoteEvening is not closed: QuoteEvening → HappyHour.Apply → time.Now` QuoteEvening:`open: pricing\.QuoteEvening → pricing\.HappyHour\.Apply → time\.Now`
	base, err := q.Base(fc, sku)
	if err != nil {
		return 0, err
	}
	var s Strategy = Rounded{Inner: HappyHour{}, To: 10}
	return s.Apply(base, qty), nil
}

// Options tune a quote; the hooks are closures.
type Options struct { // want Options:`fields \.Round: open`
	Round    func(int64) int64
	OnQuote  func(sku string, cents int64)
	MinCents int64
}

// DefaultOptions round to the cent and do nothing on a quote.
var DefaultOptions = Options{Round: func(c int64) int64 { return c }, OnQuote: func(string, int64) {}}

func quote(base int64, qty int, o Options) int64 { // want quote:`closed calls\(param 2\.Round \)`
	c := max(base*int64(qty), o.MinCents)
	if o.Round != nil {
		c = o.Round(c)
	}
	return c
}

// QuoteWith passes options of its own and the defaults.
//
//flowgen:flow
func QuoteWith(fc flow.Context, q Quotes, sku string, qty int) (int64, error) { // want QuoteWith:`closed reads\(corpus/pricing\.DefaultOptions\)`
	base, err := q.Base(fc, sku)
	if err != nil {
		return 0, err
	}
	var quoted []string
	o := Options{
		Round:   func(c int64) int64 { return (c + 50) / 100 * 100 },
		OnQuote: func(s string, c int64) { quoted = append(quoted, fmt.Sprint(s, c)) },
	}
	c := quote(base, qty, o) + quote(base, qty, DefaultOptions)
	o.OnQuote(sku, c)
	return c, nil
}

// QuoteStamped's options round with the host's clock.
//
//flowgen:flow
func QuoteStamped(fc flow.Context, q Quotes, sku string, qty int) (int64, error) { // want `flow QuoteStamped is not closed` QuoteStamped:`open: pricing\.QuoteStamped → time\.Now`
	base, err := q.Base(fc, sku)
	if err != nil {
		return 0, err
	}
	return quote(base, qty, Options{Round: func(c int64) int64 { return c + time.Now().Unix()%2 }}), nil // want `time.Now`
}

// Line is one quoted line.
type Line struct {
	SKU   string
	Cents int64
}

// Cheapest sorts lines by price, then SKU, and keeps the first n.
//
//flowgen:flow
func Cheapest(fc flow.Context, q Quotes, skus map[string]int, n int) ([]Line, error) {
	var lines []Line
	for _, sku := range slices.Sorted(maps(skus)) {
		base, err := q.Base(fc, sku)
		if err != nil {
			return nil, err
		}
		lines = append(lines, Line{SKU: sku, Cents: base * int64(skus[sku])})
	}
	slices.SortFunc(lines, func(a, b Line) int { return cmp.Or(cmp.Compare(a.Cents, b.Cents), strings.Compare(a.SKU, b.SKU)) })
	return lines[:min(n, len(lines))], nil
}

// maps yields a map's keys (a helper of this package, in map order).
func maps(m map[string]int) func(func(string) bool) { // want maps:"closed maporder"
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Totals adds prices of any numeric type.
func Totals[T int64 | float64](xs []T) T {
	var t T
	for _, x := range xs {
		t += x
	}
	return t
}

// Sum is generic and closed.
//
//flowgen:flow
func Sum(fc flow.Context, cents []int64) int64 { return Totals(cents) }
