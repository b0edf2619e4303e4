// Command revival measures what starting a runtime costs when the store holds
// many sleeping activations: for 10,000, 100,000 and 1,000,000 suspended
// activations it seeds a store, then starts a fresh process on it and reports
// the time Open and Start take, the process's peak RSS, the disk bytes per
// activation, and how long until the one activation whose timer is already
// due has been revived and finished.
//
//	go run ./bench/revival [-dir DIR] [-sizes 10000,100000,1000000]
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

type noop struct{ rt *runtime.Runtime }

func (n *noop) Step(ctx context.Context, i int) (int, error) { return i, nil }
func (n *noop) Ask(ctx context.Context, what string) (flow.Vow[int], error) {
	return runtime.NewVow[int](ctx, n.rt)
}

// childResult is what a measuring process reports.
type childResult struct {
	OpenMS  float64 `json:"open_ms"`
	StartMS float64 `json:"start_ms"`
	DueMS   float64 `json:"due_ms"` // from the start of Open until the due activation finished
	HeapMB  float64 `json:"heap_mb"`
}

func main() {
	child := flag.Bool("child", false, "measure one start (internal)")
	storePath := flag.String("store", "", "store (with -child)")
	due := flag.String("due", "", "id of the activation whose timer is due (with -child)")
	dir := flag.String("dir", "", "directory for the stores (default: a new one under the current directory)")
	sizes := flag.String("sizes", "10000,100000,1000000", "numbers of sleeping activations")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	var err error
	if *child {
		err = measure(*storePath, *due)
	} else {
		err = run(*dir, *sizes)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "revival:", err)
		os.Exit(1)
	}
}

func run(dir, sizes string) error {
	if dir == "" {
		d, err := os.MkdirTemp(".", "bench-revival-")
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
	fmt.Printf("%-10s %10s %10s %12s %10s %10s %14s\n", "sleeping", "open", "start", "open+start", "peak RSS", "disk/act", "due revived")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, fmt.Sprintf("revival-%d.db", n))
		dueID, err := seed(path, n)
		if err != nil {
			return fmt.Errorf("seed %d: %w", n, err)
		}
		size := fileSize(path) + fileSize(path+"-wal")
		cmd := exec.Command(self, "-child", "-store", path, "-due", dueID)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("child %d: %w", n, err)
		}
		var r childResult
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("child %d printed %q: %w", n, out, err)
		}
		rss := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB → MiB
		fmt.Printf("%-10d %8.1fms %8.1fms %10.1fms %8.1fMiB %8.0f B %12.1fms\n",
			n, r.OpenMS, r.StartMS, r.OpenMS+r.StartMS, rss, float64(size)/float64(n), r.DueMS)
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	}
	fmt.Println("bar: Start with 100,000 sleeping in under 1 s and under 100 MiB RSS, flat from 10,000 to 1,000,000")
	return nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// measure is the fresh process: open, start, and wait for the due activation.
func measure(path, dueHex string) error {
	ctx := context.Background()
	due, err := flow.ParseActivationID(dueHex)
	if err != nil {
		return err
	}
	t0 := time.Now()
	rt, err := runtime.Open(ctx, path, runtime.Options{})
	if err != nil {
		return err
	}
	benchflows.ProvideNoop(rt, "noop", &noop{rt: rt})
	benchflows.RegisterSteps(rt)
	benchflows.RegisterLong(rt)
	benchflows.RegisterSleeper(rt)
	t1 := time.Now()
	if err := rt.Start(ctx); err != nil {
		return err
	}
	t2 := time.Now()
	info, err := rt.Admin().Get(ctx, due)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := runtime.Wait(wctx, rt, flow.VowOf[int](info.Outcome)); err != nil {
		return fmt.Errorf("the due activation: %w", err)
	}
	t3 := time.Now()
	var ms goMem
	readMem(&ms)
	r := childResult{
		OpenMS:  float64(t1.Sub(t0).Microseconds()) / 1000,
		StartMS: float64(t2.Sub(t1).Microseconds()) / 1000,
		DueMS:   float64(t3.Sub(t0).Microseconds()) / 1000,
		HeapMB:  float64(ms.heap) / (1 << 20),
	}
	if err := rt.Close(ctx); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// seed makes a store holding n suspended activations: one real one, made by
// the runtime, and n-1 copies of its rows with fresh ids. The copy returned
// has its timer already due.
func seed(path string, n int) (string, error) {
	ctx := context.Background()
	os.Remove(path)
	rt, err := runtime.Open(ctx, path, runtime.Options{Sync: sqlitestore.SyncNormal})
	if err != nil {
		return "", err
	}
	benchflows.ProvideNoop(rt, "noop", &noop{rt: rt})
	sleeper := benchflows.RegisterSleeper(rt)
	if err := rt.Start(ctx); err != nil {
		return "", err
	}
	if _, err := sleeper.Start(ctx, benchflows.NoopRef("noop"), 24*time.Hour); err != nil {
		return "", err
	}
	for {
		l, err := rt.Admin().List(ctx, runtime.ListOptions{State: runtime.StateSuspended})
		if err != nil {
			return "", err
		}
		if len(l) == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := rt.Close(ctx); err != nil {
		return "", err
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return "", err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var act struct {
		id, args, outcome []byte
		flow              string
		gen               int64
	}
	if err := db.QueryRow(`SELECT id, flow, args, outcome, gen FROM activations`).Scan(&act.id, &act.flow, &act.args, &act.outcome, &act.gen); err != nil {
		return "", err
	}
	var timerVow []byte
	var deadline int64
	if err := db.QueryRow(`SELECT vow, deadline FROM timers`).Scan(&timerVow, &deadline); err != nil {
		return "", err
	}
	type entry struct {
		step, kind, gen int64
		payload         []byte
	}
	var entries []entry
	rows, err := db.Query(`SELECT step, kind, gen, payload FROM entries ORDER BY step`)
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.step, &e.kind, &e.gen, &e.payload); err != nil {
			return "", err
		}
		entries = append(entries, e)
	}
	rows.Close()

	var dueID string
	const batch = 50_000
	for done := 1; done < n; {
		tx, err := db.Begin()
		if err != nil {
			return "", err
		}
		insAct, _ := tx.Prepare(`INSERT INTO activations (id, flow, args, state, outcome, created_gen, gen) VALUES (?, ?, ?, 2, ?, ?, ?)`)
		insVow, _ := tx.Prepare(`INSERT INTO vows (id, state, gen) VALUES (?, 0, ?)`)
		insEntry, _ := tx.Prepare(`INSERT INTO entries (act, step, kind, gen, payload) VALUES (?, ?, ?, ?, ?)`)
		insWait, _ := tx.Prepare(`INSERT INTO waits (vow, act) VALUES (?, ?)`)
		insTimer, _ := tx.Prepare(`INSERT INTO timers (deadline, vow) VALUES (?, ?)`)
		for i := 0; i < batch && done < n; i++ {
			id, out, tv := flow.NewActivationID(), flow.NewVowID(), flow.NewVowID()
			dl := deadline
			if done == n/2 {
				dl = time.Now().Add(-time.Second).UnixNano() // this one is due
				dueID = hex.EncodeToString(id[:])
			}
			steps := []error{}
			_, e1 := insAct.Exec(id[:], act.flow, act.args, out[:], act.gen, act.gen)
			_, e2 := insVow.Exec(out[:], act.gen)
			_, e3 := insVow.Exec(tv[:], act.gen)
			_, e4 := insWait.Exec(tv[:], id[:])
			_, e5 := insTimer.Exec(dl, tv[:])
			steps = append(steps, e1, e2, e3, e4, e5)
			for _, e := range entries {
				_, err := insEntry.Exec(id[:], e.step, e.kind, e.gen, bytes.ReplaceAll(e.payload, timerVow, tv[:]))
				steps = append(steps, err)
			}
			for _, err := range steps {
				if err != nil {
					tx.Rollback()
					return "", err
				}
			}
			done++
		}
		if err := tx.Commit(); err != nil {
			return "", err
		}
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return "", err
	}
	if dueID == "" {
		return "", fmt.Errorf("need at least 2 activations")
	}
	return dueID, nil
}
