// Command steps measures the cost of durable starts and steps, of replay,
// and of parked activations, on a real store on disk. A step is a no-op host
// call through a generated proxy, the membrane, the encoding and its log
// record.
//
//	go run ./bench/steps [-dir DIR]
//
// It prints, from one build in one run:
//
//   - a bare fsync'd single-row SQLite commit beside one flow's durable step
//     (the time between consecutive host calls), and beside a start issued
//     alone (the flow before it has finished), each start right after a bare
//     commit of its own: medians and ratios;
//   - 200 flows × 10 steps started one at a time by one goroutine, as a
//     request handler would: steps/s, and each start's median; with -peer,
//     beside another system's run of the same workload (see runPeer);
//   - 1,000 concurrent flows × 10 steps: aggregate steps/s with group commit
//     and with one transaction per step;
//   - replay of one activation with 10,001 log entries, through the proxies
//     with real decoding, beside SQLite's sequential read of the same rows:
//     entries/s, the ratio, allocations per entry;
//   - the resident set per parked activation, with 10,000 and 100,000 of
//     them resident, each measured in a fresh process.
//
// Every figure but the last is at synchronous=FULL, the store's default.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// noop implements benchflows.Noop, noting when each Step arrives.
type noop struct {
	rt     *runtime.Runtime
	mu     sync.Mutex
	times  []time.Time
	asked  chan flow.VowID
	last   chan time.Time
	onStep func()
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
	if n.onStep != nil {
		n.onStep()
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

// config is what one run measures.
type config struct {
	single     int    // steps of the single flow, and bare commits
	lone       int    // starts issued alone
	handler    int    // flows started one at a time
	concurrent int    // concurrent flows
	calls      int    // steps per flow of the last two
	replay     int    // log entries of the replayed activation
	resident   []int  // parked activations to measure memory with
	peer       string // a program that runs the one-at-a-time workload on another system
}

func main() {
	dir := flag.String("dir", "", "directory for the stores (default: a new one under the current directory)")
	var c config
	flag.IntVar(&c.single, "single", 1000, "steps of the single flow (and baseline commits)")
	flag.IntVar(&c.lone, "lone", 200, "starts issued alone")
	flag.IntVar(&c.handler, "handler", 200, "flows started one at a time by one goroutine")
	flag.IntVar(&c.concurrent, "flows", 1000, "concurrent flows")
	flag.IntVar(&c.calls, "calls", 10, "steps per flow, started one at a time or concurrently")
	flag.IntVar(&c.replay, "replay", 10_000, "log entries of the replayed activation")
	residentSizes := flag.String("resident", "10000,100000", "numbers of parked resident activations to measure memory with (empty: none)")
	flag.StringVar(&c.peer, "peer", "", "a program run beside each one-at-a-time run with -flows N -calls M -dir DIR, printing its steps/s first on its output (another system on the same workload)")
	child := flag.Int("resident-child", 0, "measure this many parked activations in the store at -dir (internal)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if *child > 0 {
		if err := residentChild(*dir, *child); err != nil {
			fmt.Fprintln(os.Stderr, "steps:", err)
			os.Exit(1)
		}
		return
	}
	for _, f := range strings.FieldsFunc(*residentSizes, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "steps: -resident: %q is not a positive number\n", f)
			os.Exit(2)
		}
		c.resident = append(c.resident, n)
	}
	if err := run(*dir, c); err != nil {
		fmt.Fprintln(os.Stderr, "steps:", err)
		os.Exit(1)
	}
}

func run(dir string, c config) error {
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

	// 1. A bare commit beside one flow's step and a lone start, in
	// alternating blocks so all see the same disk.
	var bare, step, lone, loneBare []time.Duration
	for block := range 4 {
		b, err := bareCommits(ctx, filepath.Join(dir, fmt.Sprintf("bare-%d.db", block)), c.single/4)
		if err != nil {
			return err
		}
		bare = append(bare, b...)
		s, err := singleFlow(ctx, filepath.Join(dir, fmt.Sprintf("single-%d.db", block)), c.single/4)
		if err != nil {
			return err
		}
		step = append(step, s...)
		b2, err := openBare(ctx, filepath.Join(dir, fmt.Sprintf("lone-bare-%d.db", block)))
		if err != nil {
			return err
		}
		l, lb, err := loneStarts(ctx, filepath.Join(dir, fmt.Sprintf("lone-%d.db", block)), b2, max(1, c.lone/4))
		b2.close()
		if err != nil {
			return err
		}
		lone, loneBare = append(lone, l...), append(loneBare, lb...)
	}
	mb, ms, ml := median(bare), median(step), median(lone)
	fmt.Println("one at a time, each durable before the next (synchronous=FULL)")
	fmt.Printf("  bare single-row SQLite commit: median %8s   p90 %8s   (%d commits)\n", mb.Round(time.Microsecond), pct(bare, 90).Round(time.Microsecond), len(bare))
	fmt.Printf("  flow step:                     median %8s   p90 %8s   (%d steps)\n", ms.Round(time.Microsecond), pct(step, 90).Round(time.Microsecond), len(step))
	fmt.Printf("  start issued alone:            median %8s   p90 %8s   (%d starts)\n", ml.Round(time.Microsecond), pct(lone, 90).Round(time.Microsecond), len(lone))
	fmt.Printf("  bare commit, each just before: median %8s   p90 %8s   (%d commits)\n", median(loneBare).Round(time.Microsecond), pct(loneBare, 90).Round(time.Microsecond), len(loneBare))
	fmt.Printf("  ratio step / commit:           %.2f (bar: ≤ 1.5)\n", float64(ms)/float64(mb))
	fmt.Printf("  ratio lone start / commit:     %.2f (bar: ≤ 1.2; against the commits just before each start)\n\n", float64(ml)/float64(median(loneBare)))

	// 2. Starts one at a time, as a request handler issues them.
	fmt.Printf("%d flows × %d steps, started one at a time by one goroutine (synchronous=FULL)\n", c.handler, c.calls)
	var rates []float64
	var starts []time.Duration
	var peerRates []float64
	for i := range 3 {
		el, st, err := oneAtATime(ctx, filepath.Join(dir, fmt.Sprintf("handler-%d.db", i)), c.handler, c.calls)
		if err != nil {
			return err
		}
		r := float64(c.handler*c.calls) / el.Seconds()
		rates = append(rates, r)
		starts = append(starts, st...)
		fmt.Printf("  run %d: %8.0f steps/s   (in %s; start median %s)\n", i+1, r, el.Round(time.Millisecond), median(st).Round(time.Microsecond))
		if c.peer != "" {
			pr, line, err := runPeer(c.peer, dir, c.handler, c.calls)
			if err != nil {
				return err
			}
			peerRates = append(peerRates, pr)
			fmt.Printf("  peer run %d: %s\n", i+1, line)
		}
	}
	fmt.Printf("  median: %8.0f steps/s; start median %s, %.2f × the bare commit\n", medianF(rates), median(starts).Round(time.Microsecond), float64(median(starts))/float64(mb))
	if len(peerRates) > 0 {
		fmt.Printf("  peer median: %8.0f steps/s; asyncflow / peer %.1f×\n", medianF(peerRates), medianF(rates)/medianF(peerRates))
	}
	fmt.Println()

	// 3. Many flows at once.
	fmt.Printf("%d concurrent flows × %d steps (synchronous=FULL)\n", c.concurrent, c.calls)
	for _, noGroup := range []bool{false, true} {
		el, err := concurrent(ctx, filepath.Join(dir, fmt.Sprintf("concurrent-%v.db", noGroup)), c.concurrent, c.calls, noGroup)
		if err != nil {
			return err
		}
		name := "group commit:             "
		if noGroup {
			name = "one transaction per step: "
		}
		steps := c.concurrent * c.calls
		fmt.Printf("  %s %8.0f steps/s   (%d steps and %d starts+finishes in %s)\n", name, float64(steps)/el.Seconds(), steps, c.concurrent, el.Round(time.Millisecond))
	}
	fmt.Println("  bar: ≥ 20,000 steps/s with group commit")
	fmt.Println()

	// 4. Replay beside the raw read.
	runs, err := replayRates(ctx, filepath.Join(dir, "replay.db"), c.replay, 5)
	if err != nil {
		return err
	}
	fmt.Printf("replay of one activation with %d log entries, through generated proxies, beside SQLite reading its rows\n", c.replay+1)
	var replays, reads, ratios, cpuRatios []float64
	for i, r := range runs {
		fmt.Printf("  run %d: replay %8.0f entries/s (%.1f allocs/entry)   raw read %8.0f rows/s (%.1f allocs/row)   ratio %.2f   by CPU time %.2f\n",
			i+1, r.replay, r.replayAllocs, r.read, r.readAllocs, r.replay/r.read, r.replayCPU/r.readCPU)
		replays, reads = append(replays, r.replay), append(reads, r.read)
		ratios, cpuRatios = append(ratios, r.replay/r.read), append(cpuRatios, r.replayCPU/r.readCPU)
	}
	fmt.Printf("  median: replay %8.0f entries/s   raw read %8.0f rows/s   ratio %.2f (bar: ≥ 0.80)   by CPU time %.2f\n\n", medianF(replays), medianF(reads), medianF(ratios), medianF(cpuRatios))

	// 5. Memory per parked activation.
	if len(c.resident) > 0 {
		fmt.Println("parked activations kept resident (each count in a fresh process)")
		for _, n := range c.resident {
			r, err := resident(dir, n)
			if err != nil {
				return err
			}
			rss, stack, heap := r.perActivation()
			fmt.Printf("  %7d resident: RSS %6.0f B/activation   (goroutine stack %5.0f B, Go heap %5.0f B)\n", n, rss, stack, heap)
		}
	}
	return nil
}

// runPeer runs the program peer (a command line) on the one-at-a-time
// workload, as "peer -flows N -calls M -dir DIR", and returns the steps/s it
// prints first, with its output.
func runPeer(peer, dir string, flows, calls int) (float64, string, error) {
	args := strings.Fields(peer)
	args = append(args, "-flows", strconv.Itoa(flows), "-calls", strconv.Itoa(calls), "-dir", dir)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, "", fmt.Errorf("peer %s: %w", peer, err)
	}
	line := strings.TrimSpace(string(out))
	var rate float64
	if _, err := fmt.Sscan(line, &rate); err != nil || rate <= 0 {
		return 0, "", fmt.Errorf("peer %s printed %q, not steps/s first", peer, line)
	}
	return rate, line, nil
}

func medianF(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// bareCommits times n transactions each inserting one row, fsync'd, with the
// same driver and settings as the store.
func bareCommits(ctx context.Context, path string, n int) ([]time.Duration, error) {
	b, err := openBare(ctx, path)
	if err != nil {
		return nil, err
	}
	defer b.close()
	out := make([]time.Duration, 0, n)
	for range n {
		d, err := b.commit(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// bare is a SQLite database with one table, for bare single-row commits.
type bare struct {
	db   *sql.DB
	conn *sql.Conn
	ins  *sql.Stmt
	n    int
}

func openBare(ctx context.Context, path string) (*bare, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	b := &bare{db: db}
	if b.conn, err = db.Conn(ctx); err != nil {
		b.close()
		return nil, err
	}
	if _, err := b.conn.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		b.close()
		return nil, err
	}
	if b.ins, err = b.conn.PrepareContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// commit times one transaction inserting one row.
func (b *bare) commit(ctx context.Context) (time.Duration, error) {
	payload := make([]byte, 48)
	t0 := time.Now()
	if _, err := b.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, err
	}
	if _, err := b.ins.ExecContext(ctx, b.n, payload); err != nil {
		return 0, err
	}
	if _, err := b.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	b.n++
	return time.Since(t0), nil
}

func (b *bare) close() {
	if b.ins != nil {
		b.ins.Close()
	}
	if b.conn != nil {
		b.conn.Close()
	}
	b.db.Close()
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
