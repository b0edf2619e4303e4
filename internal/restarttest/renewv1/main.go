// Command renewv1 is the first build of the renewal program: its flow
// charges a month, waits until the next is due and continues as new with
// it, up to month 12. See restarttest.RenewalMain.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/restarttest"
)

// Renew bills one month of a subscription, then the next, as a fresh run.
//
//flowgen:flow name=restarttest.Renew
func Renew(fc flow.Context, b restarttest.Billing, account string, month int) (int, error) {
	if _, err := b.Charge(fc, account, month); err != nil {
		return 0, err
	}
	due, err := b.Due(fc, account, month)
	if err != nil {
		return 0, err
	}
	if _, err := flow.Await(fc, due); err != nil {
		return 0, err
	}
	if month == 12 {
		return month, nil
	}
	return 0, ContinueRenewAsNew(fc, b, account, month+1)
}

func main() {
	restarttest.RenewalMain("renew-v1", func(r flowimpl.Registry) restarttest.Renewal {
		h := RegisterRenew(r)
		return func(ctx context.Context, b restarttest.Billing, account string, month int) (flow.Vow[int], error) {
			return h.StartWithID(ctx, account, b, account, month)
		}
	})
}
