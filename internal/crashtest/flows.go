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
	// Apply applies one change to an account. prev carries what the flow
	// learned from earlier calls; the receipt is fresh at every execution,
	// so a call made again after a crash returns another one.
	Apply(ctx context.Context, account string, step int, prev int64) (int64, error)
}

// Effect is one line of the host's journal: one execution of Bank.Apply.
type Effect struct {
	Key     string `json:"key"` // idempotency key
	Account string `json:"account"`
	Step    int    `json:"step"`
	Prev    int64  `json:"prev"`
	Receipt int64  `json:"receipt"`
	PID     int    `json:"pid"` // the process that made it
}

// Work makes Steps rounds of host calls for one account: one call, then two
// at once awaited together, then a short durable sleep every other round.
// Every call passes on what the calls before it returned, so the journal
// shows whether a result reached the world before it was durable: if it had,
// a call made again after a crash would carry another prev.
//
//flowgen:flow name=crashtest.Work
func Work(fc flow.Context, b Bank, account string) (int64, error) {
	async := AsyncBank(b)
	var acc int64
	for i := range Steps {
		r, err := b.Apply(fc, account, 3*i, acc)
		if err != nil {
			return 0, err
		}
		f1 := async.Apply(fc, account, 3*i+1, r)
		f2 := async.Apply(fc, account, 3*i+2, r)
		if err := flow.All(fc, f1, f2); err != nil {
			return 0, err
		}
		r1, _ := flow.Await(fc, f1)
		r2, _ := flow.Await(fc, f2)
		acc = r1 ^ r2
		if i%2 == 1 {
			flow.Sleep(fc, 20*time.Millisecond)
		}
	}
	return acc, nil
}

// Account is the account of flow number i.
func Account(i int) string { return fmt.Sprintf("acct-%03d", i) }
