// Command v1 is the first build of the shared-store tests' program.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/sharedtest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Work makes rounds of effects on an account: an effect, a vow some process
// answers, a durable timer, and an effect that passes on all it learned.
//
//flowgen:flow name=sharedtest.Work
func Work(fc flow.Context, l sharedtest.Ledger, account string, rounds int) (string, error) {
	var acc int64
	for i := range rounds {
		r, err := l.Apply(fc, account, 2*i, acc)
		if err != nil {
			return "", err
		}
		v, err := l.Ask(fc, account, i)
		if err != nil {
			return "", err
		}
		x, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		flow.Sleep(fc, 100*time.Millisecond)
		if acc, err = l.Apply(fc, account, 2*i+1, r^x); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("v1:%d", acc), nil
}

func main() {
	sharedtest.Main("v1", func(rt *runtime.Runtime) sharedtest.Starter { return RegisterWork(rt) })
}
