package shop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Effect is one line of the world's journal: one call a host received, as
// it made it (or, with Again, found it made already under its key).
type Effect struct {
	Op    string `json:"op"`
	Order string `json:"order"`
	ID    string `json:"id"`            // the reservation, charge or booking
	Vow   string `json:"vow,omitempty"` // a booking's pickup
	Key   string `json:"key"`
	Again bool   `json:"again,omitempty"` // made before under this key: no new effect
	PID   int    `json:"pid"`
}

// ReadJournal reads the journal at path (none yet: no effects).
func ReadJournal(path string) ([]Effect, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Effect
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Effect
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// World implements Inventory, Payments and Shipping. Every effect is
// journaled, durably, before the call returns, and each is made once per
// idempotency key: a call made again after a crash finds what the first
// did. It stands in for the real services a shop would call.
type World struct {
	rt      *runtime.Runtime
	journal *os.File

	// Undeliverable addresses make Book fail.
	Undeliverable map[string]bool
	// Booked, if set, is told of each booking; the carrier then picks the
	// parcel up when the program says (see Pickup).
	Booked func(order string, b Booking)
	// After, if set, runs after each new effect is journaled, before the
	// call returns.
	After func(e Effect)

	mu   sync.Mutex
	made map[string]Effect // new effects, by key
}

// NewWorld returns a world journaling into the file at path, which knows
// the effects journaled there before.
func NewWorld(rt *runtime.Runtime, path string) (*World, error) {
	effects, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := &World{rt: rt, journal: f, made: map[string]Effect{}, Undeliverable: map[string]bool{}}
	for _, e := range effects {
		if !e.Again {
			w.made[e.Key] = e
		}
	}
	return w, nil
}

// Close closes the journal.
func (w *World) Close() error { return w.journal.Close() }

// effect makes the effect op once per idempotency key: the first time it is
// journaled and returned; afterwards the first is returned, and journaled as
// made again.
func (w *World) effect(ctx context.Context, e Effect) (Effect, error) {
	e.Key, e.PID = flow.IdempotencyKey(ctx), os.Getpid()
	w.mu.Lock()
	first, again := w.made[e.Key]
	if again {
		e = first
	} else {
		w.made[e.Key] = e
	}
	w.mu.Unlock()
	if again {
		e.Again, e.PID = true, os.Getpid()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return Effect{}, err
	}
	w.mu.Lock()
	_, err = w.journal.Write(append(line, '\n'))
	if err == nil {
		err = w.journal.Sync()
	}
	w.mu.Unlock()
	if err != nil {
		return Effect{}, err
	}
	if !again && w.After != nil {
		w.After(e)
	}
	return e, nil
}

// Reserve implements Inventory.
func (w *World) Reserve(ctx context.Context, order string, items []string) (string, error) {
	if len(items) == 0 {
		return "", fmt.Errorf("order %s: nothing to reserve: %w", order, ErrOutOfStock)
	}
	e, err := w.effect(ctx, Effect{Op: "Reserve", Order: order, ID: "res-" + order})
	return e.ID, err
}

// Release implements Inventory.
func (w *World) Release(ctx context.Context, reservation string) error {
	_, err := w.effect(ctx, Effect{Op: "Release", Order: orderOf(reservation), ID: reservation})
	return err
}

// Charge implements Payments.
func (w *World) Charge(ctx context.Context, order string, cents int64) (string, error) {
	if cents <= 0 {
		return "", fmt.Errorf("order %s: %d cents: %w", order, cents, ErrDeclined)
	}
	e, err := w.effect(ctx, Effect{Op: "Charge", Order: order, ID: "ch-" + order})
	return e.ID, err
}

// Refund implements Payments.
func (w *World) Refund(ctx context.Context, charge string) error {
	_, err := w.effect(ctx, Effect{Op: "Refund", Order: orderOf(charge), ID: charge})
	return err
}

// Book implements Shipping: the booking's pickup is a vow the carrier
// settles (Pickup).
func (w *World) Book(ctx context.Context, order, address string) (Booking, error) {
	if w.Undeliverable[address] {
		return Booking{}, fmt.Errorf("order %s to %q: %w", order, address, ErrUndeliverable)
	}
	w.mu.Lock()
	first, again := w.made[flow.IdempotencyKey(ctx)]
	w.mu.Unlock()
	vow := first.Vow
	if !again {
		v, err := runtime.NewVow[string](ctx, w.rt)
		if err != nil {
			return Booking{}, err
		}
		vow = v.ID().String()
	}
	e, err := w.effect(ctx, Effect{Op: "Book", Order: order, ID: "bk-" + order, Vow: vow})
	if err != nil {
		return Booking{}, err
	}
	id, err := flow.ParseVowID(e.Vow)
	if err != nil {
		return Booking{}, err
	}
	b := Booking{ID: e.ID, Pickup: flow.VowOf[string](id)}
	if w.Booked != nil {
		w.Booked(order, b)
	}
	return b, nil
}

// CancelBooking implements Shipping.
func (w *World) CancelBooking(ctx context.Context, booking string) error {
	_, err := w.effect(ctx, Effect{Op: "CancelBooking", Order: orderOf(booking), ID: booking})
	return err
}

// orderOf is the order of a reservation, charge or booking id.
func orderOf(id string) string {
	_, order, _ := strings.Cut(id, "-")
	return order
}

// Pickup is the carrier picking a booking's parcel up.
func (w *World) Pickup(ctx context.Context, b Booking) error {
	return runtime.Resolve(ctx, w.rt, b.Pickup, "track-"+b.ID)
}
