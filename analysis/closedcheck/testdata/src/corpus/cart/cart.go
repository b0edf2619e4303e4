// Package cart is a shopping cart kept by a flow, after the cart samples: // want package:"analysed"
// items added and removed, a checkout, a template for the receipt.
package cart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Catalog interface { // want Catalog:"host"
	Price(ctx context.Context, sku string) (int64, error)
}

//flowgen:host
type Checkout interface { // want Checkout:"host"
	Pay(ctx context.Context, cart string, cents int64) (string, error)
}

//flowgen:host
type Events interface { // want Events:"host"
	Next(ctx context.Context, cart string) (flow.Vow[Event], error)
}

// Event is something the customer did.
type Event struct {
	Kind string // "add", "remove", "checkout"
	SKU  string
	Qty  int
}

// Cart is the state of a cart.
type Cart struct {
	ID    string
	Lines map[string]int
	log   []string
}

// NewCart makes an empty cart.
func NewCart(id string) *Cart { return &Cart{ID: id, Lines: map[string]int{}} }

// Add adds to a line.
func (c *Cart) Add(sku string, qty int) { // want Add:`closed writes\[\-1\] stores\(\-1\.log\[\] ← \-2\)`
	c.Lines[strings.ToUpper(sku)] += qty
	c.log = append(c.log, "add "+sku)
}

// Remove removes a line.
func (c *Cart) Remove(sku string) { delete(c.Lines, strings.ToUpper(sku)) } // want Remove:`closed writes\[\-1\]`

// SKUs lists the lines in order.
func (c *Cart) SKUs() []string { return slices.Sorted(maps.Keys(c.Lines)) }

type deps struct {
	Catalog
	Checkout
}

var receiptTmpl = template.Must(template.New("r").Parse("{{range $sku, $qty := .Lines}}{{$sku}} x{{$qty}}\n{{end}}Total {{.Total}}\n"))

var ErrEmpty = errors.New("empty cart") // want ErrEmpty:"sentinel"

// Shop runs a cart until checkout.
//
//flowgen:flow
func Shop(fc flow.Context, cat Catalog, co Checkout, ev Events, id string) (string, error) {
	c := NewCart(id)
	d := deps{cat, co}
	for {
		v, err := ev.Next(fc, id)
		if err != nil {
			return "", err
		}
		e, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		switch e.Kind {
		case "add":
			c.Add(e.SKU, e.Qty)
		case "remove":
			c.Remove(e.SKU)
		case "checkout":
			if len(c.Lines) == 0 {
				return "", ErrEmpty
			}
			var total int64
			for _, sku := range c.SKUs() {
				p, err := d.Price(fc, sku)
				if err != nil {
					return "", fmt.Errorf("price %s: %w", sku, err)
				}
				total += p * int64(c.Lines[sku])
			}
			var buf bytes.Buffer
			if err := receiptTmpl.Execute(&buf, map[string]any{"Lines": c.Lines, "Total": total}); err != nil {
				return "", err
			}
			return d.Pay(fc, buf.String(), total)
		default:
			return "", fmt.Errorf("unknown event %q", e.Kind)
		}
	}
}

// Snapshot is what a cart looks like from outside.
type Snapshot struct {
	ID    string         `json:"id"`
	Lines map[string]int `json:"lines"`
	Count int            `json:"count"`
	At    time.Time      `json:"at"`
}

// Snapshotted encodes the cart with the flow's clock.
//
//flowgen:flow
func Snapshotted(fc flow.Context, id string, lines map[string]int) ([]byte, error) {
	c := NewCart(id)
	for sku, n := range lines {
		c.Lines[sku] = n
	}
	n := 0
	for _, q := range c.Lines {
		n += q
	}
	return json.Marshal(Snapshot{ID: c.ID, Lines: maps.Clone(c.Lines), Count: n, At: flow.Now(fc)})
}

// Normalised cleans SKUs with a rune filter and a decoded list.
//
//flowgen:flow
func Normalised(fc flow.Context, raw string) ([]string, error) {
	var skus []string
	if err := json.Unmarshal([]byte(raw), &skus); err != nil {
		return nil, err
	}
	for i, s := range skus {
		skus[i] = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToUpper(r)
			}
			return -1
		}, s)
	}
	slices.Sort(skus)
	return slices.Compact(skus), nil
}

// Priced asks for prices through a struct embedding the host interface.
//
//flowgen:flow
func Priced(fc flow.Context, cat Catalog, skus []string) (map[string]string, error) {
	d := deps{Catalog: cat}
	out := map[string]string{}
	for _, s := range skus {
		p, err := d.Price(fc, s)
		if err != nil {
			return nil, err
		}
		out[s] = strconv.FormatInt(p, 10)
	}
	return out, nil
}

// Expiring drops the cart when it has waited a day since the flow's clock
// said it was created.
//
//flowgen:flow
func Expiring(fc flow.Context, ev Events, id string) (bool, error) {
	created := flow.Now(fc)
	v, err := ev.Next(fc, id)
	if err != nil {
		return false, err
	}
	if flow.Race(fc, v, flow.After(fc, 24*time.Hour)) == 1 {
		return flow.Now(fc).Sub(created) >= 24*time.Hour, nil
	}
	return false, nil
}
