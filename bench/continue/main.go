// Command continue measures continue-as-new: a flow looping a million times,
// a no-op host call an iteration, that continues as new every 1,000
// iterations, on a real store on disk. At intervals the flow stops on a vow
// at the last iteration of a run; the program then reads the activation's
// log length, closes the runtime, opens a new one on the store (the next
// incarnation) and times the revival: from settling the vow to the flow's
// next host call, which reads the row and the log, replays the run and goes
// live. With continue-as-new the log, and so the revival, stay the same
// size however far the loop has gone; the baseline, the same loop without
// continue-as-new, shows what they grow to otherwise.
//
//	go run ./bench/continue [-iterations 1000000] [-every 1000] [-checks 10] [-baseline 100000] [-sync normal|full] [-dir DIR]
//
// Commits are synchronous=NORMAL by default (a million fsyncs would take
// most of an hour and measure the disk, not the log); -sync full makes them
// fsync'd.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

type config struct {
	iterations, every, checks, baseline int
	sync                                sqlitestore.Sync
}

func main() {
	var c config
	flag.IntVar(&c.iterations, "iterations", 1_000_000, "iterations of the loop")
	flag.IntVar(&c.every, "every", 1000, "continue as new every this many iterations")
	flag.IntVar(&c.checks, "checks", 10, "measurements over the loop")
	flag.IntVar(&c.baseline, "baseline", 100_000, "iterations of the baseline loop, without continue-as-new (0: none)")
	syncMode := flag.String("sync", "normal", "normal or full")
	dir := flag.String("dir", "", "directory for the stores (default: a temporary one, removed after)")
	flag.Parse()
	switch *syncMode {
	case "normal":
		c.sync = sqlitestore.SyncNormal
	case "full":
		c.sync = sqlitestore.SyncFull
	default:
		fmt.Fprintln(os.Stderr, "continue: -sync is normal or full")
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	d := *dir
	if d == "" {
		tmp, err := os.MkdirTemp("", "continue-bench-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "continue:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		d = tmp
	}
	if err := run(d, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "continue:", err)
		os.Exit(1)
	}
}

// point is one measurement.
type point struct {
	iteration int
	run       int
	log       int
	revival   time.Duration
	rate      float64 // iterations per second since the point before
}

func run(dir string, c config, out *os.File) error {
	if c.every <= 0 || c.iterations%c.every != 0 || c.checks <= 0 || (c.iterations/c.checks)%c.every != 0 {
		return fmt.Errorf("-iterations must be a multiple of -every, and the interval -iterations/-checks too")
	}
	fmt.Fprintf(out, "continue-as-new: %d iterations, a run every %d, synchronous=%s\n", c.iterations, c.every, syncName(c.sync))
	fmt.Fprintf(out, "%12s %8s %10s %14s %12s\n", "iteration", "run", "log", "revival", "iter/s")
	points, err := loop(filepath.Join(dir, "continue.db"), c.iterations, c.every, c.iterations/c.checks, c.sync, out)
	if err != nil {
		return err
	}
	var lo, hi time.Duration
	for i, p := range points {
		if i == 0 || p.revival < lo {
			lo = p.revival
		}
		hi = max(hi, p.revival)
	}
	fmt.Fprintf(out, "revival from %s to %s over the loop; the log at most %d entries\n\n", lo.Round(time.Microsecond), hi.Round(time.Microsecond), maxLog(points))
	if c.baseline <= 0 {
		return nil
	}
	fmt.Fprintf(out, "baseline, without continue-as-new: %d iterations\n", c.baseline)
	fmt.Fprintf(out, "%12s %8s %10s %14s %12s\n", "iteration", "run", "log", "revival", "iter/s")
	_, err = loop(filepath.Join(dir, "baseline.db"), c.baseline, 0, c.baseline/c.checks, c.sync, out)
	return err
}

func maxLog(points []point) int {
	m := 0
	for _, p := range points {
		m = max(m, p.log)
	}
	return m
}

func syncName(s sqlitestore.Sync) string {
	if s == sqlitestore.SyncNormal {
		return "NORMAL"
	}
	return "FULL"
}

// host is the no-op host, which tells the benchmark of each checkpoint and
// of the first step after one.
type host struct {
	rt    *runtime.Runtime
	mu    sync.Mutex
	asked chan flow.Vow[int]
	step  chan int // the iteration of the first step after a checkpoint
	armed bool
}

func (h *host) Step(ctx context.Context, i int) (int, error) {
	h.mu.Lock()
	armed := h.armed
	h.armed = false
	h.mu.Unlock()
	if armed {
		h.step <- i
	}
	return i, nil
}

func (h *host) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	v, err := runtime.NewVow[int](ctx, h.rt)
	if err == nil {
		h.asked <- v
	}
	return v, err
}

// incarnation opens a runtime on the store at path.
func incarnation(ctx context.Context, path string, s sqlitestore.Sync, h *host) (*runtime.Runtime, benchflows.LoopHandle, error) {
	rt, err := runtime.Open(ctx, path, runtime.Options{Sync: s})
	if err != nil {
		return nil, benchflows.LoopHandle{}, err
	}
	h.rt = rt
	benchflows.ProvideNoop(rt, "noop", h)
	loop := benchflows.RegisterLoop(rt)
	return rt, loop, rt.Start(ctx)
}

// loop runs the loop to the end, measuring at every check-th iteration.
func loop(path string, iterations, every, check int, s sqlitestore.Sync, out *os.File) ([]point, error) {
	ctx := context.Background()
	h := &host{asked: make(chan flow.Vow[int], 1), step: make(chan int, 1)}
	rt, lh, err := incarnation(ctx, path, s, h)
	if err != nil {
		return nil, err
	}
	outcome, err := lh.Start(ctx, benchflows.NoopRef("noop"), 0, iterations, every, check)
	if err != nil {
		return nil, err
	}
	var points []point
	last, lastAt := 0, time.Now()
	for {
		var v flow.Vow[int]
		select {
		case v = <-h.asked:
		case <-time.After(10 * time.Minute):
			return nil, fmt.Errorf("no checkpoint after iteration %d", last)
		}
		act, err := rt.Admin().Find(ctx, outcome.ID().String())
		if err != nil {
			return nil, err
		}
		for act.State != runtime.StateSuspended {
			time.Sleep(time.Millisecond)
			if act, err = rt.Admin().Get(ctx, act.ID); err != nil {
				return nil, err
			}
		}
		log, err := rt.Admin().Log(ctx, act.ID)
		if err != nil {
			return nil, err
		}
		p := point{run: act.Run, log: len(log)}
		if err := rt.Close(ctx); err != nil {
			return nil, err
		}

		// The next incarnation: the activation sleeps in the store until the
		// vow settles; then it is revived, replays its run and goes live.
		if rt, _, err = incarnation(ctx, path, s, h); err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.armed = true
		h.mu.Unlock()
		start := time.Now()
		if err := runtime.Resolve(ctx, rt, v, 1); err != nil {
			return nil, err
		}
		p.iteration = <-h.step
		p.revival = time.Since(start)
		p.rate = float64(p.iteration-last) / time.Since(lastAt).Seconds()
		last, lastAt = p.iteration, time.Now()
		points = append(points, p)
		fmt.Fprintf(out, "%12d %8d %10d %14s %12.0f\n", p.iteration, p.run, p.log, p.revival.Round(time.Microsecond), p.rate)
		if p.iteration+check > iterations {
			break
		}
	}
	got, err := runtime.Wait(ctx, rt, outcome)
	if err != nil {
		return nil, err
	}
	if got != iterations {
		return nil, fmt.Errorf("the loop ended at %d, not %d", got, iterations)
	}
	return points, rt.Close(ctx)
}
