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
// (continue-as-new); asking again changes nothing and returns nil. For an
// activation that is done it returns ErrFinished, for one that does not
// exist ErrUnknownActivation. On a store alone (OpenAdmin with Write) the
// request is written for the next runtime to find.
func (ad *Admin) RequestCancel(ctx context.Context, id flow.ActivationID, reason string) error {
	payload, err := codec.Marshal(reason)
	if err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	op := &store.RequestCancel{Act: id, Vow: membrane.CancelVow(id), Payload: payload, At: ad.clock.Now()}
	if rt := ad.rt; rt != nil {
		if rt.isClosing() {
			return fmt.Errorf("runtime: request cancel %s: %w", id, ErrClosed)
		}
		op.Gen = rt.gen
	} else if op.Gen, err = ad.writeGen(ctx); err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	if err := store.Apply(ctx, ad.st, op); err != nil {
		return fmt.Errorf("runtime: request cancel %s: %w", id, err)
	}
	switch op.Result {
	case store.CancelNoActivation:
		return fmt.Errorf("runtime: request cancel %s: %w", id, ErrUnknownActivation)
	case store.CancelFinished:
		return fmt.Errorf("runtime: request cancel %s: %w", id, ErrFinished)
	case store.CancelRequested:
		if ad.rt != nil {
			ad.rt.settled(op.Vow, store.VowFulfilled, payload, op.Waiters)
		}
	}
	return nil
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
