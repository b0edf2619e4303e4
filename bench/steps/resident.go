package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// residentResult is what a measuring process reports: its memory with the
// runtime started and nothing running, then with n activations parked.
type residentResult struct {
	N                       int
	RSSBefore, RSSAfter     int64 // bytes
	StackBefore, StackAfter uint64
	HeapBefore, HeapAfter   uint64
}

// perActivation returns RSS, stack and heap bytes per parked activation.
func (r residentResult) perActivation() (rss, stack, heap float64) {
	n := float64(r.N)
	return float64(r.RSSAfter-r.RSSBefore) / n, float64(r.StackAfter-r.StackBefore) / n, float64(int64(r.HeapAfter)-int64(r.HeapBefore)) / n
}

// resident measures, in a fresh process of this program, the memory of n
// parked activations kept resident.
func resident(dir string, n int) (residentResult, error) {
	self, err := os.Executable()
	if err != nil {
		return residentResult{}, err
	}
	path := filepath.Join(dir, fmt.Sprintf("resident-%d.db", n))
	cmd := exec.Command(self, "-resident-child", strconv.Itoa(n), "-dir", path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return residentResult{}, fmt.Errorf("resident %d: %w", n, err)
	}
	var r residentResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("resident %d printed %q: %w", n, out, err)
	}
	return r, nil
}

// residentChild is the measuring process: it starts n Sleeper flows, each
// of which makes one step and parks on a day-long timer, with MaxResident n
// so none is evicted, and prints a residentResult.
func residentChild(path string, n int) error {
	ctx := context.Background()
	// Durability does not change what a parked activation holds in memory;
	// SyncNormal only makes the setup quicker.
	rt, err := runtime.Open(ctx, path, runtime.Options{Sync: sqlitestore.SyncNormal, MaxResident: n})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	h := &noop{rt: rt}
	var stepped atomic.Int64
	h.onStep = func() { stepped.Add(1) }
	benchflows.ProvideNoop(rt, "noop", h)
	sleeper := benchflows.RegisterSleeper(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	r := residentResult{N: n}
	r.RSSBefore, r.StackBefore, r.HeapBefore = memNow()

	const starters = 8
	var wg sync.WaitGroup
	errs := make(chan error, starters)
	for s := range starters {
		wg.Go(func() {
			for i := s; i < n; i += starters {
				if _, err := sleeper.Start(ctx, benchflows.NoopRef("noop"), 24*time.Hour); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	for stepped.Load() < int64(n) {
		time.Sleep(10 * time.Millisecond)
	}
	// Every flow has stepped; wait until all are suspended in the store.
	for {
		c, err := countSuspended(ctx, rt)
		if err != nil {
			return err
		}
		if c == n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.RSSAfter, r.StackAfter, r.HeapAfter = memNow()
	return json.NewEncoder(os.Stdout).Encode(r)
}

func countSuspended(ctx context.Context, rt *runtime.Runtime) (int, error) {
	o := runtime.ListOptions{State: runtime.StateSuspended, Limit: 1000}
	total := 0
	for {
		page, err := rt.Admin().List(ctx, o)
		if err != nil {
			return 0, err
		}
		total += len(page)
		if len(page) < o.Limit {
			return total, nil
		}
		o.After = page[len(page)-1].Cursor()
	}
}

// memNow returns the process's resident set, and the Go stacks and heap in
// use, after a collection that returns what it can to the system.
func memNow() (rss int64, stack, heap uint64) {
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return vmRSS(), ms.StackInuse, ms.HeapInuse
}

// vmRSS reads the resident set size from /proc (Linux); 0 elsewhere.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "VmRSS: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 0
}
