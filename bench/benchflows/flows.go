// Package benchflows holds the flows the benchmarks run: a no-op host
// interface, so a step costs only the proxy, the membrane, the encoding and
// the log record.
package benchflows

//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen

import (
	"context"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Noop is a host interface that does nothing.
//
//flowgen:host
type Noop interface {
	Step(ctx context.Context, i int) (int, error)
	// Ask returns a vow the benchmark settles.
	Ask(ctx context.Context, what string) (flow.Vow[int], error)
}

// Steps makes n no-op host calls one after another.
//
//flowgen:flow name=bench.Steps
func Steps(fc flow.Context, h Noop, n int) (int, error) {
	sum := 0
	for i := range n {
		r, err := h.Step(fc, i)
		if err != nil {
			return 0, err
		}
		sum += r
	}
	return sum, nil
}

// Long makes n host calls, waits for a vow, and makes one more call: once
// revived, its replay answers n+1 entries before it goes live.
//
//flowgen:flow name=bench.Long
func Long(fc flow.Context, h Noop, n int) (int, error) {
	sum := 0
	for i := range n {
		r, err := h.Step(fc, i)
		if err != nil {
			return 0, err
		}
		sum += r
	}
	v, err := h.Ask(fc, "go on")
	if err != nil {
		return 0, err
	}
	x, err := flow.Await(fc, v)
	if err != nil {
		return 0, err
	}
	r, err := h.Step(fc, -1)
	return sum + x + r, err
}

// Sleeper makes one host call and sleeps on a durable timer.
//
//flowgen:flow name=bench.Sleeper
func Sleeper(fc flow.Context, h Noop, d time.Duration) (int, error) {
	r, err := h.Step(fc, 1)
	if err != nil {
		return 0, err
	}
	flow.Sleep(fc, d)
	return r, nil
}

// Loop makes no-op host calls numbered from i up to total, continuing as
// new after every calls (with every 0, never). With check set, before each
// call numbered n with (n+1) a multiple of check it asks for a vow and
// awaits it — the last call of a run, when check is a multiple of every —
// so the benchmark can stop there and look at the log and the replay.
//
//flowgen:flow name=bench.Loop
func Loop(fc flow.Context, h Noop, i, total, every, check int) (int, error) {
	for n := 0; i < total && (every == 0 || n < every); n++ {
		if check > 0 && (i+1)%check == 0 {
			v, err := h.Ask(fc, "checkpoint")
			if err != nil {
				return 0, err
			}
			if _, err := flow.Await(fc, v); err != nil {
				return 0, err
			}
		}
		if _, err := h.Step(fc, i); err != nil {
			return 0, err
		}
		i++
	}
	if i < total {
		return 0, ContinueLoopAsNew(fc, h, i, total, every, check)
	}
	return i, nil
}
