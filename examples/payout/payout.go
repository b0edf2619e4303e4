// Package payout pays people once a person approves: a flow that may sleep
// for days, across upgrades, waiting for an answer.
package payout

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"errors"

	"github.com/asyncflow-go/asyncflow/flow"
)

// TxID identifies a transfer.
type TxID string

// ErrDenied is returned when the approver says no.
var ErrDenied = errors.New("payout denied")

// Ledger moves money. Implemented by the host; flows reach it through the membrane.
//
//flowgen:host
type Ledger interface {
	Balance(ctx context.Context, account string) (int64, error)
	Transfer(ctx context.Context, from, to string, cents int64) (TxID, error)
}

// Approvals asks a person; the answer may take days.
//
//flowgen:host
type Approvals interface {
	Request(ctx context.Context, to string, cents int64) (flow.Vow[bool], error)
}

// Payout asks for approval, waits for it, and transfers the money.
//
//flowgen:flow
func Payout(fc flow.Context, l Ledger, a Approvals, to string, cents int64) (TxID, error) {
	approval, err := a.Request(fc, to, cents)
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
	return l.Transfer(fc, "treasury", to, cents)
}
