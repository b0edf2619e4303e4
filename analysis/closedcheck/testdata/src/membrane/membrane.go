package membrane

import (
	"context"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
)

//flowgen:host
type Ledger interface { // want Ledger:"host"
	Balance(ctx context.Context, acct string) (int64, error)
	Transfer(ctx context.Context, from, to string, cents int64) (string, error)
}

// Accounts embeds the host interface: its methods are still the membrane.
type Accounts interface {
	Ledger
}

//flowgen:flow
func Pay(fc flow.Context, l Ledger, to string, cents int64, approve flow.Signal[bool], stage flow.Status[string]) (string, error) {
	stage.Set(fc, "asking") // signals and statuses are the membrane
	if flow.Race(fc, approve.Next(fc), flow.After(fc, time.Hour)) == 1 {
		return "", nil
	}
	if ok, _ := approve.Receive(fc); !ok {
		return "", nil
	}
	if _, err := flow.Await(fc, ChildAudit(fc, to)); err != nil { // a child, through generated code
		return "", err
	}
	b, err := l.Balance(fc, "treasury")
	if err != nil || b < cents {
		return "", err
	}
	f1 := AsyncLedger(l).Balance(fc, to)
	timeout := flow.After(fc, 24*time.Hour)
	if flow.Race(fc, f1, timeout) == 1 {
		return "", nil
	}
	if err := flow.All(fc, f1); err != nil {
		return "", err
	}
	if _, err := flow.Await(fc, f1); err != nil {
		return "", err
	}
	if flow.Patched(fc, "fee") {
		cents += cents / 100
	}
	if flow.Random(fc)%2 == 0 && flow.UUID(fc) != "" { // markers that replay, like flow.Now
		cents++
	}
	var a Accounts = accounts(l)
	_, _ = a.Balance(fc, to)
	return l.Transfer(fc, "treasury", to, cents)
}

func accounts(l Ledger) Accounts { return l }

// ViaImpl calls what generated code calls: flow/flowimpl is the membrane.
//
//flowgen:flow
func ViaImpl(fc flow.Context) error {
	_, err := flowimpl.Call(fc, "ledger", "Balance")
	return err
}
