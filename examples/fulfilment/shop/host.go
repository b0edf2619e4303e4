package shop

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Host implements Customers, Warehouse and Payments, recording every effect
// in a journal. The questions it asks people (confirm an order, pack a
// parcel) are vows it settles when told to; a question asked again after a
// crash, with the same idempotency key, gets the same vow.
type Host struct {
	rt *runtime.Runtime
	j  *Journal

	mu      sync.Mutex
	asked   map[string]flow.VowID // questions, by idempotency key
	pending map[string]question   // unanswered questions, by vow
}

type question struct {
	op    string // Confirm or Pack
	order string
	vow   flow.VowID
}

// NewHost returns a host recording into j; the questions of earlier
// incarnations are read from the journal at path.
func NewHost(rt *runtime.Runtime, j *Journal, path string) (*Host, error) {
	h := &Host{rt: rt, j: j, asked: map[string]flow.VowID{}, pending: map[string]question{}}
	effects, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	for _, e := range effects {
		switch e.Op {
		case "Confirm", "Pack":
			id, err := flow.ParseVowID(e.Vow)
			if err != nil {
				return nil, fmt.Errorf("journal: %w", err)
			}
			h.asked[e.Key] = id
			h.pending[e.Vow] = question{op: e.Op, order: e.Order, vow: id}
		case "confirmed", "packed":
			delete(h.pending, e.Vow)
		}
	}
	return h, nil
}

func (h *Host) record(ctx context.Context, op, order string) error {
	info, _ := flow.CallInfoFrom(ctx)
	return h.j.Record(Effect{Op: op, Key: info.IdempotencyKey(), Activation: info.Activation.String(), Order: order})
}

// ask makes the vow of a question, once per idempotency key.
func (h *Host) ask(ctx context.Context, op, order string) (flow.VowID, error) {
	info, _ := flow.CallInfoFrom(ctx)
	key := info.IdempotencyKey()
	h.mu.Lock()
	id, again := h.asked[key]
	h.mu.Unlock()
	if again {
		return id, nil
	}
	v, err := runtime.NewVow[bool](ctx, h.rt)
	if err != nil {
		return flow.VowID{}, err
	}
	if err := h.j.Record(Effect{Op: op, Key: key, Activation: info.Activation.String(), Order: order, Vow: v.ID().String()}); err != nil {
		return flow.VowID{}, err
	}
	h.mu.Lock()
	h.asked[key] = v.ID()
	h.pending[v.ID().String()] = question{op: op, order: order, vow: v.ID()}
	h.mu.Unlock()
	return v.ID(), nil
}

// Confirm implements Customers.
func (h *Host) Confirm(ctx context.Context, order string) (flow.Vow[bool], error) {
	id, err := h.ask(ctx, "Confirm", order)
	return flow.VowOf[bool](id), err
}

// Reserve implements Warehouse.
func (h *Host) Reserve(ctx context.Context, o Order) (Hold, error) {
	if err := h.record(ctx, "Reserve", o.ID); err != nil {
		return Hold{}, err
	}
	return Hold{ID: "hold-" + o.ID, Order: o.ID, Items: o.Items}, nil
}

// Pack implements Warehouse.
func (h *Host) Pack(ctx context.Context, hold Hold) (flow.Vow[string], error) {
	id, err := h.ask(ctx, "Pack", hold.Order)
	return flow.VowOf[string](id), err
}

// Ship implements Warehouse.
func (h *Host) Ship(ctx context.Context, parcel string, c Charge) (Receipt, error) {
	order := parcel[len("parcel-"):]
	if err := h.record(ctx, "Ship", order); err != nil {
		return Receipt{}, err
	}
	return Receipt{Order: order, Parcel: parcel, Charge: c.ID}, nil
}

// Charge implements Payments.
func (h *Host) Charge(ctx context.Context, o Order) (Charge, error) {
	if err := h.record(ctx, "Charge", o.ID); err != nil {
		return Charge{}, err
	}
	return Charge{ID: "ch-" + o.ID, Cents: o.Cents}, nil
}

// Answer settles the unanswered questions op (Confirm or Pack) about the
// orders want selects: a confirmation yes, a parcel named after its order.
// It returns how many it answered.
func (h *Host) Answer(ctx context.Context, op string, want func(order string) bool) (int, error) {
	h.mu.Lock()
	var todo []question
	for _, q := range h.pending {
		if q.op == op && want(q.order) {
			todo = append(todo, q)
		}
	}
	h.mu.Unlock()
	for _, q := range todo {
		var err error
		if op == "Confirm" {
			err = runtime.Resolve(ctx, h.rt, flow.VowOf[bool](q.vow), true)
		} else {
			err = runtime.Resolve(ctx, h.rt, flow.VowOf[string](q.vow), "parcel-"+q.order)
		}
		if err != nil && !errors.Is(err, runtime.ErrAlreadySettled) { // settled before a kill
			return 0, err
		}
		done := map[string]string{"Confirm": "confirmed", "Pack": "packed"}[op]
		if err := h.j.Record(Effect{Op: done, Order: q.order, Vow: q.vow.String()}); err != nil {
			return 0, err
		}
		h.mu.Lock()
		delete(h.pending, q.vow.String())
		h.mu.Unlock()
	}
	return len(todo), nil
}
