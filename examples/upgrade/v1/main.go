// Command v1 is the first build of the upgrade example: it reserves the
// money, asks for approval and pays out.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"github.com/asyncflow-go/asyncflow/examples/upgrade/payments"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Payout pays cents to account once a person approves.
//
//flowgen:flow name=payments.Payout
func Payout(fc flow.Context, l payments.Ledger, a payments.Approvals, account string, cents int64) (payments.TxID, error) {
	hold, err := l.Reserve(fc, account, cents)
	if err != nil {
		return "", err
	}
	approval, err := a.Request(fc, account, cents)
	if err != nil {
		return "", err
	}
	ok, err := flow.Await(fc, approval) // may sleep for days
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
