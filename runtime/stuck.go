package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// StuckError is what Wait returns, instead of blocking, for the outcome of
// an activation that cannot finish in this incarnation: it failed (its
// replay diverged, the flow or a host method panicked, …) and is not being
// retried, or this incarnation does not register its flow. Nothing is given
// up: the activation stays as it is, a later build that fixes it (or
// registers its flow) finishes it, and Wait may be called again then. Test
// for it with errors.As, or errors.Is(err, ErrStuck).
type StuckError struct {
	Vow        flow.VowID        // the outcome waited for
	Activation flow.ActivationID // the activation it is the outcome of
	Flow       string
	// Unregistered is true when this incarnation does not register the
	// flow; Diagnostic is then nil.
	Unregistered bool
	// Diagnostic says why the activation failed.
	Diagnostic *diag.Diagnostic
}

func (e *StuckError) Error() string {
	if e.Unregistered {
		return fmt.Sprintf("runtime: wait for vow %s: activation %s of flow %s is stuck: %s", e.Vow, e.Activation, e.Flow, ErrUnregistered)
	}
	return fmt.Sprintf("runtime: wait for vow %s: %s", e.Vow, e.Diagnostic.Error())
}

// Unwrap returns ErrStuck and ErrUnregistered or the diagnostic.
func (e *StuckError) Unwrap() []error {
	if e.Unregistered {
		return []error{ErrStuck, ErrUnregistered}
	}
	return []error{ErrStuck, e.Diagnostic}
}

// stuckOwner returns the StuckError for a pending vow that is the outcome
// of an activation that cannot finish in this incarnation, or nil.
func (rt *Runtime) stuckOwner(ctx context.Context, id flow.VowID) (*StuckError, error) {
	a, err := rt.st.ActivationByOutcome(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // not an outcome
	}
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	_, registered := rt.flows[a.Flow]
	started := rt.started
	act, resident := rt.active[a.ID]
	retrying := resident && (!act.leaving || act.rewake)
	rt.mu.Unlock()
	switch {
	case !registered:
		return &StuckError{Vow: id, Activation: a.ID, Flow: a.Flow, Unregistered: true}, nil
	case a.State != store.Failed || retrying || !started: // Start retries it
		return nil, nil
	}
	info := rt.Admin().info(a)
	d := info.Failure
	if d == nil {
		d = &diag.Diagnostic{Activation: a.ID, Flow: a.Flow, Step: -1, Detail: "failed, without a diagnostic"}
	}
	return &StuckError{Vow: id, Activation: a.ID, Flow: a.Flow, Diagnostic: d}, nil
}
