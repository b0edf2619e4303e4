// Package fulfil is order fulfilment, after the order-processing and // want package:"analysed"
// shopping-cart samples of workflow engines: reserve stock, charge, ship,
// notify, with compensation when a step fails.
package fulfil

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"math/rand"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Inventory interface { // want Inventory:"host"
	Reserve(ctx context.Context, sku string, qty int) (string, error)
	Release(ctx context.Context, reservation string) error
}

//flowgen:host
type Payments interface { // want Payments:"host"
	Charge(ctx context.Context, order string, cents int64) (string, error)
	Refund(ctx context.Context, charge string) error
	Approval(ctx context.Context, order string) (flow.Vow[bool], error)
}

//flowgen:host
type Shipping interface { // want Shipping:"host"
	Ship(ctx context.Context, order string, skus []string) (string, error)
}

//flowgen:host
type Mail interface { // want Mail:"host"
	Send(ctx context.Context, to, subject, body string) error
}

// Item is a line of an order.
type Item struct {
	SKU       string
	Qty       int
	Cents     int64
	Warehouse string
}

// Order is what a customer asked for.
type Order struct {
	ID       string
	Email    string
	Items    []Item
	Coupon   string
	Priority bool
}

var (
	ErrEmpty    = errors.New("empty order")      // want ErrEmpty:"sentinel"
	ErrDeclined = errors.New("payment declined") // want ErrDeclined:"sentinel"
	coupons     = map[string]int64{"WELCOME10": 10, "VIP20": 20}
	skuPattern  = regexp.MustCompile(`^[A-Z]{3}-[0-9]{4}$`)
)

// MaxItems is a limit nothing changes.
var MaxItems = 100

func (o Order) subtotal() int64 {
	var t int64
	for _, it := range o.Items {
		t += int64(it.Qty) * it.Cents
	}
	return t
}

func discount(code string, total int64) int64 {
	return total * coupons[strings.ToUpper(strings.TrimSpace(code))] / 100
}

func validate(o Order) error { // want validate:`closed reads\(corpus/fulfil\.MaxItems\)`
	if len(o.Items) == 0 {
		return ErrEmpty
	}
	if len(o.Items) > MaxItems {
		return fmt.Errorf("order %s: %d items, at most %d", o.ID, len(o.Items), MaxItems)
	}
	for _, it := range o.Items {
		if !skuPattern.MatchString(it.SKU) {
			return fmt.Errorf("bad sku %q", it.SKU)
		}
	}
	return nil
}

func receipt(o Order, total int64, at time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Order %s\n", o.ID)
	for _, it := range o.Items {
		fmt.Fprintf(&b, "%-10s x%d %s\n", it.SKU, it.Qty, strconv.FormatInt(it.Cents, 10))
	}
	fmt.Fprintf(&b, "Total %d, %s\n", total, at.Format(time.RFC3339))
	return b.String()
}

func skus(items []Item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.SKU)
	}
	return out
}

// Fulfil reserves, charges, ships and mails a receipt; it releases what it
// reserved if a later step fails.
//
//flowgen:flow
func Fulfil(fc flow.Context, inv Inventory, pay Payments, ship Shipping, mail Mail, o Order) (string, error) { // want Fulfil:`closed reads\(corpus/fulfil\.MaxItems\)`
	if err := validate(o); err != nil {
		return "", err
	}
	var reserved []string
	release := func() {
		for i := len(reserved) - 1; i >= 0; i-- {
			if err := inv.Release(fc, reserved[i]); err != nil {
				log.Printf("release %s: %v", reserved[i], err)
			}
		}
	}
	for _, it := range o.Items {
		r, err := inv.Reserve(fc, it.SKU, it.Qty)
		if err != nil {
			release()
			return "", fmt.Errorf("reserve %s: %w", it.SKU, err)
		}
		reserved = append(reserved, r)
	}
	total := o.subtotal() - discount(o.Coupon, o.subtotal())
	charge, err := pay.Charge(fc, o.ID, total)
	if err != nil {
		release()
		return "", errors.Join(ErrDeclined, err)
	}
	tracking, err := ship.Ship(fc, o.ID, skus(o.Items))
	if err != nil {
		_ = pay.Refund(fc, charge)
		release()
		return "", err
	}
	slog.Info("shipped", "order", o.ID, "tracking", tracking)
	return tracking, mail.Send(fc, o.Email, "Your order "+o.ID, receipt(o, total, flow.Now(fc)))
}

// Approved waits for a person to approve a large order, for three days at
// most.
//
//flowgen:flow
func Approved(fc flow.Context, pay Payments, o Order) (bool, error) {
	if o.subtotal() < 100_000 {
		return true, nil
	}
	v, err := pay.Approval(fc, o.ID)
	if err != nil {
		return false, err
	}
	deadline := flow.After(fc, 72*time.Hour)
	if flow.Race(fc, v, deadline) == 1 {
		return false, nil
	}
	return flow.Await(fc, v)
}

// Stamped writes the receipt with the host's clock.
//
//flowgen:flow
func Stamped(fc flow.Context, mail Mail, o Order) error { // want `flow Stamped is not closed: Stamped → time.Now` Stamped:`open: fulfil\.Stamped → time\.Now`
	return mail.Send(fc, o.Email, "Receipt", receipt(o, o.subtotal(), time.Now())) // want `time.Now`
}

// Parallel reserves every line at once, with goroutines.
//
//flowgen:flow
func Parallel(fc flow.Context, inv Inventory, o Order) ([]string, error) { // want `flow Parallel is not closed` Parallel:`open: fulfil\.Parallel → \(\*sync\.WaitGroup\)\.Add`
	var wg sync.WaitGroup
	ids := make([]string, len(o.Items))
	for i, it := range o.Items {
		wg.Add(1)   // want `sync.WaitGroup\).Add`
		go func() { // want `go statement`
			defer wg.Done() // want `sync.WaitGroup\).Done`
			ids[i], _ = inv.Reserve(fc, it.SKU, it.Qty)
		}()
	}
	wg.Wait() // want `sync.WaitGroup\).Wait`
	return ids, nil
}

// PerWarehouse ships each warehouse's lines, in map order.
//
//flowgen:flow
func PerWarehouse(fc flow.Context, ship Shipping, o Order) error { // want `flow PerWarehouse is not closed` PerWarehouse:`open: fulfil\.PerWarehouse → range over a map`
	byWH := map[string][]Item{}
	for _, it := range o.Items {
		byWH[it.Warehouse] = append(byWH[it.Warehouse], it)
	}
	for wh, items := range byWH { // want `range over a map`
		if _, err := ship.Ship(fc, o.ID+"/"+wh, skus(items)); err != nil {
			return err
		}
	}
	return nil
}

// PerWarehouseSorted ships them in the order of the warehouses' names.
//
//flowgen:flow
func PerWarehouseSorted(fc flow.Context, ship Shipping, o Order) error {
	byWH := map[string][]Item{}
	for _, it := range o.Items {
		byWH[it.Warehouse] = append(byWH[it.Warehouse], it)
	}
	for _, wh := range slices.Sorted(maps.Keys(byWH)) {
		if _, err := ship.Ship(fc, o.ID+"/"+wh, skus(byWH[wh])); err != nil {
			return err
		}
	}
	return nil
}

// Counts tallies lines per warehouse and returns the names sorted.
//
//flowgen:flow
func Counts(fc flow.Context, o Order) ([]string, map[string]int) {
	counts := map[string]int{}
	for _, it := range o.Items {
		counts[it.Warehouse] += it.Qty
	}
	names := make([]string, 0, len(counts))
	for name, n := range counts {
		if n > 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, counts
}

// Retried charges with a jittered backoff from the global random source.
//
//flowgen:flow
func Retried(fc flow.Context, pay Payments, o Order) (string, error) { // want `flow Retried is not closed: Retried → rand.Intn` Retried:`open: fulfil\.Retried → rand\.Intn`
	var err error
	for attempt := range 3 {
		var id string
		if id, err = pay.Charge(fc, o.ID, o.subtotal()); err == nil {
			return id, nil
		}
		flow.Sleep(fc, time.Duration(attempt+rand.Intn(1000))*time.Millisecond) // want `rand.Intn`
	}
	return "", err
}

// SeededRetry jitters with a source seeded from the order.
//
//flowgen:flow
func SeededRetry(fc flow.Context, pay Payments, o Order) (string, error) {
	r := rand.New(rand.NewSource(int64(len(o.ID))))
	var err error
	for attempt := range 3 {
		var id string
		if id, err = pay.Charge(fc, o.ID, o.subtotal()); err == nil {
			return id, nil
		}
		flow.Sleep(fc, time.Duration(attempt*100+r.Intn(100))*time.Millisecond)
	}
	return "", err
}
