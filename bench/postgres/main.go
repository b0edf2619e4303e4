// Command postgres measures durable steps on the PostgreSQL store. A step is
// a no-op host call through a generated proxy, the membrane, the encoding
// and its log record.
//
//	go run ./bench/postgres [-postgres URL] [-dbos]
//
// Without -postgres (or ASYNCFLOW_TEST_POSTGRES) it starts a throwaway
// PostgreSQL cluster from the installed server binaries, as the tests do,
// and creates a fresh database for each figure. It prints, from one build
// in one run:
//
//   - one flow's durable step beside a bare single-row PostgreSQL commit on
//     the same server (medians; the flow's step is the time between
//     consecutive host calls);
//   - 1,000 concurrent flows × 10 steps in one process: aggregate steps/s
//     with group commit and with one transaction per step;
//   - the same in 2 and 3 processes on one database: 1,000 flows in all, and
//     1,000 in each;
//   - takeover: the time from a kill -9 of the process that runs 100 flows
//     to each one's first step in another process, with the default lease
//     and with a 2s one;
//   - a vow settled in another process than the one the activation sleeps
//     in: the time until it runs on (median, p99), beside the same in one
//     process;
//   - with -dbos, DBOS Transact (Go) on the same server, built from the
//     module proxy by the separate module in bench/postgres/dbos: its steps
//     one after another and 1,000 concurrent workflows × 10 steps.
//
// It runs copies of itself as the other processes (-child ROLE).
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

	"github.com/jackc/pgx/v5"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/pgtest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// noop implements benchflows.Noop, noting when each Step arrives.
type noop struct {
	mu    sync.Mutex
	times []time.Time
}

func (n *noop) Step(ctx context.Context, i int) (int, error) {
	if n.times != nil {
		n.mu.Lock()
		n.times = append(n.times, time.Now())
		n.mu.Unlock()
	}
	return i, nil
}

func (n *noop) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	return flow.Vow[int]{}, fmt.Errorf("not used")
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-child" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
		if err := child(os.Args[2], os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, "postgres child:", err)
			os.Exit(1)
		}
		return
	}
	server := flag.String("postgres", os.Getenv(pgtest.EnvURL), "URL of a PostgreSQL server where the benchmark may create databases (default: start a throwaway cluster)")
	single := flag.Int("single", 1000, "steps of the single flow (and bare commits)")
	flows := flag.Int("flows", 1000, "concurrent flows")
	calls := flag.Int("calls", 10, "steps per concurrent flow")
	multi := flag.Bool("multi", true, "measure several processes too: throughput, takeover, vows across processes")
	samples := flag.Int("samples", 200, "vows settled across processes, one at a time")
	dbos := flag.Bool("dbos", false, "measure DBOS Transact on the same server (builds bench/postgres/dbos from the module proxy)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if *server == "" {
		u, err := pgtest.Serve()
		if err != nil {
			fmt.Fprintln(os.Stderr, "postgres:", err)
			os.Exit(1)
		}
		*server = u
	}
	err := run(*server, *single, *flows, *calls)
	if err == nil && *multi {
		err = runMulti(*server, *flows, *calls, *samples, 100, 0, 2*time.Second)
	}
	if err == nil && *dbos {
		err = runDBOS(*server, *single, *flows, *calls)
	}
	pgtest.Stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

// bench is the server and the databases made on it.
type bench struct {
	server string
	drops  []func() error
}

func (b *bench) db() (string, error) {
	u, drop, err := pgtest.CreateDB(b.server)
	if err != nil {
		return "", err
	}
	b.drops = append(b.drops, drop)
	return u, nil
}

func run(server string, single, flows, calls int) error {
	b := &bench{server: server}
	defer func() {
		for _, d := range b.drops {
			_ = d()
		}
	}()
	ctx := context.Background()
	var version, sync string
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&version)
	_ = conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&sync)
	_ = conn.Close(ctx)
	fmt.Printf("PostgreSQL %s, synchronous_commit %s; %s, GOMAXPROCS %d\n\n", version, sync, goruntime.Version(), goruntime.GOMAXPROCS(0))

	// 1. One flow's step beside a bare commit, in alternating blocks so both
	// see the same server.
	var bare, step []time.Duration
	for range 4 {
		u, err := b.db()
		if err != nil {
			return err
		}
		d, err := bareCommits(ctx, u, single/4)
		if err != nil {
			return err
		}
		bare = append(bare, d...)
		if u, err = b.db(); err != nil {
			return err
		}
		if d, err = singleFlow(ctx, u, single/4); err != nil {
			return err
		}
		step = append(step, d...)
	}
	mb, ms := pct(bare, 50), pct(step, 50)
	fmt.Println("one flow, durable steps one after another")
	fmt.Printf("  bare single-row PostgreSQL commit: median %8s   p90 %8s   (%d commits)\n", mb.Round(time.Microsecond), pct(bare, 90).Round(time.Microsecond), len(bare))
	fmt.Printf("  flow step:                         median %8s   p90 %8s   (%d steps)\n", ms.Round(time.Microsecond), pct(step, 90).Round(time.Microsecond), len(step))
	fmt.Printf("  ratio step / commit:               %.2f (bar: ≤ 1.5)\n\n", float64(ms)/float64(mb))

	// 2. Many flows at once, one process: three runs with group commit, the
	// median printed, and one without.
	fmt.Printf("%d concurrent flows × %d steps, one process\n", flows, calls)
	steps := flows * calls
	var runs []time.Duration
	for range 3 {
		u, err := b.db()
		if err != nil {
			return err
		}
		el, err := concurrent(ctx, u, flows, calls, false)
		if err != nil {
			return err
		}
		runs = append(runs, el)
	}
	slices.Sort(runs)
	fmt.Printf("  group commit:              %8.0f steps/s   (median of 3 runs: %d steps and %d starts+finishes in %s; runs %8.0f %8.0f)\n",
		float64(steps)/runs[1].Seconds(), steps, flows, runs[1].Round(time.Millisecond), float64(steps)/runs[0].Seconds(), float64(steps)/runs[2].Seconds())
	u, err := b.db()
	if err != nil {
		return err
	}
	el, err := concurrent(ctx, u, flows, calls, true)
	if err != nil {
		return err
	}
	fmt.Printf("  one transaction per step:  %8.0f steps/s   (%d steps and %d starts+finishes in %s)\n", float64(steps)/el.Seconds(), steps, flows, el.Round(time.Millisecond))
	fmt.Println("  bar: ≥ 20,000 steps/s with group commit")
	return nil
}

// bareCommits times n autocommitted single-row inserts on one connection:
// what one durable write costs on this server.
func bareCommits(ctx context.Context, url string, n int) ([]time.Duration, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE t (k bigint PRIMARY KEY, v bytea NOT NULL)`); err != nil {
		return nil, err
	}
	payload := make([]byte, 48)
	out := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		if _, err := conn.Exec(ctx, `INSERT INTO t (k, v) VALUES ($1, $2)`, i, payload); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

func open(ctx context.Context, url string, opts runtime.Options) (*runtime.Runtime, *noop, benchflows.StepsHandle, error) {
	rt, err := runtime.Open(ctx, url, opts)
	if err != nil {
		return nil, nil, benchflows.StepsHandle{}, err
	}
	n := &noop{}
	benchflows.ProvideNoop(rt, "noop", n)
	steps := benchflows.RegisterSteps(rt)
	benchflows.RegisterLong(rt)
	benchflows.RegisterSleeper(rt)
	return rt, n, steps, rt.Start(ctx)
}

// singleFlow runs one flow of n steps and returns the time between
// consecutive host calls: each a whole durable step.
func singleFlow(ctx context.Context, url string, n int) ([]time.Duration, error) {
	rt, host, steps, err := open(ctx, url, runtime.Options{})
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

func concurrent(ctx context.Context, url string, flows, calls int, noGroup bool) (time.Duration, error) {
	rt, _, steps, err := open(ctx, url, runtime.Options{NoGroupCommit: noGroup})
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

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// runMulti prints the figures of several processes: throughput, takeover
// of takeovers flows with each lease (0: the store's default), and vows
// settled across processes.
func runMulti(server string, flows, calls, samples, takeovers int, leases ...time.Duration) error {
	b := &bench{server: server}
	defer func() {
		for _, d := range b.drops {
			_ = d()
		}
	}()
	fmt.Printf("\n%d concurrent flows × %d steps, several processes on one database\n", flows, calls)
	for _, procs := range []int{2, 3} {
		for _, each := range []bool{false, true} {
			u, err := b.db()
			if err != nil {
				return err
			}
			// Split flows between the processes, or flows in each.
			counts, what := make([]int, procs), fmt.Sprintf("%d in all", flows)
			total := 0
			for i := range counts {
				counts[i] = flows / procs
				if i < flows%procs {
					counts[i]++
				}
				if each {
					counts[i], what = flows, fmt.Sprintf("%d in each", flows)
				}
				total += counts[i]
			}
			rate, el, err := throughput(u, counts, calls)
			if err != nil {
				return err
			}
			fmt.Printf("  %d processes, %-12s %8.0f steps/s   (%d steps in %s)\n", procs, what+":", rate, total*calls, el.Round(time.Millisecond))
		}
	}

	fmt.Printf("\ntakeover: kill -9 of the process running %d flows, until each steps in the other process\n", takeovers)
	for _, lease := range leases {
		u, err := b.db()
		if err != nil {
			return err
		}
		d, err := takeover(u, takeovers, lease)
		if err != nil {
			return err
		}
		name := "default lease (10s, renewed every 2.5s, poll 1s):"
		if lease > 0 {
			name = fmt.Sprintf("lease %s:", lease)
		}
		fmt.Printf("  %-48s first %8s   median %8s   last %8s\n", name, pct(d, 0).Round(time.Millisecond), pct(d, 50).Round(time.Millisecond), pct(d, 100).Round(time.Millisecond))
	}

	fmt.Printf("\na vow settled while its activation sleeps: from the settling call to the activation's next step (%d, one at a time)\n", samples)
	for _, elsewhere := range []bool{true, false} {
		u, err := b.db()
		if err != nil {
			return err
		}
		d, err := vowLatency(u, samples, elsewhere)
		if err != nil {
			return err
		}
		name := "settled in process A, activation owned by B:"
		if !elsewhere {
			name = "settled in the process that owns it:"
		}
		fmt.Printf("  %-46s median %8s   p99 %8s\n", name, pct(d, 50).Round(10*time.Microsecond), pct(d, 99).Round(10*time.Microsecond))
	}
	return nil
}
