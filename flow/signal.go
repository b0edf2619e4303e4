package flow

import (
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// Signal is a mailbox of messages of type T that hosts send to a running
// activation. A flow declares what it accepts with a parameter of type
// Signal[T]; the parameter's name is the signal's durable name, and flowgen
// gives the flow's handle a typed Send method for it, which hosts call by
// activation id or start key:
//
//	//flowgen:flow
//	func Fulfil(fc flow.Context, w Warehouse, order string, shipped flow.Signal[Shipment]) (string, error) {
//		s, err := shipped.Receive(fc) // waits for the next message
//		...
//	}
//
//	err := h.ByKey("order-17").SendShipped(ctx, Shipment{Carrier: "ups"})
//
// Signal parameters are not arguments: Start leaves them out, and flowgen
// fills them in. Messages are durable once a send returns, and are
// delivered in the order they were sent, each once: a message sent before
// the flow asks waits in the mailbox for it. A send to a finished activation
// is refused.
type Signal[T any] struct{ name string }

// Name returns the signal's durable name.
func (s Signal[T]) Name() string { return s.name }

func (s Signal[T]) String() string { return "signal " + strconv.Quote(s.name) }

// Next returns the next message as a vow, for [Await], [All] and [Race]:
// a message waiting in the mailbox fulfils it at once, otherwise the next
// one sent does. Next returns that vow again until the flow has read the
// message with [Await] (or Receive), so a race decides nothing about which
// message is next:
//
//	if flow.Race(fc, shipped.Next(fc), flow.After(fc, 72*time.Hour)) == 1 {
//		remind(fc) // the timer won; the next message is still the next
//	}
//	s, err := shipped.Receive(fc) // the message that won, or the next one
//
// Once the flow has read it, Next returns a vow for the message after.
func (s Signal[T]) Next(fc Context) Vow[T] {
	return Vow[T]{id: guestOf(fc).Receive(s.name)}
}

// Receive waits for the next message and returns it: Await of [Signal.Next].
func (s Signal[T]) Receive(fc Context) (T, error) {
	return Await(fc, s.Next(fc))
}

func (s *Signal[T]) setName(name string) { s.name = name }

// Status is a value a running activation publishes for hosts and operators
// to read — its progress, a stage, a count — without waking it or running
// any of its code. A flow declares it with a parameter of type Status[T],
// whose name is the status's durable name, and flowgen gives the flow's
// handle a typed reader for it:
//
//	//flowgen:flow
//	func Fulfil(fc flow.Context, w Warehouse, order string, stage flow.Status[string]) (string, error) {
//		stage.Set(fc, "packing")
//		...
//	}
//
//	stage, ok, err := h.ByKey("order-17").Stage(ctx)
//
// Like a Signal, a Status parameter is not an argument: Start leaves it out.
type Status[T any] struct{ name string }

// Name returns the status's durable name.
func (s Status[T]) Name() string { return s.name }

func (s Status[T]) String() string { return "status " + strconv.Quote(s.name) }

// Set publishes v: the last value set wins, and stays readable after the
// activation has finished. It is logged like any crossing, and written in
// the same transaction as its log entry. Replaying, it writes nothing: a
// replay that sets another value at that point (a new build that reports
// differently) replays, and hosts read the value set live until the flow
// sets another. A value that does not encode is a mistake in the flow: Set
// panics, and nothing is published.
func (s Status[T]) Set(fc Context, v T) {
	g := guestOf(fc)
	b, err := codec.Marshal(v)
	if err != nil {
		panic("flow: " + s.String() + ": the value does not encode: " + err.Error())
	}
	g.SetStatus(s.name, b)
}

func (s *Status[T]) setName(name string) { s.name = name }

func init() {
	bridge.SetName = func(v any, name string) { v.(interface{ setName(string) }).setName(name) }
}
