package verify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// Before deploying a build that charges before it reserves, snapshot the
// live store and replay it with the build: the activation that reserved
// already would be stuck, and the gate says so.
func ExampleReplayFile() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "verify-example-")
	defer os.RemoveAll(dir)

	// The live program, running build v1.
	rt, _ := runtime.Open(ctx, filepath.Join(dir, "live.db"), runtime.Options{Build: "v1"})
	defer rt.Close(ctx)
	host := &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", host)
	h := testkit.Register(rt, "test.F", v1)
	_ = rt.Start(ctx)
	_, _ = h.StartWithID(ctx, "order-7", testkit.TellerRef("host"), "late")
	for n := 0; n != 1; time.Sleep(time.Millisecond) {
		n, _ = rt.Admin().Count(ctx, runtime.ListOptions{State: runtime.StateSuspended})
	}

	// 1. Snapshot. 2. Gate with the new build.
	snap := filepath.Join(dir, "snapshot.db")
	if err := rt.Admin().Backup(ctx, snap); err != nil {
		panic(err)
	}
	rep, err := verify.ReplayFile(ctx, snap, func(r runtime.Registry) {
		testkit.ProvideTeller(r, "host", nil) // nothing is called
		testkit.Register(r, "test.F", v2)
	}, verify.Options{Build: "v2"})
	if err != nil {
		panic(err)
	}
	fmt.Println("deploy v2:", rep.OK())
	for _, p := range rep.Problems {
		fmt.Println(p.StartKey, p.Verdict, p.Failure.Problem, "at log step", p.Failure.Step)
		fmt.Println("  logged:  ", p.Failure.Logged)
		fmt.Println("  code did:", p.Failure.Got)
	}
	// Output:
	// deploy v2: false
	// order-7 stuck other-arguments at log step 0
	//   logged:   service("host").Echo("reserve") → ["reserve"]
	//   code did: call service("host").Echo("charge")
}
