package benchflows_test

import (
	"context"
	"testing"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

type noop struct{}

//go:noinline
func (noop) Step(ctx context.Context, i int) (int, error) { return i, nil }
func (noop) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	return flow.Vow[int]{}, nil
}

// BenchmarkDirectCall calls the host method directly: the floor.
func BenchmarkDirectCall(b *testing.B) {
	var h benchflows.Noop = noop{}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := h.Step(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxyCall runs one flow making b.N calls through the generated
// proxy, against an in-memory store: encoding, the membrane, the host
// dispatcher and the log record, without a disk.
func BenchmarkProxyCall(b *testing.B) {
	ctx := context.Background()
	rt, err := runtime.Open(ctx, ":memory:", runtime.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	benchflows.ProvideNoop(rt, "noop", noop{})
	steps := benchflows.RegisterSteps(rt)
	if err := rt.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	v, err := steps.Start(ctx, benchflows.NoopRef("noop"), b.N)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := runtime.Wait(ctx, rt, v); err != nil {
		b.Fatal(err)
	}
}
