// Command v3 is the third build of the fulfilment example: it wraps the
// change in flow.Patched(fc, "charge-first"). Orders v1 reserved for take the
// old branch (no marker); orders v2 charged first without a marker take the
// new one, which replay decides by itself; new orders record the marker.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"github.com/asyncflow-go/asyncflow/examples/fulfilment/shop"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Fulfil fulfils an order once the customer confirms it: charging first,
// but for orders that reserved first under an earlier build.
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
	var hold shop.Hold
	var charge shop.Charge
	if flow.Patched(fc, "charge-first") {
		if charge, err = p.Charge(fc, o); err != nil {
			return shop.Receipt{}, err
		}
		if hold, err = w.Reserve(fc, o); err != nil {
			return shop.Receipt{}, err
		}
	} else {
		if hold, err = w.Reserve(fc, o); err != nil {
			return shop.Receipt{}, err
		}
		if charge, err = p.Charge(fc, o); err != nil {
			return shop.Receipt{}, err
		}
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
