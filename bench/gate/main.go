// Command gate measures the replay gate: for each population size it seeds a
// store with that many unfinished activations of 20 log entries each — a
// third running, a third suspended, a third failed — then runs the gate
// against it in a fresh process and reports activations and entries
// replayed per second and the process's peak RSS.
//
//	go run ./bench/gate [-dir DIR] [-sizes 10000,100000] [-workers N]
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// steps is the host calls each seeded activation makes before it asks and
// waits: with the ask, 20 log entries.
const steps = 19

type noop struct{ rt *runtime.Runtime }

func (n *noop) Step(ctx context.Context, i int) (int, error) { return i, nil }
func (n *noop) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	return runtime.NewVow[int](ctx, n.rt)
}

// childResult is what a measuring process reports.
type childResult struct {
	Activations int     `json:"activations"`
	Entries     int64   `json:"entries"`
	Replays     int     `json:"replays"`
	Seconds     float64 `json:"seconds"`
}

func main() {
	child := flag.Bool("child", false, "run the gate once (internal)")
	storePath := flag.String("store", "", "store (with -child)")
	dir := flag.String("dir", "", "directory for the stores (default: a new one under the current directory)")
	sizes := flag.String("sizes", "10000,100000", "numbers of unfinished activations")
	workers := flag.Int("workers", 0, "activations replayed at once (default GOMAXPROCS)")
	cpuprofile := flag.String("cpuprofile", "", "write the CPU profile of the gate's process here (of the last size)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	var err error
	if *child {
		err = measure(*storePath, *workers, *cpuprofile)
	} else {
		err = run(*dir, *sizes, *workers, *cpuprofile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gate:", err)
		os.Exit(1)
	}
}

func run(dir, sizes string, workers int, cpuprofile string) error {
	if dir == "" {
		d, err := os.MkdirTemp(".", "bench-gate-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("%-12s %9s %10s %10s %14s %16s %10s\n", "activations", "entries", "gate", "gate CPU", "activations/s", "entries/s", "peak RSS")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, fmt.Sprintf("gate-%d.db", n))
		if err := seed(path, n); err != nil {
			return fmt.Errorf("seed %d: %w", n, err)
		}
		cmd := exec.Command(self, "-child", "-store", path, "-workers", strconv.Itoa(workers), "-cpuprofile", cpuprofile)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("child %d: %w", n, err)
		}
		var r childResult
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("child %d printed %q: %w", n, out, err)
		}
		if r.Activations != n || r.Replays != n || r.Entries != int64(n)*(steps+1) {
			return fmt.Errorf("the gate replayed %d of %d activations (%d entries)", r.Replays, n, r.Entries)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		rss := float64(ru.Maxrss) / 1024 // KiB → MiB
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fmt.Printf("%-12d %9d %9.2fs %9.2fs %14.0f %16.0f %8.1fMiB\n",
			n, r.Entries, r.Seconds, cpu.Seconds(), float64(r.Activations)/r.Seconds, float64(r.Entries)/r.Seconds, rss)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
	}
	fmt.Println("bar: 100,000 activations of 20 entries in under 10 s on 2 cores, peak RSS flat in the population")
	return nil
}

// measure is the fresh process: the gate on the store, read-only.
func measure(path string, workers int, cpuprofile string) error {
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	rep, err := verify.ReplayFile(context.Background(), path, func(r runtime.Registry) {
		benchflows.ProvideNoop(r, "noop", nil)
		benchflows.RegisterLong(r)
	}, verify.Options{Workers: workers})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if !rep.OK() {
		return fmt.Errorf("the gate failed:\n%s", rep)
	}
	return json.NewEncoder(os.Stdout).Encode(childResult{Activations: rep.Activations, Entries: rep.Entries, Replays: rep.Replays, Seconds: secs})
}

// seed makes a store holding n unfinished activations of benchflows.Long
// with 20 log entries each: one real one, made by the runtime, and n-1
// copies of its rows with fresh ids, in turn running, suspended and failed.
func seed(path string, n int) error {
	ctx := context.Background()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	rt, err := runtime.Open(ctx, path, runtime.Options{Sync: sqlitestore.SyncNormal})
	if err != nil {
		return err
	}
	benchflows.ProvideNoop(rt, "noop", &noop{rt: rt})
	long := benchflows.RegisterLong(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	if _, err := long.Start(ctx, benchflows.NoopRef("noop"), steps); err != nil {
		return err
	}
	for {
		c, err := rt.Admin().Count(ctx, runtime.ListOptions{State: runtime.StateSuspended})
		if err != nil {
			return err
		}
		if c == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := rt.Close(ctx); err != nil {
		return err
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var act struct {
		flow string
		args []byte
		gen  int64
		ns   int64
	}
	if err := db.QueryRow(`SELECT flow, args, gen, created_ns FROM activations`).Scan(&act.flow, &act.args, &act.gen, &act.ns); err != nil {
		return err
	}
	type entry struct {
		step, kind, gen, at int64
		payload             []byte
	}
	var entries []entry
	rows, err := db.Query(`SELECT step, kind, gen, at_ns, payload FROM entries ORDER BY step`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.step, &e.kind, &e.gen, &e.at, &e.payload); err != nil {
			rows.Close()
			return err
		}
		entries = append(entries, e)
	}
	rows.Close()
	if len(entries) != steps+1 {
		return fmt.Errorf("the seed activation has %d entries, want %d", len(entries), steps+1)
	}
	failure := []byte(`{"problem":"other-call","flow":"bench.Long","step":0}`)
	const batch = 20_000
	for done := 1; done < n; {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		insAct, _ := tx.Prepare(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen, failure, created_ns, state_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		insVow, _ := tx.Prepare(`INSERT INTO vows (id, state, gen, kind) VALUES (?, 0, ?, 1)`) // an outcome
		insEntry, _ := tx.Prepare(`INSERT INTO entries (act, step, kind, gen, at_ns, payload) VALUES (?, ?, ?, ?, ?, ?)`)
		for i := 0; i < batch && done < n; i++ {
			id, out := flow.NewActivationID(), flow.NewVowID()
			state := []int{1, 2, 3}[done%3]
			var fail any
			if state == 3 {
				fail = failure
			}
			if _, err := insAct.Exec(id[:], act.flow, act.args, state, out[:], act.gen, act.gen, fail, act.ns+int64(done), act.ns); err != nil {
				tx.Rollback()
				return err
			}
			if _, err := insVow.Exec(out[:], act.gen); err != nil {
				tx.Rollback()
				return err
			}
			for _, e := range entries {
				if _, err := insEntry.Exec(id[:], e.step, e.kind, e.gen, e.at, e.payload); err != nil {
					tx.Rollback()
					return err
				}
			}
			done++
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
