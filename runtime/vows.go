package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// NewVow creates a pending vow, durably. Hand it to a flow (a host method can
// return it) and settle it later — from this or a later incarnation — with
// Resolve or Reject. Its id can be stored and turned back into a vow with
// flow.VowOf.
func NewVow[T any](ctx context.Context, rt *Runtime) (flow.Vow[T], error) {
	if rt.isClosing() {
		return flow.Vow[T]{}, fmt.Errorf("runtime: new vow: %w", ErrClosed)
	}
	id := flow.NewVowID()
	if err := store.Apply(ctx, rt.st, &store.CreateVow{ID: id, Gen: rt.gen}); err != nil {
		return flow.Vow[T]{}, fmt.Errorf("runtime: new vow: %w", err)
	}
	return flow.VowOf[T](id), nil
}

// Resolve fulfils a vow with a value. Flows waiting on it are woken (replayed
// if they are not resident). A vow settles once: settling it again returns
// ErrAlreadySettled. Only vows made by NewVow are the host's to settle: an
// activation's outcome, a flow's timer or a receiver of its messages gives
// ErrRuntimeVow.
func Resolve[T any](ctx context.Context, rt *Runtime, v flow.Vow[T], value T) error {
	b, err := codec.Marshal(value)
	if err == nil {
		err = codec.Valid(b) // a codec.Raw is written as it is
	}
	if err != nil {
		return fmt.Errorf("runtime: resolve vow %s: %w", v.ID(), err)
	}
	return rt.settle(ctx, "resolve", v.ID(), store.VowFulfilled, b)
}

// Reject rejects a vow with an error, which flows and Wait see as a
// *flow.Error that errors.Is matches against registered sentinels. A vow
// settles once: settling it again returns ErrAlreadySettled.
func Reject[T any](ctx context.Context, rt *Runtime, v flow.Vow[T], reason error) error {
	if reason == nil {
		return fmt.Errorf("runtime: reject vow %s: a nil error", v.ID())
	}
	var e codec.Encoder
	e.EncodeError(reason)
	return rt.settle(ctx, "reject", v.ID(), store.VowRejected, e.Bytes())
}

func (rt *Runtime) settle(ctx context.Context, how string, id flow.VowID, state store.VowState, payload []byte) error {
	if rt.isClosing() {
		return fmt.Errorf("runtime: %s vow %s: %w", how, id, ErrClosed)
	}
	op := &store.SettleVow{ID: id, State: state, Payload: payload, Gen: rt.gen, At: rt.clock.Now(), HostOnly: true}
	if err := store.Apply(ctx, rt.st, op); err != nil {
		return fmt.Errorf("runtime: %s vow %s: %w", how, id, err)
	}
	switch {
	case op.Missing:
		return fmt.Errorf("runtime: %s vow %s: %w", how, id, ErrUnknownVow)
	case op.Kind == store.OutcomeVow:
		return fmt.Errorf("runtime: %s vow %s: %w: it is an activation's outcome, settled when its flow returns (Admin.Terminate gives an activation up)", how, id, ErrRuntimeVow)
	case op.Kind == store.TimerVow:
		return fmt.Errorf("runtime: %s vow %s: %w: it is a flow's timer, settled when its deadline passes", how, id, ErrRuntimeVow)
	case op.Kind == store.ReceiverVow:
		return fmt.Errorf("runtime: %s vow %s: %w: it is a receiver in a flow's mailbox, settled by the next message sent to it (Send)", how, id, ErrRuntimeVow)
	case op.Kind == store.CancelVow:
		return fmt.Errorf("runtime: %s vow %s: %w: it is an activation's cancellation, settled by Admin.RequestCancel", how, id, ErrRuntimeVow)
	case !op.Settled:
		return fmt.Errorf("runtime: %s vow %s: %w", how, id, ErrAlreadySettled)
	}
	rt.settled(id, state, payload, op.Waiters)
	return nil
}

// Wait waits until a vow settles, or ctx ends, and returns its value or its
// rejection, a *RejectionError. Any vow can be waited on, in any
// incarnation: one the host made, a timer, or the outcome of an activation.
// For the outcome of an activation that cannot finish in this incarnation —
// failed, or of a flow not registered — it returns a *StuckError carrying
// the diagnostic at once, and leaves the activation for a later build.
func Wait[T any](ctx context.Context, rt *Runtime, v flow.Vow[T]) (T, error) {
	var zero T
	b, err := rt.wait(ctx, v.ID())
	if err != nil {
		return zero, err
	}
	var t T
	if err := codec.Unmarshal(b, &t); err != nil {
		return zero, fmt.Errorf("runtime: vow %s: value %s does not decode: %w", v.ID(), codec.Format(b), err)
	}
	return t, nil
}

// RejectionError is returned by Wait for a rejected vow. It unwraps to the
// rejection, a *flow.Error.
type RejectionError struct {
	Vow flow.VowID
	Err error
}

func (e *RejectionError) Error() string { return e.Err.Error() }
func (e *RejectionError) Unwrap() error { return e.Err }

// wait waits for a vow to settle and returns its encoded value.
func (rt *Runtime) wait(ctx context.Context, id flow.VowID) ([]byte, error) {
	for {
		ch := rt.subscribe(id)
		v, err := rt.st.Vow(ctx, id)
		if err != nil {
			rt.unsubscribe(id, ch)
			if errors.Is(err, store.ErrNotFound) {
				err = ErrUnknownVow
			}
			return nil, fmt.Errorf("runtime: wait for vow %s: %w", id, err)
		}
		switch v.State {
		case store.VowFulfilled:
			rt.unsubscribe(id, ch)
			return v.Payload, nil
		case store.VowRejected:
			rt.unsubscribe(id, ch)
			d := codec.NewDecoder(v.Payload)
			rerr := d.DecodeError()
			if rerr == nil || d.Done() != nil {
				rerr = &flow.Error{Message: "undecodable rejection " + codec.Format(v.Payload)}
			}
			return nil, &RejectionError{Vow: id, Err: rerr}
		}
		stuck, err := rt.stuckOwner(ctx, id)
		if err != nil || stuck != nil {
			rt.unsubscribe(id, ch)
			if err != nil {
				return nil, fmt.Errorf("runtime: wait for vow %s: %w", id, err)
			}
			return nil, stuck
		}
		select {
		case <-ch:
		case <-ctx.Done():
			rt.unsubscribe(id, ch)
			return nil, ctx.Err()
		case <-rt.done:
			rt.unsubscribe(id, ch)
			return nil, fmt.Errorf("runtime: wait for vow %s: %w", id, ErrClosed)
		}
	}
}

// wakeWaiters tells the hosts waiting on a vow to look at it again: it
// settled, or the activation whose outcome it is has failed.
func (rt *Runtime) wakeWaiters(vow flow.VowID) {
	rt.mu.Lock()
	chans := rt.hostWaiters[vow]
	delete(rt.hostWaiters, vow)
	rt.mu.Unlock()
	for _, c := range chans {
		close(c)
	}
}

func (rt *Runtime) subscribe(id flow.VowID) chan struct{} {
	ch := make(chan struct{})
	rt.mu.Lock()
	rt.hostWaiters[id] = append(rt.hostWaiters[id], ch)
	rt.mu.Unlock()
	return ch
}

func (rt *Runtime) unsubscribe(id flow.VowID, ch chan struct{}) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	ws := rt.hostWaiters[id]
	for i, c := range ws {
		if c == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(rt.hostWaiters, id)
	} else {
		rt.hostWaiters[id] = ws
	}
}

func (rt *Runtime) isClosing() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.closing
}
