package main

// The figures that need several processes on one database. The benchmark
// runs copies of itself as children (-child ROLE), each one host process
// with its own store handle, and talks to them in lines: the child prints
// what happens (READY, RUN, ASK, AFTER, RESOLVED, DONE), with the time it
// happened on the machine's clock, and obeys GO and RESOLVE on its stdin.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
)

// host is the children's benchflows.Noop: it prints the first step each
// activation takes in this process, the step after an answer, and the
// vows it hands out.
type host struct {
	rt    *runtime.Runtime
	out   *lineWriter
	delay time.Duration
	mu    sync.Mutex
	seen  map[string]bool
}

func actOf(ctx context.Context) string {
	act, _, _ := strings.Cut(flow.IdempotencyKey(ctx), "/")
	return act
}

func (h *host) Step(ctx context.Context, i int) (int, error) {
	now := time.Now().UnixNano()
	act := actOf(ctx)
	h.mu.Lock()
	first := !h.seen[act]
	h.seen[act] = true
	h.mu.Unlock()
	if first {
		h.out.printf("RUN %s %d", act, now)
	}
	if i == -1 {
		h.out.printf("AFTER %s %d", act, now)
	}
	if h.delay > 0 {
		time.Sleep(h.delay)
	}
	return i, nil
}

func (h *host) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	v, err := runtime.NewVow[int](ctx, h.rt)
	if err == nil {
		h.out.printf("ASK %s %s", actOf(ctx), v.ID())
	}
	return v, err
}

type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// child is the body of a child process.
func child(role string, args []string) error {
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	db := fs.String("db", "", "database")
	flows := fs.Int("flows", 0, "flows to start")
	calls := fs.Int("calls", 10, "steps per flow")
	lease := fs.Duration("lease", 0, "lease (0: the store's default)")
	delay := fs.Duration("delay", 0, "each host step takes this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := pgstore.Open(ctx, *db, pgstore.Options{Lease: *lease})
	if err != nil {
		return err
	}
	defer st.Close(ctx)
	rt, err := runtime.Open(ctx, "", runtime.Options{Store: st})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	out := &lineWriter{w: os.Stdout}
	h := &host{rt: rt, out: out, delay: *delay, seen: map[string]bool{}}
	benchflows.ProvideNoop(rt, "noop", h)
	steps := benchflows.RegisterSteps(rt)
	long := benchflows.RegisterLong(rt)
	benchflows.RegisterSleeper(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	startAll := func(start func() (flow.Vow[int], error)) ([]flow.Vow[int], error) {
		vows := make([]flow.Vow[int], *flows)
		errs := make([]error, *flows)
		var wg sync.WaitGroup
		for i := range *flows {
			wg.Go(func() { vows[i], errs[i] = start() })
		}
		wg.Wait()
		return vows, errors.Join(errs...)
	}
	switch role {
	case "runner": // long flows that keep stepping
		if _, err := startAll(func() (flow.Vow[int], error) { return steps.Start(ctx, benchflows.NoopRef("noop"), 1<<30) }); err != nil {
			return err
		}
	case "owner": // flows parked on a vow each
		if _, err := startAll(func() (flow.Vow[int], error) { return long.Start(ctx, benchflows.NoopRef("noop"), 1) }); err != nil {
			return err
		}
	}
	out.printf("READY")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "GO": // run flows of steps, and say when they are all done
			vows, err := startAll(func() (flow.Vow[int], error) { return steps.Start(ctx, benchflows.NoopRef("noop"), *calls) })
			if err != nil {
				return err
			}
			for _, v := range vows {
				if _, err := runtime.Wait(ctx, rt, v); err != nil {
					return err
				}
			}
			out.printf("DONE %d", time.Now().UnixNano())
		case "RESOLVE":
			id, err := parseVow(arg)
			if err != nil {
				return err
			}
			now := time.Now().UnixNano()
			if err := runtime.Resolve(ctx, rt, flow.VowOf[int](id), 1); err != nil {
				return err
			}
			out.printf("RESOLVED %s %d", arg, now)
		}
	}
	return in.Err()
}

func parseVow(s string) (flow.VowID, error) {
	var id flow.VowID
	b := []byte(s)
	if len(b) != 32 {
		return id, fmt.Errorf("vow %q", s)
	}
	for i := range id {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return id, err
		}
		id[i] = byte(v)
	}
	return id, nil
}

// kid is a child process as the parent sees it.
type kid struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	lines   chan []string
	pending [][]string // lines read but not yet expected
}

func spawn(role, db string, args ...string) (*kid, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"-child", role, "-db", db}, args...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	k := &kid{cmd: cmd, in: in, lines: make(chan []string, 1<<16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			k.lines <- strings.Fields(sc.Text())
		}
		close(k.lines)
	}()
	if _, err := k.expect("READY", 2*time.Minute); err != nil {
		k.kill()
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	return k, nil
}

// expect returns the first line not yet expected that begins with word,
// waiting for it if need be.
func (k *kid) expect(word string, timeout time.Duration) ([]string, error) {
	for i, l := range k.pending {
		if l[0] == word {
			k.pending = slices.Delete(k.pending, i, i+1)
			return l, nil
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-k.lines:
			if !ok {
				return nil, fmt.Errorf("child exited waiting for %s", word)
			}
			if len(l) == 0 {
				continue
			}
			if l[0] == word {
				return l, nil
			}
			k.pending = append(k.pending, l)
		case <-deadline:
			return nil, fmt.Errorf("no %s within %s", word, timeout)
		}
	}
}

func (k *kid) send(line string) error {
	_, err := io.WriteString(k.in, line+"\n")
	return err
}

// stop ends a child cleanly: its stdin closes and it closes its runtime.
func (k *kid) stop() {
	k.in.Close()
	done := make(chan struct{})
	go func() { k.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		k.kill()
	}
}

func (k *kid) kill() {
	_ = k.cmd.Process.Signal(syscall.SIGKILL)
	_ = k.cmd.Wait()
}

// throughput runs, in one process for each of counts at once, that many
// flows of calls steps, and returns the steps per second, all processes
// together.
func throughput(db string, counts []int, calls int) (float64, time.Duration, error) {
	var kids []*kid
	defer func() {
		for _, k := range kids {
			k.stop()
		}
	}()
	total := 0
	for _, flows := range counts {
		total += flows
		k, err := spawn("steps", db, "-flows", strconv.Itoa(flows), "-calls", strconv.Itoa(calls))
		if err != nil {
			return 0, 0, err
		}
		kids = append(kids, k)
	}
	t0 := time.Now()
	for _, k := range kids {
		if err := k.send("GO"); err != nil {
			return 0, 0, err
		}
	}
	var last int64
	for _, k := range kids {
		l, err := k.expect("DONE", 5*time.Minute)
		if err != nil {
			return 0, 0, err
		}
		ns, _ := strconv.ParseInt(l[1], 10, 64)
		last = max(last, ns)
	}
	el := time.Unix(0, last).Sub(t0)
	return float64(total*calls) / el.Seconds(), el, nil
}

// takeover starts n stepping flows in process A, with process B beside it,
// kills A and returns, for each of A's activations, the time from the kill
// to its first step in B.
func takeover(db string, n int, lease time.Duration) ([]time.Duration, error) {
	la := []string{"-delay", "20ms"}
	if lease > 0 {
		la = append(la, "-lease", lease.String())
	}
	b, err := spawn("runner", db, la...)
	if err != nil {
		return nil, err
	}
	defer b.stop()
	a, err := spawn("runner", db, append(la, "-flows", strconv.Itoa(n))...)
	if err != nil {
		return nil, err
	}
	acts := map[string]bool{}
	for len(acts) < n {
		l, err := a.expect("RUN", time.Minute)
		if err != nil {
			a.kill()
			return nil, err
		}
		acts[l[1]] = true
	}
	time.Sleep(200 * time.Millisecond) // let them step
	t0 := time.Now()
	a.kill()
	var out []time.Duration
	for len(out) < n {
		l, err := b.expect("RUN", 2*time.Minute)
		if err != nil {
			return nil, err
		}
		if acts[l[1]] {
			ns, _ := strconv.ParseInt(l[2], 10, 64)
			out = append(out, time.Unix(0, ns).Sub(t0))
		}
	}
	return out, nil
}

// vowLatency parks n activations on vows in process B and settles them one
// at a time from settler (B itself, or another process A), and returns for
// each the time from the settling call to the activation's next step.
func vowLatency(db string, n int, elsewhere bool) ([]time.Duration, error) {
	b, err := spawn("owner", db, "-flows", strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	defer b.stop()
	vows := map[string]string{} // vow → activation
	for len(vows) < n {
		l, err := b.expect("ASK", time.Minute)
		if err != nil {
			return nil, err
		}
		vows[l[2]] = l[1]
	}
	settler := b
	if elsewhere {
		a, err := spawn("settler", db)
		if err != nil {
			return nil, err
		}
		defer a.stop()
		settler = a
	}
	time.Sleep(500 * time.Millisecond) // let the last ones park
	var out []time.Duration
	for vow, act := range vows {
		if err := settler.send("RESOLVE " + vow); err != nil {
			return nil, err
		}
		r, err := settler.expect("RESOLVED", time.Minute)
		if err != nil {
			return nil, err
		}
		var after []string
		for {
			if after, err = b.expect("AFTER", time.Minute); err != nil {
				return nil, err
			}
			if after[1] == act {
				break
			}
		}
		t0, _ := strconv.ParseInt(r[2], 10, 64)
		t1, _ := strconv.ParseInt(after[2], 10, 64)
		out = append(out, time.Duration(t1-t0))
	}
	slices.Sort(out)
	return out, nil
}
