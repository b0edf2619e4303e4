// Package crashtest holds the flows and host interface of the crash test: a
// program that runs many flows and is killed with SIGKILL at random moments,
// again and again, until every flow is done.
package crashtest

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Steps is how many rounds of host calls each flow makes.
const Steps = 8

// Bank records effects: each call is one effect in the journal.
//
//flowgen:host
type Bank interface {
	// Apply applies one change to an account and returns a receipt number.
	Apply(ctx context.Context, account string, step int, amount int64) (int64, error)
}

// Work makes Steps rounds of host calls for one account: one call, then two
// at once awaited together, then a short durable sleep every other round. Its
// outcome is the sum of the receipts, which Expected computes independently.
//
//flowgen:flow name=crashtest.Work
func Work(fc flow.Context, b Bank, account string) (int64, error) {
	async := AsyncBank(b)
	var sum int64
	for i := range Steps {
		r, err := b.Apply(fc, account, 3*i, int64(i+1))
		if err != nil {
			return 0, err
		}
		sum += r
		f1 := async.Apply(fc, account, 3*i+1, int64(10*(i+1)))
		f2 := async.Apply(fc, account, 3*i+2, int64(100*(i+1)))
		if err := flow.All(fc, f1, f2); err != nil {
			return 0, err
		}
		r1, _ := flow.Await(fc, f1)
		r2, _ := flow.Await(fc, f2)
		sum += r1 + r2
		if i%2 == 1 {
			flow.Sleep(fc, 20*time.Millisecond)
		}
	}
	return sum, nil
}

// Receipt is what Apply returns: a pure function of its arguments, so the
// test knows every outcome in advance.
func Receipt(account string, step int, amount int64) int64 {
	var h int64
	for _, c := range account {
		h = h*31 + int64(c)
	}
	return (h%1000)*1000 + int64(step)*10 + amount
}

// Expected is the outcome Work must reach for an account.
func Expected(account string) int64 {
	var sum int64
	for i := range Steps {
		sum += Receipt(account, 3*i, int64(i+1))
		sum += Receipt(account, 3*i+1, int64(10*(i+1)))
		sum += Receipt(account, 3*i+2, int64(100*(i+1)))
	}
	return sum
}

// Account is the account of flow number i.
func Account(i int) string { return fmt.Sprintf("acct-%03d", i) }
