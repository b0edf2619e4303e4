// Command dbos measures DBOS Transact (Go) the way bench/postgres measures
// asyncflow: a workflow's steps one after another, and 1,000 concurrent
// workflows × 10 steps, each step a no-op recorded durably in PostgreSQL.
// It is a module of its own, so that asyncflow does not depend on DBOS: the
// go command fetches DBOS from the module proxy when it builds this.
//
//	cd bench/postgres/dbos && go run . -db postgres://…
//
// bench/postgres -dbos runs it on the same server as its own figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/dbos-inc/dbos-transact-golang/dbos"
)

var (
	mu    sync.Mutex
	times []time.Time
)

func noop(ctx context.Context) (int, error) {
	mu.Lock()
	if times != nil {
		times = append(times, time.Now())
	}
	mu.Unlock()
	return 1, nil
}

// steps makes n durable no-op steps one after another.
func steps(ctx dbos.Context, n int) (int, error) {
	sum := 0
	for range n {
		r, err := dbos.RunAsStep(ctx, noop)
		if err != nil {
			return 0, err
		}
		sum += r
	}
	return sum, nil
}

func main() {
	db := flag.String("db", "", "postgres:// URL of an empty database")
	single := flag.Int("single", 1000, "steps of the single workflow")
	flows := flag.Int("flows", 1000, "concurrent workflows")
	calls := flag.Int("calls", 10, "steps per concurrent workflow")
	flag.Parse()
	if err := run(*db, *single, *flows, *calls); err != nil {
		fmt.Fprintln(os.Stderr, "dbos:", err)
		os.Exit(1)
	}
}

func run(db string, single, flows, calls int) error {
	ctx, err := dbos.NewContext(context.Background(), dbos.Config{
		AppName:     "asyncflow-bench",
		DatabaseURL: db,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	dbos.RegisterWorkflow(ctx, steps)
	if err := dbos.Launch(ctx); err != nil {
		return err
	}
	defer dbos.Shutdown(ctx, 10*time.Second)

	mu.Lock()
	times = make([]time.Time, 0, single+1)
	mu.Unlock()
	h, err := dbos.RunWorkflow(ctx, steps, single+1)
	if err != nil {
		return err
	}
	if _, err := h.GetResult(); err != nil {
		return err
	}
	mu.Lock()
	var gaps []time.Duration
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	times = nil
	mu.Unlock()
	slices.Sort(gaps)
	fmt.Println("  one workflow, durable steps one after another")
	fmt.Printf("    step: median %8s   p90 %8s   (%d steps)\n", gaps[len(gaps)/2].Round(time.Microsecond), gaps[len(gaps)*9/10].Round(time.Microsecond), len(gaps))

	t0 := time.Now()
	handles := make([]dbos.WorkflowHandle[int], flows)
	errs := make([]error, flows)
	var wg sync.WaitGroup
	for i := range flows {
		wg.Go(func() { handles[i], errs[i] = dbos.RunWorkflow(ctx, steps, calls) })
	}
	wg.Wait()
	for i, h := range handles {
		if errs[i] != nil {
			return errs[i]
		}
		if _, err := h.GetResult(); err != nil {
			return err
		}
	}
	el := time.Since(t0)
	fmt.Printf("  %d concurrent workflows × %d steps, one process\n", flows, calls)
	fmt.Printf("    %8.0f steps/s   (%d steps and %d starts+finishes in %s)\n", float64(flows*calls)/el.Seconds(), flows*calls, flows, el.Round(time.Millisecond))
	return nil
}
