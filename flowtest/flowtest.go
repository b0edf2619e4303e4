// Package flowtest is for tests of programs that run flows. Its replay gate
// is the check a CI pipeline runs before a new build is deployed: replay
// every unfinished activation of a snapshot of the live store against the
// build's flows, and fail on every one the build would strand.
//
//	func TestReplayGate(t *testing.T) {
//		path := os.Getenv("SNAPSHOT") // written by rt.Admin().Backup
//		if path == "" {
//			t.Skip("SNAPSHOT names no snapshot of the live store")
//		}
//		flowtest.ReplayStore(t, path, func(r runtime.Registry) {
//			shop.ProvideLedger(r, "ledger", nil) // services need no implementation
//			shop.RegisterFulfil(r)
//		})
//	}
//
// The register function is the one the program starts with, or one that
// calls the same generated Register and Provide functions: the gate takes
// them as a runtime does, calls nothing and writes nothing. See package
// verify for what is checked and the deploy procedure.
package flowtest

import (
	"context"
	"testing"

	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// ReplayStore replays every unfinished activation of the SQLite store at
// path, opened read-only, against the flows register registers. It fails t
// with each activation that does not replay — stuck, with its full
// diagnostic, of a flow not registered, or whose arguments no longer
// decode — and logs the summary. It returns the report.
func ReplayStore(t testing.TB, path string, register func(runtime.Registry)) *verify.Report {
	t.Helper()
	rep, err := verify.ReplayFile(context.Background(), path, register, verify.Options{})
	if err != nil {
		t.Fatalf("replay gate: %v", err)
		return nil
	}
	check(t, rep)
	return rep
}

// Replay is ReplayStore on any store: a PostgreSQL store opened for
// reading only (pgstore.OpenReadOnly, which writes nothing to the database),
// or a store a test built. It never writes to st. On PostgreSQL, a snapshot
// written by Admin().Backup is a SQLite file for ReplayStore.
func Replay(t testing.TB, st store.Store, register func(runtime.Registry)) *verify.Report {
	t.Helper()
	rep, err := verify.Replay(context.Background(), st, register, verify.Options{})
	if err != nil {
		t.Fatalf("replay gate: %v", err)
		return nil
	}
	check(t, rep)
	return rep
}

func check(t testing.TB, rep *verify.Report) {
	t.Helper()
	for _, p := range rep.Problems {
		t.Errorf("replay gate: %s", p)
	}
	if rep.OK() {
		t.Logf("%s", rep)
		return
	}
	t.Errorf("replay gate: build %s would strand %d of %d unfinished activations: %d stuck, %d whose flow it does not register, %d whose arguments no longer decode",
		rep.Build, len(rep.Problems), rep.Activations, rep.Stuck, rep.Unregistered, rep.BadArguments)
}
