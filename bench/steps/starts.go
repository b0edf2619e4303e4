package main

import (
	"context"
	"time"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// loneStarts times n starts, each issued alone: the flow of the one before
// has finished (its outcome waited for) before the next is issued. The flow
// makes one step. Each start follows a bare commit on b, timed too, so the
// two are compared on the same disk at the same moments.
func loneStarts(ctx context.Context, path string, b *bare, n int) (starts, bares []time.Duration, err error) {
	rt, _, steps, _, err := open(ctx, path, runtime.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer rt.Close(ctx)
	for range n {
		d, err := b.commit(ctx)
		if err != nil {
			return nil, nil, err
		}
		bares = append(bares, d)
		t0 := time.Now()
		v, err := steps.Start(ctx, benchflows.NoopRef("noop"), 1)
		if err != nil {
			return nil, nil, err
		}
		starts = append(starts, time.Since(t0))
		if _, err := runtime.Wait(ctx, rt, v); err != nil {
			return nil, nil, err
		}
	}
	return starts, bares, nil
}

// oneAtATime runs flows flows of calls steps each, started one at a time by
// one goroutine (each start returns before the next is issued, as a request
// handler would), and waits for all of them. It returns the whole time and
// each start's.
func oneAtATime(ctx context.Context, path string, flows, calls int) (time.Duration, []time.Duration, error) {
	rt, _, steps, _, err := open(ctx, path, runtime.Options{})
	if err != nil {
		return 0, nil, err
	}
	defer rt.Close(ctx)
	vows := make([]flow.Vow[int], 0, flows)
	starts := make([]time.Duration, 0, flows)
	t0 := time.Now()
	for range flows {
		s := time.Now()
		v, err := steps.Start(ctx, benchflows.NoopRef("noop"), calls)
		if err != nil {
			return 0, nil, err
		}
		starts = append(starts, time.Since(s))
		vows = append(vows, v)
	}
	for _, v := range vows {
		if _, err := runtime.Wait(ctx, rt, v); err != nil {
			return 0, nil, err
		}
	}
	return time.Since(t0), starts, nil
}
