// Command v2 is the second build of the fulfilment example, a bad deploy:
// it charges before it reserves, with no patch. Orders v1 reserved for no
// longer match their logs and get stuck; v2 keeps taking new orders, which
// run the new order of steps live — logs without a marker.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"github.com/asyncflow-go/asyncflow/examples/fulfilment/shop"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Fulfil fulfils an order once the customer confirms it, charging first.
//
//flowgen:flow name=shop.Fulfil
func Fulfil(fc flow.Context, c shop.Customers, w shop.Warehouse, p shop.Payments, o shop.Order) (shop.Receipt, error) {
	confirmed, err := c.Confirm(fc, o.ID)
	if err != nil {
		return shop.Receipt{}, err
	}
	if ok, err := flow.Await(fc, confirmed); err != nil || !ok {
		return shop.Receipt{}, shop.ErrNotConfirmed
	}
	charge, err := p.Charge(fc, o) // moved before Reserve, without flow.Patched
	if err != nil {
		return shop.Receipt{}, err
	}
	hold, err := w.Reserve(fc, o)
	if err != nil {
		return shop.Receipt{}, err
	}
	packed, err := w.Pack(fc, hold)
	if err != nil {
		return shop.Receipt{}, err
	}
	parcel, err := flow.Await(fc, packed)
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
