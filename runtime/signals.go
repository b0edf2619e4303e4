package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Signals and statuses from the host side: sending messages to an
// activation's mailboxes, and reading what it published, by id or start key.

// Send implements flowimpl.Starter: the generated Send… methods of a flow's
// handle call it.
func (fd *flowDef) Send(ctx context.Context, to flowimpl.Recipient, signal, key string, payload []byte) error {
	return fd.rt.send(ctx, fd.recipient(to), fd.name, signal, key, payload)
}

// Status implements flowimpl.Starter: the generated status readers of a
// flow's handle call it.
func (fd *flowDef) Status(ctx context.Context, to flowimpl.Recipient, name string) ([]byte, bool, error) {
	return fd.rt.status(ctx, fd.recipient(to), fd.name, name)
}

// recipient is the id of the activation to names: a start key stands for
// the id StartWithID derived from it.
func (fd *flowDef) recipient(to flowimpl.Recipient) flow.ActivationID {
	if to.Key != "" {
		return derivedID(fd.name, to.Key)
	}
	return to.ID
}

// Send sends v to the mailbox signal of the activation id, where the flow
// receives it with a flow.Signal[T] parameter named signal. The message is
// durable when Send returns, and is delivered after every message sent to
// the activation before it, once. With a non-empty key it is taken once
// however often it is sent, so a host can retry a send, or pass on a
// webhook delivered twice, safely; sending the key again with another value
// is ErrSendConflict. An activation that is done refuses it with
// ErrFinished. Prefer the typed Send… methods flowgen generates on a flow's
// handle, which also find activations by start key.
//
// Send needs no Start: a short-lived program can open the store, send and
// close it, and the incarnation that runs the flow delivers the message.
func Send[T any](ctx context.Context, rt *Runtime, id flow.ActivationID, signal, key string, v T) error {
	b, err := codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("runtime: send %s to %s: %w", signal, id, err)
	}
	return rt.send(ctx, id, "", signal, key, b)
}

// ReadStatus returns what the activation id published under name with a
// flow.Status[T] parameter of that name, and false if it published nothing
// (yet). It reads the store only: no flow code runs and nothing is woken,
// and it works after the activation has finished. Prefer the typed readers
// flowgen generates on a flow's handle.
func ReadStatus[T any](ctx context.Context, rt *Runtime, id flow.ActivationID, name string) (T, bool, error) {
	var t T
	b, ok, err := rt.status(ctx, id, "", name)
	if err != nil || !ok {
		return t, false, err
	}
	if err := codec.Unmarshal(b, &t); err != nil {
		return t, false, fmt.Errorf("runtime: status %s of %s: %s does not decode: %w", name, id, codec.Format(b), err)
	}
	return t, true, nil
}

func (rt *Runtime) send(ctx context.Context, id flow.ActivationID, flowName, signal, key string, payload []byte) error {
	what := func() string { return "runtime: send " + signal + " to " + id.String() }
	if signal == "" {
		return fmt.Errorf("%s: a signal needs a name", what())
	}
	if err := codec.Valid(payload); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	if rt.isClosing() {
		return fmt.Errorf("%s: %w", what(), ErrClosed)
	}
	op := &store.Send{Act: id, Flow: flowName, Name: signal, Key: key, Payload: payload, Gen: rt.gen, At: rt.clock.Now()}
	// A send whose ctx ends may still commit; with a key, sending again is
	// safe.
	if err := store.Apply(ctx, rt.st, op); err != nil {
		return fmt.Errorf("%s: %w", what(), err)
	}
	switch op.Result {
	case store.Queued, store.Duplicate:
		return nil
	case store.Delivered:
		rt.settled(op.Vow, store.VowFulfilled, payload, op.Waiters)
		return nil
	case store.Conflict:
		return fmt.Errorf("%s: key %q: %w", what(), key, ErrSendConflict)
	case store.Finished:
		return fmt.Errorf("%s: %w", what(), ErrFinished)
	case store.NoSuchActivation:
		return fmt.Errorf("%s: %w", what(), ErrUnknownActivation)
	case store.OtherFlow:
		return fmt.Errorf("%s: %w %s", what(), ErrOtherFlow, flowName)
	}
	return fmt.Errorf("%s: the store answered %s", what(), op.Result)
}

func (rt *Runtime) status(ctx context.Context, id flow.ActivationID, flowName, name string) ([]byte, bool, error) {
	what := func() string { return "runtime: status " + name + " of " + id.String() }
	row, err := rt.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, fmt.Errorf("%s: %w", what(), ErrUnknownActivation)
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what(), err)
	}
	if flowName != "" && row.Flow != flowName {
		return nil, false, fmt.Errorf("%s: %w %s", what(), ErrOtherFlow, flowName)
	}
	st, err := rt.st.Status(ctx, id, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what(), err)
	}
	return st.Payload, true, nil
}
