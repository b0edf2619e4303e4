package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Published is a value an activation published with a flow.Status, as
// Admin reports it.
type Published struct {
	Name  string
	Text  string // the value, rendered
	Value []byte // the value, encoded
	Gen   int64  // incarnation that published it
}

// Message is a message sent to an activation that it has not received yet,
// as Admin reports it.
type Message struct {
	Seq    int64  // its place among the messages sent to the activation, from 1
	Signal string // the mailbox
	Key    string // the sender's idempotency key, if any
	Text   string // the message, rendered
	Gen    int64  // incarnation that sent it
}

// talk fills in what Get reports of an activation's lineage, publications
// and mailbox.
func (ad *Admin) talk(ctx context.Context, info *ActivationInfo) error {
	st := ad.st
	kids, err := st.Children(ctx, info.ID)
	if err != nil {
		return err
	}
	for _, k := range kids {
		info.Children = append(info.Children, k.ID)
	}
	if info.Statuses, err = ad.Statuses(ctx, info.ID); err != nil {
		return err
	}
	msgs, err := st.Mailbox(ctx, info.ID)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		info.Mailbox = append(info.Mailbox, Message{Seq: m.Seq, Signal: m.Name, Key: m.Key, Text: codec.Format(m.Payload), Gen: m.Gen})
	}
	return nil
}

// Children lists the activations an activation started as its children,
// in id order; ActivationInfo.Parent leads back.
func (ad *Admin) Children(ctx context.Context, id flow.ActivationID) ([]ActivationInfo, error) {
	if _, err := ad.st.Activation(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = ErrUnknownActivation
		}
		return nil, fmt.Errorf("runtime: children of %s: %w", id, err)
	}
	kids, err := ad.st.Children(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("runtime: children of %s: %w", id, err)
	}
	out := make([]ActivationInfo, len(kids))
	for i, k := range kids {
		out[i] = ad.info(k)
	}
	return out, nil
}

// Statuses returns what an activation published, in name order, read from
// the store: nothing is woken or replayed.
func (ad *Admin) Statuses(ctx context.Context, id flow.ActivationID) ([]Published, error) {
	sts, err := ad.st.Statuses(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("runtime: statuses of %s: %w", id, err)
	}
	out := make([]Published, len(sts))
	for i, s := range sts {
		out[i] = Published{Name: s.Name, Text: codec.Format(s.Payload), Value: s.Payload, Gen: s.Gen}
	}
	return out, nil
}
