package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/examples/payout"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// The examples run the payout flow of examples/payout: it asks Approvals for
// a vow, awaits it, and transfers the money through Ledger.

type exampleLedger struct{}

func (exampleLedger) Balance(ctx context.Context, account string) (int64, error) { return 1000, nil }

func (exampleLedger) Transfer(ctx context.Context, from, to string, cents int64) (payout.TxID, error) {
	fmt.Printf("transfer %d from %s to %s\n", cents, from, to)
	return payout.TxID("tx-" + to), nil
}

// exampleApprovals makes a vow per request and hands it to the example,
// which plays the person who answers.
type exampleApprovals struct {
	rt    *runtime.Runtime
	asked chan flow.Vow[bool]
}

func (a *exampleApprovals) Request(ctx context.Context, to string, cents int64) (flow.Vow[bool], error) {
	v, err := runtime.NewVow[bool](ctx, a.rt)
	if err == nil {
		fmt.Printf("approve %d to %s?\n", cents, to)
		a.asked <- v
	}
	return v, err
}

// openPayout opens a runtime on st as one incarnation of a payout program.
func openPayout(ctx context.Context, st *sqlitestore.Store, ledger string) (*runtime.Runtime, *exampleApprovals, payout.PayoutHandle) {
	rt, err := runtime.Open(ctx, "", runtime.Options{Store: st})
	if err != nil {
		panic(err)
	}
	appr := &exampleApprovals{rt: rt, asked: make(chan flow.Vow[bool], 1)}
	payout.ProvideLedger(rt, ledger, exampleLedger{})
	payout.ProvideApprovals(rt, "approvals", appr)
	h := payout.RegisterPayout(rt)
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	return rt, appr, h
}

// waitSuspended waits until every activation of rt waits for something.
func waitSuspended(ctx context.Context, rt *runtime.Runtime) {
	for {
		all, err := rt.Admin().Count(ctx, runtime.ListOptions{})
		if err != nil {
			panic(err)
		}
		suspended, err := rt.Admin().Count(ctx, runtime.ListOptions{State: runtime.StateSuspended})
		if err != nil {
			panic(err)
		}
		if suspended == all {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// A flow outlives the program that started it: the first incarnation stops
// while the payout waits for approval; the next one, on the same store,
// answers from the log what the flow asked before and carries on live.
func Example_restart() {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Memory, sqlitestore.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close(ctx)

	first, appr, h := openPayout(ctx, st, "ledger")
	v, err := h.Start(ctx, payout.LedgerRef("ledger"), payout.ApprovalsRef("approvals"), "bob", 500)
	if err != nil {
		panic(err)
	}
	approval := <-appr.asked
	waitSuspended(ctx, first)                // the request's answer is logged
	if err := first.Close(ctx); err != nil { // the payout sleeps in the store
		panic(err)
	}

	second, _, _ := openPayout(ctx, st, "ledger")
	defer second.Close(ctx)
	if err := runtime.Resolve(ctx, second, approval, true); err != nil {
		panic(err)
	}
	txid, err := runtime.Wait(ctx, second, v)
	fmt.Println(txid, err)
	// Output:
	// approve 500 to bob?
	// transfer 500 from treasury to bob
	// tx-bob <nil>
}

// A host makes a vow, settles it once, and any incarnation can wait for it.
func ExampleNewVow() {
	ctx := context.Background()
	rt, err := runtime.Open(ctx, sqlitestore.Memory, runtime.Options{})
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}

	v, err := runtime.NewVow[string](ctx, rt)
	if err != nil {
		panic(err)
	}
	fmt.Println(runtime.Resolve(ctx, rt, v, "shipped"))
	err = runtime.Resolve(ctx, rt, v, "lost")
	fmt.Println(errors.Is(err, runtime.ErrAlreadySettled))
	fmt.Println(runtime.Wait(ctx, rt, v))
	// Its id is enough to find it again, even without its type.
	raw, err := runtime.Wait(ctx, rt, flow.VowOf[codec.Raw](v.ID()))
	fmt.Println(codec.Format(raw), err)
	// Output:
	// <nil>
	// true
	// shipped <nil>
	// "shipped" <nil>
}

// A rejection crosses as an error that keeps its identity: errors.Is matches
// the sentinels a flow package registers.
func ExampleReject() {
	ctx := context.Background()
	rt, err := runtime.Open(ctx, sqlitestore.Memory, runtime.Options{})
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}

	v, err := runtime.NewVow[bool](ctx, rt)
	if err != nil {
		panic(err)
	}
	if err := runtime.Reject(ctx, rt, v, fmt.Errorf("the manager said no: %w", payout.ErrDenied)); err != nil {
		panic(err)
	}
	_, err = runtime.Wait(ctx, rt, v)
	fmt.Println(err)
	fmt.Println(errors.Is(err, payout.ErrDenied))
	// Output:
	// the manager said no: payout denied
	// true
}

// An activation that cannot go on is stuck, harmlessly, with a diagnostic:
// here the payout, started by a program that provided "old-ledger", reaches
// a ledger the next one no longer provides.
func ExampleAdmin_Failures() {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Memory, sqlitestore.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close(ctx)
	first, appr, h := openPayout(ctx, st, "old-ledger")
	if _, err := h.Start(ctx, payout.LedgerRef("old-ledger"), payout.ApprovalsRef("approvals"), "bob", 500); err != nil {
		panic(err)
	}
	approval := <-appr.asked
	waitSuspended(ctx, first)
	if err := first.Close(ctx); err != nil {
		panic(err)
	}

	rt, _, _ := openPayout(ctx, st, "ledger")
	defer rt.Close(ctx)
	if err := runtime.Resolve(ctx, rt, approval, true); err != nil {
		panic(err)
	}
	for {
		failures, err := rt.Admin().Failures(ctx)
		if err != nil {
			panic(err)
		}
		if len(failures) > 0 {
			d := failures[0].Failure
			fmt.Println(d.Problem)
			fmt.Println(d.Got)
			fmt.Println(d.Detail)
			return
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// approve 500 to bob?
	// illegal
	// call service("old-ledger").Transfer("treasury", "bob", 500)
	// flow: no such service: service("old-ledger") is not provided in this incarnation (not logged: the activation is retried when a later incarnation provides it)
}
