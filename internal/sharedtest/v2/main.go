// Command v2 is the second build of the shared-store tests' program. It
// notes every answer before it goes on: an activation that went past an
// answer under v1 does not replay under v2 — v2 has no patch for it — and
// must finish on v1; the others may finish on either.
package main

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/sharedtest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Work is v1's Work with a Note after each answer.
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
		if err := l.Note(fc, account, i); err != nil { // new in v2
			return "", err
		}
		flow.Sleep(fc, 100*time.Millisecond)
		if acc, err = l.Apply(fc, account, 2*i+1, r^x); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("v2:%d", acc), nil
}

func main() {
	sharedtest.Main("v2", func(rt *runtime.Runtime) sharedtest.Starter { return RegisterWork(rt) })
}
