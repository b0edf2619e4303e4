package main

import (
	"context"
	"database/sql"
	goruntime "runtime"
	"syscall"
	"time"

	"github.com/asyncflow-go/asyncflow/bench/benchflows"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// replayRun is one replay beside a raw read of the same rows.
type replayRun struct {
	replay, read             float64 // entries/s, rows/s
	replayCPU, readCPU       float64 // the same, per second of the process's CPU time
	replayAllocs, readAllocs float64 // per entry, per row
}

// replayRates builds activations with n logged calls each, suspended on a
// vow, then, in a new runtime, for each: reads its log rows straight from
// SQLite, then settles its vow and times the replay from the settlement's
// commit to the first live call.
func replayRates(ctx context.Context, path string, n, runs int) ([]replayRun, error) {
	rt, host, _, long, err := open(ctx, path, runtime.Options{Sync: sqlitestore.SyncNormal})
	if err != nil {
		return nil, err
	}
	host.asked = make(chan flow.VowID, runs)
	var vows, outcomes []flow.VowID
	for range runs {
		v, err := long.Start(ctx, benchflows.NoopRef("noop"), n)
		if err != nil {
			return nil, err
		}
		vows, outcomes = append(vows, <-host.asked), append(outcomes, v.ID())
	}
	// The vow is asked for before the suspension commits: wait for it.
	for {
		l, err := rt.Admin().List(ctx, runtime.ListOptions{State: runtime.StateSuspended})
		if err != nil {
			return nil, err
		}
		if len(l) == runs {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := rt.Close(ctx); err != nil {
		return nil, err
	}
	acts, err := activationsByVow(ctx, path, vows)
	if err != nil {
		return nil, err
	}

	rt, host, _, _, err = open(ctx, path, runtime.Options{})
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	host.last = make(chan time.Time, 1)
	var out []replayRun
	for i, id := range vows {
		var r replayRun
		a0, c0 := mallocs(), cpuTime()
		t0 := time.Now()
		rows, err := rawLog(ctx, raw, acts[i])
		if err != nil {
			return nil, err
		}
		r.read = float64(rows) / time.Since(t0).Seconds()
		r.readCPU = float64(rows) / (cpuTime() - c0).Seconds()
		r.readAllocs = float64(mallocs()-a0) / float64(rows)

		a0 = mallocs() // the settlement's few allocations are counted too
		if err := runtime.Resolve(ctx, rt, flow.VowOf[int](id), 1); err != nil {
			return nil, err
		}
		c0, t0 = cpuTime(), time.Now()
		t1 := <-host.last
		c1 := cpuTime()
		r.replay = float64(n+1) / t1.Sub(t0).Seconds()
		r.replayCPU = float64(n+1) / (c1 - c0).Seconds()
		r.replayAllocs = float64(mallocs()-a0) / float64(n+1)
		out = append(out, r)
		// The flow finishes, deleting its log, before the next read.
		if _, err := runtime.Wait(ctx, rt, flow.VowOf[int](outcomes[i])); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rawLog reads an activation's log rows, in step order, into entries: what a
// store must do at least before a replay. It reads the columns the store
// reads and keeps every payload, copied into one buffer.
func rawLog(ctx context.Context, db *sql.DB, act []byte) (int, error) {
	rows, err := db.QueryContext(ctx, `SELECT step, kind, gen, at_ns, payload FROM entries WHERE act = ? ORDER BY step`, act)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var out []store.Entry
	var buf []byte
	for rows.Next() {
		var e store.Entry
		var at int64
		var payload sql.RawBytes
		if err := rows.Scan(&e.Step, &e.Kind, &e.Gen, &at, &payload); err != nil {
			return 0, err
		}
		e.At = time.Unix(0, at)
		n := len(buf)
		buf = append(buf, payload...)
		e.Payload = buf[n:len(buf):len(buf)]
		out = append(out, e)
	}
	return len(out), rows.Err()
}

// activationsByVow finds the activation waiting for each vow.
func activationsByVow(ctx context.Context, path string, vows []flow.VowID) ([][]byte, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := make([][]byte, len(vows))
	for i, v := range vows {
		if err := db.QueryRowContext(ctx, `SELECT act FROM waits WHERE vow = ?`, v[:]).Scan(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cpuTime is the CPU time the process has used, user and system: unlike
// wall time it does not count what other processes on the machine take.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mallocs() uint64 {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.Mallocs
}
