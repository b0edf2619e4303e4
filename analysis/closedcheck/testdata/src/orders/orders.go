// Package orders holds realistic flows that are closed: nothing here may be // want package:"analysed"
// reported.
package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/asyncflow-go/asyncflow/flow"
)

var (
	ErrOutOfStock = errors.New("out of stock")    // want ErrOutOfStock:"sentinel"
	ErrTooLarge   = fmt.Errorf("order too large") // want ErrTooLarge:"sentinel"
	skuPattern    = regexp.MustCompile(`^[A-Z]{3}-\d{4}$`)
	taxRates      = map[string]float64{"FR": 0.2, "DE": 0.19}
)

const maxLines = 50

type Line struct {
	SKU   string
	Qty   int
	Cents int64
}

type Order struct {
	ID      string
	Country string
	Lines   []Line
	Meta    map[string]string
}

func (o Order) Total() int64 {
	var t int64
	for _, l := range o.Lines {
		t += int64(l.Qty) * l.Cents
	}
	return t
}

func (o *Order) Normalize() { // want Normalize:`closed writes\[\-1\]`
	for i := range o.Lines {
		o.Lines[i].SKU = strings.ToUpper(strings.TrimSpace(o.Lines[i].SKU))
	}
	sort.Slice(o.Lines, func(i, j int) bool { return o.Lines[i].SKU < o.Lines[j].SKU })
}

func validate(o Order) error {
	if len(o.Lines) > maxLines {
		return fmt.Errorf("%w: %d lines", ErrTooLarge, len(o.Lines))
	}
	for _, l := range o.Lines {
		if !skuPattern.MatchString(l.SKU) || utf8.RuneCountInString(l.SKU) != 8 {
			return fmt.Errorf("bad sku %q", l.SKU)
		}
	}
	return nil
}

func tax(o Order) int64 {
	rate, ok := taxRates[o.Country]
	if !ok {
		rate = 0.1
	}
	return int64(math.Round(float64(o.Total()) * rate))
}

//flowgen:host
type Warehouse interface { // want Warehouse:"host"
	Reserve(ctx context.Context, sku string, qty int) (string, error)
	Release(ctx context.Context, reservation string) error
}

//flowgen:host
type Payments interface { // want Payments:"host"
	Charge(ctx context.Context, orderID string, cents int64) (string, error)
	Approval(ctx context.Context, orderID string) (flow.Vow[bool], error)
}

// Receipt is what a finished order gets.
type Receipt struct {
	OrderID      string
	Reservations []string
	Payment      string
	At           time.Time
	Summary      string
}

//flowgen:flow
func Place(fc flow.Context, w Warehouse, p Payments, o Order) (Receipt, error) {
	o.Normalize()
	if err := validate(o); err != nil {
		return Receipt{}, err
	}
	var reserved []string
	defer func() {
		if recover() != nil {
			for _, r := range reserved {
				_ = w.Release(fc, r)
			}
		}
	}()
	for _, l := range o.Lines {
		r, err := w.Reserve(fc, l.SKU, l.Qty)
		if errors.Is(err, ErrOutOfStock) {
			return Receipt{}, fmt.Errorf("line %s: %w", l.SKU, err)
		}
		if err != nil {
			return Receipt{}, err
		}
		reserved = append(reserved, r)
	}
	total := o.Total() + tax(o)
	if total > 100_000 {
		approval, err := p.Approval(fc, o.ID)
		if err != nil {
			return Receipt{}, err
		}
		ok, err := flow.Await(fc, approval)
		if err != nil || !ok {
			return Receipt{}, errors.Join(err, errors.New("not approved"))
		}
	}
	pay, err := p.Charge(fc, o.ID, total)
	if err != nil {
		return Receipt{}, err
	}
	keys := make([]string, 0, len(o.Meta))
	for k := range o.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	meta, _ := json.Marshal(o.Meta)
	summary := strings.Join(keys, ",") + " " + strconv.FormatInt(total, 10) + " " + string(meta)
	fmt.Printf("order %s charged %d\n", o.ID, total)
	return Receipt{OrderID: o.ID, Reservations: reserved, Payment: pay, At: flow.Now(fc), Summary: summary}, nil
}

//flowgen:flow
func Expire(fc flow.Context, p Payments, orderID string, days int) (bool, error) {
	approval, err := p.Approval(fc, orderID)
	if err != nil {
		return false, err
	}
	deadline := flow.After(fc, time.Duration(days)*24*time.Hour)
	switch flow.Race(fc, approval, deadline) {
	case 0:
		return flow.Await(fc, approval)
	default:
		return false, nil
	}
}
