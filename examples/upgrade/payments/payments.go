// Package payments is the part of the upgrade example that does not change
// between builds: the host interfaces flows use, their implementation (which
// records every effect in a journal file), a flow that stays the same in
// every build, and the program's main loop. The builds in ../v1, ../v2 and
// ../v3 differ only in their Payout flow.
package payments

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"errors"

	"github.com/asyncflow-go/asyncflow/flow"
)

// TxID identifies a completed transfer.
type TxID string

// Hold is money reserved on an account until it is transferred.
type Hold struct {
	ID      string
	Account string
	Cents   int64
}

// ErrDenied is returned when an approver says no.
var ErrDenied = errors.New("payments: denied")

// Ledger moves money.
//
//flowgen:host
type Ledger interface {
	// Fee returns the fee for moving cents.
	Fee(ctx context.Context, cents int64) (int64, error)
	// Reserve holds cents on an account.
	Reserve(ctx context.Context, account string, cents int64) (Hold, error)
	// Transfer pays a hold out.
	Transfer(ctx context.Context, h Hold) (TxID, error)
}

// Approvals asks a person; the answer may take days.
//
//flowgen:host
type Approvals interface {
	Request(ctx context.Context, account string, cents int64) (flow.Vow[bool], error)
}

// Notifier sends messages to customers.
//
//flowgen:host
type Notifier interface {
	Send(ctx context.Context, to, text string) error
}

// Welcome greets a new customer, waits until their account is approved and
// tells them. It is the same in every build.
//
//flowgen:flow
func Welcome(fc flow.Context, n Notifier, a Approvals, customer string) (string, error) {
	if err := n.Send(fc, customer, "welcome"); err != nil {
		return "", err
	}
	approval, err := a.Request(fc, customer, 0)
	if err != nil {
		return "", err
	}
	ok, err := flow.Await(fc, approval)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrDenied
	}
	if err := n.Send(fc, customer, "your account is open"); err != nil {
		return "", err
	}
	return "welcomed " + customer, nil
}
