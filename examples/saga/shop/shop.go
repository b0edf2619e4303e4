// Package shop places orders as a saga: a flow reserves the items, charges
// the card and books a carrier, then waits for the carrier to pick the
// parcel up. If a step fails, or the order's cancellation is requested
// before the pickup, it undoes the steps it did, the last first — releasing,
// refunding, cancelling the booking, live, through the same host interfaces
// — and its outcome says why.
package shop

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
)

// ErrOutOfStock is returned when the items cannot be reserved.
var ErrOutOfStock = errors.New("out of stock")

// ErrDeclined is returned when the card is declined.
var ErrDeclined = errors.New("card declined")

// ErrUndeliverable is returned when no carrier serves the address.
var ErrUndeliverable = errors.New("undeliverable address")

// Spec is an order.
type Spec struct {
	ID      string
	Items   []string
	Cents   int64
	Address string
}

// Booking is a carrier's booking; Pickup is fulfilled when the parcel is
// picked up, which may take days.
type Booking struct {
	ID     string
	Pickup flow.Vow[string] // the tracking number
}

// Receipt is what a completed order returns.
type Receipt struct {
	Order    string
	Charge   string
	Tracking string
}

// Inventory holds stock.
//
//flowgen:host
type Inventory interface {
	Reserve(ctx context.Context, order string, items []string) (string, error)
	Release(ctx context.Context, reservation string) error
}

// Payments charges cards. Refunds are compensations, which must get
// through: they are retried for longer.
//
//flowgen:host
//flowgen:retry attempts=3 backoff=200ms
//flowgen:timeout 10s
type Payments interface {
	Charge(ctx context.Context, order string, cents int64) (string, error)
	//flowgen:retry attempts=20 backoff=200ms maxbackoff=5s
	Refund(ctx context.Context, charge string) error
}

// Shipping books carriers.
//
//flowgen:host
type Shipping interface {
	Book(ctx context.Context, order, address string) (Booking, error)
	CancelBooking(ctx context.Context, booking string) error
}

// Order places an order, or undoes what it did of it.
//
//flowgen:flow name=shop.Order
func Order(fc flow.Context, inv Inventory, pay Payments, ship Shipping, o Spec) (Receipt, error) {
	var undo compensations
	reservation, err := inv.Reserve(fc, o.ID, o.Items)
	if err != nil {
		return Receipt{}, undo.run(fc, err)
	}
	undo.add(func(ctx context.Context) error { return inv.Release(ctx, reservation) })

	charge, err := pay.Charge(fc, o.ID, o.Cents)
	if err != nil {
		return Receipt{}, undo.run(fc, err)
	}
	undo.add(func(ctx context.Context) error { return pay.Refund(ctx, charge) })

	booking, err := ship.Book(fc, o.ID, o.Address)
	if err != nil {
		return Receipt{}, undo.run(fc, err)
	}
	undo.add(func(ctx context.Context) error { return ship.CancelBooking(ctx, booking.ID) })

	// The pickup may take days; a cancellation requested before it, or
	// already, wins the race.
	cancel := flow.Cancellation(fc)
	if flow.Race(fc, booking.Pickup, cancel) == 1 {
		reason, err := flow.Await(fc, cancel)
		if err != nil {
			return Receipt{}, undo.run(fc, err)
		}
		return Receipt{}, undo.run(fc, fmt.Errorf("order %s: %w: %s", o.ID, flow.ErrCancelled, reason))
	}
	tracking, err := flow.Await(fc, booking.Pickup)
	if err != nil {
		return Receipt{}, undo.run(fc, err)
	}
	return Receipt{Order: o.ID, Charge: charge, Tracking: tracking}, nil
}

// compensations undo the steps done so far.
type compensations []func(ctx context.Context) error

func (c *compensations) add(undo func(ctx context.Context) error) { *c = append(*c, undo) }

// run undoes the steps, the last first, and returns why the order failed,
// joined with the compensations that failed, if any.
func (c compensations) run(fc flow.Context, why error) error {
	errs := []error{why}
	for i := len(c) - 1; i >= 0; i-- {
		if err := c[i](fc); err != nil {
			errs = append(errs, fmt.Errorf("compensation %d: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}
