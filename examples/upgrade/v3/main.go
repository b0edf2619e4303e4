// Command v3 is the third build of the upgrade example. It keeps v2's fee
// for activations that reach this point under v3, and v1's path for those
// that had already reserved: flow.Patched tells them apart.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"github.com/asyncflow-go/asyncflow/examples/upgrade/payments"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Payout pays cents to account, plus a fee for payouts started under this
// build, once a person approves.
//
//flowgen:flow name=payments.Payout
func Payout(fc flow.Context, l payments.Ledger, a payments.Approvals, account string, cents int64) (payments.TxID, error) {
	amount := cents
	if flow.Patched(fc, "fee") {
		fee, err := l.Fee(fc, cents)
		if err != nil {
			return "", err
		}
		amount += fee
	}
	hold, err := l.Reserve(fc, account, amount)
	if err != nil {
		return "", err
	}
	approval, err := a.Request(fc, account, amount)
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
