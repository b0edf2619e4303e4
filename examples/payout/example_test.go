package payout_test

import (
	"context"
	"fmt"

	"github.com/asyncflow-go/asyncflow/examples/payout"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

type ledger struct{}

func (ledger) Balance(ctx context.Context, account string) (int64, error) { return 1000, nil }

func (ledger) Transfer(ctx context.Context, from, to string, cents int64) (payout.TxID, error) {
	fmt.Printf("transfer %d from %s to %s\n", cents, from, to)
	return payout.TxID("tx-" + to), nil
}

type approvals struct {
	rt    *runtime.Runtime
	asked chan flow.Vow[bool]
}

func (a *approvals) Request(ctx context.Context, to string, cents int64) (flow.Vow[bool], error) {
	v, err := runtime.NewVow[bool](ctx, a.rt)
	if err == nil {
		fmt.Printf("approve %d to %s?\n", cents, to)
		a.asked <- v
	}
	return v, err
}

// A payout waits for a person's approval — here, in memory, for a moment;
// in production, possibly for days and across upgrades.
func Example() {
	ctx := context.Background()
	rt, err := runtime.Open(ctx, ":memory:", runtime.Options{})
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	appr := &approvals{rt: rt, asked: make(chan flow.Vow[bool], 1)}
	payout.ProvideLedger(rt, "ledger", ledger{})
	payout.ProvideApprovals(rt, "approvals", appr)
	h := payout.RegisterPayout(rt)
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}

	v, err := h.Start(ctx, payout.LedgerRef("ledger"), payout.ApprovalsRef("approvals"), "bob", 500)
	if err != nil {
		panic(err)
	}
	approval := <-appr.asked // the flow now sleeps on this vow
	if err := runtime.Resolve(ctx, rt, approval, true); err != nil {
		panic(err)
	}
	txid, err := runtime.Wait(ctx, rt, v)
	fmt.Println(txid, err)
	// Output:
	// approve 500 to bob?
	// transfer 500 from treasury to bob
	// tx-bob <nil>
}
