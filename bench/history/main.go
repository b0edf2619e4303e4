// Command history measures what an operator waits for on a big store: it
// builds a store of 1,000,000 finished and 10,000 unfinished activations,
// then times the asyncflow command, run as a process on it, for the queries
// an on-call engineer types first.
//
//	go run ./bench/history [-done 1000000] [-unfinished 10000] [-dir DIR] [-runs 7] [-reuse]
//
// With -reuse and -dir, a store built there before (with the same sizes) is
// measured again without building it anew.
// Figures are medians of -runs runs of the built command, each a new process
// that opens the store read-only: list -state failed (the first page),
// show KEY for a done and for a failed activation, the newest page of all,
// and the same queries in this process, through runtime.OpenAdmin, without
// the process start. The store is built through the store's own ops, in
// large submissions; building it takes minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

func main() {
	done := flag.Int("done", 1_000_000, "finished activations")
	unfinished := flag.Int("unfinished", 10_000, "unfinished activations: a third each running, suspended, failed")
	dir := flag.String("dir", "", "directory for the store (default: a new one under the current directory, removed after)")
	runs := flag.Int("runs", 7, "runs of each query")
	reuse := flag.Bool("reuse", false, "measure the store -dir holds already")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if *reuse && *dir == "" {
		fmt.Fprintln(os.Stderr, "history: -reuse needs -dir")
		os.Exit(2)
	}
	if err := run(*dir, *done, *unfinished, *runs, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "history:", err)
		os.Exit(1)
	}
}

func run(dir string, done, unfinished, runs int, reuse bool) error {
	if dir == "" {
		d, err := os.MkdirTemp(".", "bench-history-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	path := filepath.Join(dir, "app.db")
	begun := time.Now()
	keys := keysOf(done, unfinished)
	built := "measured again"
	if _, err := os.Stat(path); !reuse || err != nil {
		if err := build(path, done, unfinished); err != nil {
			return err
		}
		built = "built in " + time.Since(begun).Round(time.Second).String()
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("store: %d finished and %d unfinished activations, %.0f MB, %s\n\n",
		done, unfinished, float64(st.Size())/1e6, built)

	bin := filepath.Join(dir, "asyncflow")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/asyncflow-go/asyncflow/cmd/asyncflow").CombinedOutput(); err != nil {
		return fmt.Errorf("building asyncflow: %v\n%s", err, out)
	}
	queries := []struct {
		name string
		args []string
	}{
		{"list -state failed", []string{"list", "-state", "failed"}},
		{"show KEY (done)", []string{"show", keys.done}},
		{"show KEY (failed)", []string{"show", keys.failed}},
		{"list (newest page)", []string{"list"}},
		{"list -state done", []string{"list", "-state", "done"}},
		{"failures (every failed one)", []string{"failures"}},
	}
	fmt.Println("the asyncflow command, a new process each run (median of", runs, "runs, then the slowest):")
	for _, q := range queries {
		var times []time.Duration
		for range runs {
			cmd := exec.Command(bin, append([]string{"-store", path}, q.args...)...)
			t0 := time.Now()
			out, err := cmd.Output()
			times = append(times, time.Since(t0))
			if err != nil || len(out) == 0 {
				return fmt.Errorf("asyncflow %v: %v", q.args, err)
			}
		}
		slices.Sort(times)
		fmt.Printf("  asyncflow -store app.db %-28s median %8s   slowest %8s\n", q.name, times[len(times)/2].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond))
	}

	fmt.Println("\nthe same in this process, on a store opened once (runtime.OpenAdmin):")
	ctx := context.Background()
	ad, err := runtime.OpenAdmin(ctx, path, runtime.AdminOptions{})
	if err != nil {
		return err
	}
	defer ad.Close(ctx)
	inproc := []struct {
		name string
		fn   func() error
	}{
		{"List(State: failed, Limit: 50)", func() error {
			_, err := ad.List(ctx, runtime.ListOptions{State: runtime.StateFailed, Limit: 50})
			return err
		}},
		{"Find(key of a done one)", func() error { _, err := ad.Find(ctx, keys.done); return err }},
		{"Find(key of a failed one)", func() error { _, err := ad.Find(ctx, keys.failed); return err }},
		{"Count(State: failed)", func() error { _, err := ad.Count(ctx, runtime.ListOptions{State: runtime.StateFailed}); return err }},
		{"Count(State: done, Limit: 100,001)", func() error {
			_, err := ad.Count(ctx, runtime.ListOptions{State: runtime.StateDone, Limit: 100_001})
			return err
		}},
	}
	for _, q := range inproc {
		var times []time.Duration
		for range runs {
			t0 := time.Now()
			if err := q.fn(); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			times = append(times, time.Since(t0))
		}
		slices.Sort(times)
		fmt.Printf("  %-36s median %8s   slowest %8s\n", q.name, times[len(times)/2].Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond))
	}
	return nil
}

type sampleKeys struct{ done, failed string }

// keysOf names a done activation and a failed one of a store build makes.
func keysOf(done, unfinished int) sampleKeys {
	k := sampleKeys{done: "order-" + strconv.Itoa(done/2)}
	for i := done; i < done+unfinished; i++ {
		if (i-done)%3 == 2 {
			k.failed = "order-" + strconv.Itoa(i)
		}
	}
	return k
}

// build makes the store: done activations first, over simulated months,
// then the unfinished ones, each with a start key and a short log.
func build(path string, done, unfinished int) error {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Sync: sqlitestore.SyncNormal})
	if err != nil {
		return err
	}
	defer s.Close(ctx)
	var gens []int64
	for _, b := range []string{"v1.0.0", "v1.1.0", "v1.2.0"} {
		g, err := s.BeginIncarnation(ctx, b, os.Getpid())
		if err != nil {
			return err
		}
		gens = append(gens, g)
	}
	start := time.Now().Add(-90 * 24 * time.Hour)
	total := done + unfinished
	step := 90 * 24 * time.Hour / time.Duration(total)
	const batch = 2000
	var ops []store.Op
	flush := func() error {
		err := store.Apply(ctx, s, ops...)
		ops = ops[:0]
		return err
	}
	for i := range total {
		at := start.Add(time.Duration(i) * step)
		gen := gens[i*len(gens)/total]
		key := "order-" + strconv.Itoa(i)
		a := store.Activation{ID: flow.NewActivationID(), Flow: []string{"payments.Charge", "payments.Refund", "shipping.Dispatch"}[i%3],
			StartKey: key, Args: []byte{0x08, 0x01}, Outcome: flow.NewVowID(), CreatedGen: gen, Created: at}
		ops = append(ops, &store.CreateActivation{Activation: a},
			&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: gen, At: at, Payload: []byte("a logged call and its result")}})
		switch {
		case i < done:
			ops = append(ops, &store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte{0x08, 0x00}, Gen: gen, At: at.Add(time.Second)})
		case (i-done)%3 == 1:
			v := flow.NewVowID()
			ops = append(ops, &store.CreateVow{ID: v, Gen: gen}, &store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: gen, At: at})
		case (i-done)%3 == 2:
			ops = append(ops, &store.SetState{Act: a.ID, State: store.Failed, Gen: gen, At: at,
				Failure: []byte(`{"problem":"other-call","flow":"payments.Charge","step":0,"logged":"a logged call","got":"another call","failed_gen":3,"failed_build":"v1.2.0"}`)})
		}
		if len(ops) >= batch {
			if err := flush(); err != nil {
				return err
			}
		}
		if (i+1)%200_000 == 0 {
			fmt.Fprintf(os.Stderr, "building: %d of %d activations\n", i+1, total)
		}
	}
	return flush()
}
