// Package shop is the part of the fulfilment example that does not change
// between builds: the orders, the host interfaces the Fulfil flow uses, the
// host that implements them (recording every effect in a journal file), and
// the program's main loop. The builds in ../v1 … ../v4 differ only in their
// Fulfil flow:
//
//	v1  confirm → reserve → charge → pack → ship
//	v2  confirm → charge → reserve → pack → ship           (no patch)
//	v3  confirm → if flow.Patched("charge-first") { charge → reserve } else { reserve → charge } → pack → ship
//	v4  confirm → charge → reserve → pack → ship           (the patch retired)
package shop

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"errors"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Order is what a customer ordered.
type Order struct {
	ID    string
	Items int
	Cents int64
}

// Hold is stock reserved for an order.
type Hold struct {
	ID    string
	Order string
	Items int
}

// Charge is a payment taken for an order.
type Charge struct {
	ID    string
	Cents int64
}

// Receipt is what a finished order gives the customer.
type Receipt struct {
	Order  string
	Parcel string
	Charge string
}

// ErrNotConfirmed is returned when a customer does not confirm an order.
var ErrNotConfirmed = errors.New("shop: order not confirmed")

// Customers confirm their orders; the answer may take days.
//
//flowgen:host
type Customers interface {
	Confirm(ctx context.Context, order string) (flow.Vow[bool], error)
}

// Warehouse holds the stock.
//
//flowgen:host
type Warehouse interface {
	// Reserve holds the items of an order.
	Reserve(ctx context.Context, o Order) (Hold, error)
	// Pack asks the warehouse to pack a hold; the vow is the parcel.
	Pack(ctx context.Context, h Hold) (flow.Vow[string], error)
	// Ship sends a packed parcel, paid by a charge.
	Ship(ctx context.Context, parcel string, c Charge) (Receipt, error)
}

// Payments takes money.
//
//flowgen:host
type Payments interface {
	Charge(ctx context.Context, o Order) (Charge, error)
}
