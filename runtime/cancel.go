package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// RequestCancel asks an activation to cancel: the vow its flow reaches with
// flow.Cancellation is fulfilled with reason, durably, and a flow waiting
// for it is woken (replayed, if it is not resident). What cancelling means
// is the flow's to say: it can undo what it did, calling hosts as usual,
// and its outcome is whatever it returns. A flow that never awaits the vow
// runs on. The request stands for the activation's later runs too
// (continue-as-new); asking again changes nothing and returns nil. The same
// request, with the same reason and in the same transaction, goes to the
// activation's unfinished children, and theirs: each child's flow decides
// for itself, as its parent's does (a child started after the request is
// not asked; a parent that hears it can decide not to start one). For an
// activation that is done it returns ErrFinished, for one that does not
// exist ErrUnknownActivation. On a store alone (OpenAdmin with Write) the
// request is written for the next runtime to find.
func (ad *Admin) RequestCancel(ctx context.Context, id flow.ActivationID, reason string) error {
	payload, err := codec.Marshal(reason)
	if err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	var gen int64
	if rt := ad.rt; rt != nil {
		if rt.isClosing() {
			return fmt.Errorf("runtime: request cancel %s: %w", id, ErrClosed)
		}
		gen = rt.gen
	} else if gen, err = ad.writeGen(ctx); err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	descendants, err := ad.unfinishedDescendants(ctx, id)
	if err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	at := ad.clock.Now()
	var ops []store.Op
	for _, act := range append([]flow.ActivationID{id}, descendants...) {
		ops = append(ops, &store.RequestCancel{Act: act, Vow: membrane.CancelVow(act), Payload: payload, Gen: gen, At: at})
	}
	if err := store.Apply(ctx, ad.st, ops...); err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	switch ops[0].(*store.RequestCancel).Result {
	case store.CancelNoActivation:
		return fmt.Errorf("runtime: request cancel %s: %w", id, ErrUnknownActivation)
	case store.CancelFinished:
		return fmt.Errorf("runtime: request cancel %s: %w", id, ErrFinished)
	}
	if ad.rt != nil {
		for _, op := range ops {
			if op := op.(*store.RequestCancel); op.Result == store.CancelRequested {
				ad.rt.settled(op.Vow, store.VowFulfilled, payload, op.Waiters)
			}
		}
	}
	return nil
}

// unfinishedDescendants returns the unfinished children of an unfinished
// activation, their unfinished children, and so on; nothing for one that is
// done or does not exist.
func (ad *Admin) unfinishedDescendants(ctx context.Context, id flow.ActivationID) ([]flow.ActivationID, error) {
	row, err := ad.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.State == store.Done) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []flow.ActivationID
	seen := map[flow.ActivationID]bool{id: true}
	for next := []flow.ActivationID{id}; len(next) > 0; {
		parent := next[0]
		next = next[1:]
		kids, err := ad.st.Children(ctx, parent)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			if k.State == store.Done || seen[k.ID] {
				continue
			}
			seen[k.ID] = true
			out = append(out, k.ID)
			next = append(next, k.ID)
		}
	}
	return out, nil
}

// CancelRequested reports whether cancellation of the activation has been
// requested, and with what reason.
func (ad *Admin) CancelRequested(ctx context.Context, id flow.ActivationID) (reason string, requested bool, err error) {
	v, err := ad.st.Vow(ctx, membrane.CancelVow(id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("runtime: cancellation of %s: %w", id, err)
	case v.State != store.VowFulfilled:
		return "", false, nil
	}
	if err := codec.Unmarshal(v.Payload, &reason); err != nil {
		return "", true, fmt.Errorf("runtime: cancellation of %s: the reason %s does not decode: %w", id, codec.Format(v.Payload), err)
	}
	return reason, true, nil
}
