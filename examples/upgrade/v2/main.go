// Command v2 is the second build of the upgrade example. It charges a fee,
// which it computes before reserving the money: activations that reserved
// under v1 no longer match their logs, and get stuck — harmlessly — until a
// build that reproduces their logs is deployed.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"github.com/asyncflow-go/asyncflow/examples/upgrade/payments"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Payout pays cents to account, plus a fee, once a person approves.
//
//flowgen:flow name=payments.Payout
func Payout(fc flow.Context, l payments.Ledger, a payments.Approvals, account string, cents int64) (payments.TxID, error) {
	fee, err := l.Fee(fc, cents) // new: the step v1's logs do not have
	if err != nil {
		return "", err
	}
	hold, err := l.Reserve(fc, account, cents+fee)
	if err != nil {
		return "", err
	}
	approval, err := a.Request(fc, account, cents+fee)
	if err != nil {
		return "", err
	}
	ok, err := flow.Await(fc, approval)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", payments.ErrDenied
	}
	return l.Transfer(fc, hold)
}

func main() {
	payments.Main(func(rt *runtime.Runtime) payments.PayoutStarter { return RegisterPayout(rt) })
}
