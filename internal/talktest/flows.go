// Package talktest holds the flows of the talk test: an order a host talks
// to while it runs — a child activation that packs it, signals from the
// warehouse and the carrier, a published status, an id and a number drawn
// in the flow — run by a real program that is killed with SIGKILL and sent
// messages while it is down.
package talktest

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Warehouse packs parcels.
//
//flowgen:host
type Warehouse interface {
	// Pack packs an order and returns its parcel's label. The host
	// journals each execution with its idempotency key.
	Pack(ctx context.Context, order, ref string) (string, error)
}

// Shipment is what a carrier's webhook reports.
type Shipment struct {
	Carrier   string
	Delivered bool
}

// Progress is what an order publishes while it runs.
type Progress struct {
	Stage string
	Ref   string // the order's reference, a UUID the flow drew
	Seq   uint64 // a number the flow drew
}

// Summary is an order's outcome.
type Summary struct {
	Ref      string
	Seq      uint64
	Label    string
	Carriers []string // the carriers that reported, in the order they did
}

// Order draws a reference, starts a child that packs the parcel, and then
// takes the carriers' reports until one says the parcel is delivered,
// publishing its progress at each stage.
//
//flowgen:flow name=talktest.Order
func Order(fc flow.Context, w Warehouse, order string, shipped flow.Signal[Shipment], progress flow.Status[Progress]) (Summary, error) {
	s := Summary{Ref: flow.UUID(fc), Seq: flow.Random(fc)}
	progress.Set(fc, Progress{Stage: "packing", Ref: s.Ref, Seq: s.Seq})
	label, err := flow.Await(fc, ChildPack(fc, w, order, s.Ref))
	if err != nil {
		return Summary{}, err
	}
	s.Label = label
	progress.Set(fc, Progress{Stage: "shipping", Ref: s.Ref, Seq: s.Seq})
	for {
		sh, err := shipped.Receive(fc)
		if err != nil {
			return Summary{}, err
		}
		s.Carriers = append(s.Carriers, sh.Carrier)
		if sh.Delivered {
			break
		}
	}
	progress.Set(fc, Progress{Stage: "delivered", Ref: s.Ref, Seq: s.Seq})
	return s, nil
}

// Pack has the warehouse pack the parcel and waits for a person to say it
// is ready.
//
//flowgen:flow name=talktest.Pack
func Pack(fc flow.Context, w Warehouse, order, ref string, ready flow.Signal[string]) (string, error) {
	label, err := w.Pack(fc, order, ref)
	if err != nil {
		return "", err
	}
	who, err := ready.Receive(fc)
	if err != nil {
		return "", err
	}
	return label + ", checked by " + who, nil
}
