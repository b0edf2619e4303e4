// Command v1 is the first build of the fulfilment example: once the
// customer confirms, it reserves the stock, charges, and ships when the
// warehouse has packed the parcel.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"github.com/asyncflow-go/asyncflow/examples/fulfilment/shop"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Fulfil fulfils an order once the customer confirms it.
//
//flowgen:flow name=shop.Fulfil
func Fulfil(fc flow.Context, c shop.Customers, w shop.Warehouse, p shop.Payments, o shop.Order) (shop.Receipt, error) {
	confirmed, err := c.Confirm(fc, o.ID)
	if err != nil {
		return shop.Receipt{}, err
	}
	if ok, err := flow.Await(fc, confirmed); err != nil || !ok { // may wait for days
		return shop.Receipt{}, shop.ErrNotConfirmed
	}
	hold, err := w.Reserve(fc, o)
	if err != nil {
		return shop.Receipt{}, err
	}
	charge, err := p.Charge(fc, o)
	if err != nil {
		return shop.Receipt{}, err
	}
	packed, err := w.Pack(fc, hold)
	if err != nil {
		return shop.Receipt{}, err
	}
	parcel, err := flow.Await(fc, packed) // may wait for days
	if err != nil {
		return shop.Receipt{}, err
	}
	return w.Ship(fc, parcel, charge)
}

// register registers this build's flow and the host's services: what the
// program runs, and what the replay gate verifies.
func register(r runtime.Registry, h *shop.Host) shop.Starter {
	shop.Provide(r, h)
	return RegisterFulfil(r)
}

func main() { shop.Main(register) }
