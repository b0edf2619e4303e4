// Command steps measures the cost of durable steps, and of replay, on a real
// store on disk. A step is a no-op host call through a generated proxy, the
// membrane, the encoding and its log record.
//
//	go run ./bench/steps [-dir DIR]
//
// It prints, from one build in one run:
//
//   - one flow's durable step beside a bare fsync'd single-row SQLite commit
//     (medians; the flow's step is the time between consecutive host calls);
//   - 1,000 concurrent flows × 10 steps: aggregate steps/s with group commit
//     and with one transaction per step;
//   - replay of one activation with 10,000 log entries, through the proxies
//     with real decoding: entries/s.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// noop implements benchflows.Noop, noting when each Step arrives.
type noop struct {
	rt    *runtime.Runtime
	mu    sync.Mutex
	times []time.Time
	asked chan flow.VowID
	last  chan time.Time
}

func (n *noop) Step(ctx context.Context, i int) (int, error) {
	if n.times != nil {
		n.mu.Lock()
		n.times = append(n.times, time.Now())
		n.mu.Unlock()
	}
	if i == -1 && n.last != nil {
		n.last <- time.Now()
	}
	return i, nil
}

func (n *noop) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	v, err := runtime.NewVow[int](ctx, n.rt)
	if err == nil && n.asked != nil {
		n.asked <- v.ID()
	}
	return v, err
}

func main() {
	dir := flag.String("dir", "", "directory for the stores (default: a new one under the current directory)")
	single := flag.Int("single", 1000, "steps of the single flow (and baseline commits)")
	flows := flag.Int("flows", 1000, "concurrent flows")
	calls := flag.Int("calls", 10, "steps per concurrent flow")
	replay := flag.Int("replay", 10_000, "log entries of the replayed activation")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := run(*dir, *single, *flows, *calls, *replay); err != nil {
		fmt.Fprintln(os.Stderr, "steps:", err)
		os.Exit(1)
	}
}

func run(dir string, single, flows, calls, replayN int) error {
	if dir == "" {
		d, err := os.MkdirTemp(".", "bench-steps-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	abs, _ := filepath.Abs(dir)
	fmt.Printf("store directory: %s (%s)\n", abs, fsType(dir))
	fmt.Printf("go: %s, GOMAXPROCS %d\n\n", goVersion(), gomaxprocs())
	ctx := context.Background()

	// 1. One flow's step beside a bare commit, in alternating blocks so both
	// see the same disk.
	var bare, step []time.Duration
	for block := range 4 {
		b, err := bareCommits(ctx, filepath.Join(dir, fmt.Sprintf("bare-%d.db", block)), single/4)
		if err != nil {
			return err
		}
		bare = append(bare, b...)
		s, err := singleFlow(ctx, filepath.Join(dir, fmt.Sprintf("single-%d.db", block)), single/4)
		if err != nil {
			return err
		}
		step = append(step, s...)
	}
	mb, ms := median(bare), median(step)
	fmt.Println("one flow, durable steps one after another (synchronous=FULL)")
	fmt.Printf("  bare single-row SQLite commit: median %8s   p90 %8s   (%d commits)\n", mb.Round(time.Microsecond), pct(bare, 90).Round(time.Microsecond), len(bare))
	fmt.Printf("  flow step:                     median %8s   p90 %8s   (%d steps)\n", ms.Round(time.Microsecond), pct(step, 90).Round(time.Microsecond), len(step))
	fmt.Printf("  ratio step / commit:           %.2f (bar: ≤ 1.5)\n\n", float64(ms)/float64(mb))

	// 2. Many flows at once.
	fmt.Printf("%d concurrent flows × %d steps (synchronous=FULL)\n", flows, calls)
	for _, noGroup := range []bool{false, true} {
		el, err := concurrent(ctx, filepath.Join(dir, fmt.Sprintf("concurrent-%v.db", noGroup)), flows, calls, noGroup)
		if err != nil {
			return err
		}
		name := "group commit:             "
		if noGroup {
			name = "one transaction per step: "
		}
		steps := flows * calls
		fmt.Printf("  %s %8.0f steps/s   (%d steps and %d starts+finishes in %s)\n", name, float64(steps)/el.Seconds(), steps, flows, el.Round(time.Millisecond))
	}
	fmt.Println("  bar: ≥ 20,000 steps/s with group commit")
	fmt.Println()

	// 3. Replay.
	rates, err := replayRate(ctx, filepath.Join(dir, "replay.db"), replayN, 3)
	if err != nil {
		return err
	}
	fmt.Printf("replay of one activation with %d log entries, through generated proxies\n", replayN+1)
	for i, r := range rates {
		fmt.Printf("  run %d: %8.0f entries/s\n", i+1, r)
	}
	slices.Sort(rates)
	fmt.Printf("  median: %8.0f entries/s (bar: ≥ 300,000)\n", rates[len(rates)/2])
	return nil
}

// bareCommits times n transactions each inserting one row, fsync'd, with the
// same driver and settings as the store.
func bareCommits(ctx context.Context, path string, n int) ([]time.Duration, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		return nil, err
	}
	ins, err := conn.PrepareContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`)
	if err != nil {
		return nil, err
	}
	defer ins.Close()
	payload := make([]byte, 48)
	out := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return nil, err
		}
		if _, err := ins.ExecContext(ctx, i, payload); err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

func open(ctx context.Context, path string, opts runtime.Options) (*runtime.Runtime, *noop, benchflows.StepsHandle, benchflows.LongHandle, error) {
	rt, err := runtime.Open(ctx, path, opts)
	if err != nil {
		return nil, nil, benchflows.StepsHandle{}, benchflows.LongHandle{}, err
	}
	n := &noop{rt: rt}
	benchflows.ProvideNoop(rt, "noop", n)
	steps := benchflows.RegisterSteps(rt)
	long := benchflows.RegisterLong(rt)
	benchflows.RegisterSleeper(rt)
	return rt, n, steps, long, rt.Start(ctx)
}

// singleFlow runs one flow of n steps and returns the time between
// consecutive host calls: each a whole durable step.
func singleFlow(ctx context.Context, path string, n int) ([]time.Duration, error) {
	rt, host, steps, _, err := open(ctx, path, runtime.Options{})
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	host.times = make([]time.Time, 0, n+1)
	v, err := steps.Start(ctx, benchflows.NoopRef("noop"), n+1)
	if err != nil {
		return nil, err
	}
	if _, err := runtime.Wait(ctx, rt, v); err != nil {
		return nil, err
	}
	host.mu.Lock()
	defer host.mu.Unlock()
	out := make([]time.Duration, 0, n)
	for i := 1; i < len(host.times); i++ {
		out = append(out, host.times[i].Sub(host.times[i-1]))
	}
	return out, nil
}

func concurrent(ctx context.Context, path string, flows, calls int, noGroup bool) (time.Duration, error) {
	rt, _, steps, _, err := open(ctx, path, runtime.Options{NoGroupCommit: noGroup})
	if err != nil {
		return 0, err
	}
	defer rt.Close(ctx)
	vows := make([]flow.Vow[int], flows)
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, flows)
	for i := range flows {
		wg.Go(func() {
			v, err := steps.Start(ctx, benchflows.NoopRef("noop"), calls)
			if err != nil {
				errs <- err
				return
			}
			vows[i] = v
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	for _, v := range vows {
		if _, err := runtime.Wait(ctx, rt, v); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// replayRate builds activations with n logged calls each, suspended on a
// vow, then, in a new runtime, settles the vows one at a time and times each
// replay up to the first live call.
func replayRate(ctx context.Context, path string, n, runs int) ([]float64, error) {
	rt, host, _, long, err := open(ctx, path, runtime.Options{Sync: sqlitestore.SyncNormal})
	if err != nil {
		return nil, err
	}
	host.asked = make(chan flow.VowID, runs)
	var vows []flow.VowID
	for range runs {
		if _, err := long.Start(ctx, benchflows.NoopRef("noop"), n); err != nil {
			return nil, err
		}
		vows = append(vows, <-host.asked)
	}
	time.Sleep(100 * time.Millisecond) // let the last suspension commit
	if err := rt.Close(ctx); err != nil {
		return nil, err
	}

	rt, host, _, _, err = open(ctx, path, runtime.Options{})
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	host.last = make(chan time.Time, 1)
	var rates []float64
	for _, id := range vows {
		t0 := time.Now()
		if err := runtime.Resolve(ctx, rt, flow.VowOf[int](id), 1); err != nil {
			return nil, err
		}
		t1 := <-host.last
		rates = append(rates, float64(n+1)/t1.Sub(t0).Seconds())
	}
	return rates, nil
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown file system"
	}
	if st.Type == 0x01021994 {
		return "tmpfs: figures will not reflect a disk"
	}
	return fmt.Sprintf("file system type 0x%x, disk-backed", st.Type)
}
