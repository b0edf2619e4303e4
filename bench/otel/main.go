// Command otel measures what OpenTelemetry costs the runtime: bench/steps'
// single-flow figure — one flow's durable steps one after another, on a
// store on disk — with no provider set, and with the SDK's tracer and meter
// providers recording every span and metric, in alternating blocks so both
// see the same disk. It also counts the allocations of a step, which with no
// provider must be those of the runtime alone.
//
//	go run ./bench/otel [-steps 2000] [-blocks 6] [-dir DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"
	"slices"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

type noop struct {
	mu    sync.Mutex
	times []time.Time
}

func (n *noop) Step(ctx context.Context, i int) (int, error) {
	n.mu.Lock()
	n.times = append(n.times, time.Now())
	n.mu.Unlock()
	return i, nil
}

func (n *noop) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	return flow.Vow[int]{}, nil
}

func main() {
	steps := flag.Int("steps", 2000, "steps per block")
	blocks := flag.Int("blocks", 6, "blocks of each kind, alternating")
	dir := flag.String("dir", "", "directory for the stores (default: a new one under the current directory)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := run(*dir, *steps, *blocks); err != nil {
		fmt.Fprintln(os.Stderr, "otel:", err)
		os.Exit(1)
	}
}

func run(dir string, steps, blocks int) error {
	if dir == "" {
		d, err := os.MkdirTemp(".", "bench-otel-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx := context.Background()
	var without, with []time.Duration
	var allocsWithout, allocsWith float64
	var spans int
	for b := range blocks {
		d, a, err := block(ctx, fmt.Sprintf("%s/off-%d.db", dir, b), runtime.Options{}, steps)
		if err != nil {
			return err
		}
		without, allocsWithout = append(without, d...), allocsWithout+a
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		d, a, err = block(ctx, fmt.Sprintf("%s/on-%d.db", dir, b), runtime.Options{TracerProvider: tp, MeterProvider: mp}, steps)
		if err != nil {
			return err
		}
		with, allocsWith = append(with, d...), allocsWith+a
		spans += len(rec.Ended())
	}
	fmt.Printf("one flow, %d durable steps in each of %d blocks of each kind (synchronous=FULL)\n", steps, blocks)
	fmt.Printf("  no provider:      median %8s   p90 %8s   %5.1f allocations a step\n", median(without), pct(without, 90), allocsWithout/float64(blocks))
	fmt.Printf("  SDK, recording:   median %8s   p90 %8s   %5.1f allocations a step (%d spans)\n", median(with), pct(with, 90), allocsWith/float64(blocks), spans)
	fmt.Printf("  ratio of medians: %.3f\n", float64(median(with))/float64(median(without)))
	return nil
}

// block runs one flow of n steps on a new store and returns the time between
// consecutive steps and the allocations per step.
func block(ctx context.Context, path string, opts runtime.Options, n int) ([]time.Duration, float64, error) {
	rt, err := runtime.Open(ctx, path, opts)
	if err != nil {
		return nil, 0, err
	}
	defer rt.Close(ctx)
	host := &noop{times: make([]time.Time, 0, n+1)}
	benchflows.ProvideNoop(rt, "noop", host)
	h := benchflows.RegisterSteps(rt)
	if err := rt.Start(ctx); err != nil {
		return nil, 0, err
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	v, err := h.Start(ctx, benchflows.NoopRef("noop"), n+1)
	if err != nil {
		return nil, 0, err
	}
	if _, err := runtime.Wait(ctx, rt, v); err != nil {
		return nil, 0, err
	}
	goruntime.ReadMemStats(&after)
	host.mu.Lock()
	defer host.mu.Unlock()
	out := make([]time.Duration, 0, n)
	for i := 1; i < len(host.times); i++ {
		out = append(out, host.times[i].Sub(host.times[i-1]))
	}
	return out, float64(after.Mallocs-before.Mallocs) / float64(n+1), nil
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*p/100].Round(time.Microsecond)
}
