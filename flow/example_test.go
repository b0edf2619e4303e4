package flow_test

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// A greeting flow changes its greeting in build 2. An activation that had
// already greeted under build 1 when the upgrade came must greet the same way
// when it is replayed, or its log no longer matches; one started under build 2
// takes the new path. Each build registers its own version of the flow under
// one durable name (testkit.Register stands in for the Register function
// flowgen generates, so both builds fit in one example) and the store
// outlives the first.
func ExamplePatched() {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, sqlitestore.Memory, sqlitestore.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close(ctx)

	// Build 1 greets, then waits for an answer, which may take days.
	v1 := func(fc flow.Context, t testkit.Teller, name string) (string, error) {
		greeting := "hello " + name
		if _, err := t.Echo(fc, greeting); err != nil {
			return "", err
		}
		answer, err := t.Ask(fc, "greeted "+name)
		if err != nil {
			return "", err
		}
		_, err = flow.Await(fc, answer)
		return greeting, err
	}
	// Build 2 greets warmly, behind the patch "warm".
	v2 := func(fc flow.Context, t testkit.Teller, name string) (string, error) {
		greeting := "hello " + name
		if flow.Patched(fc, "warm") {
			greeting = "welcome, " + name
		}
		if _, err := t.Echo(fc, greeting); err != nil {
			return "", err
		}
		answer, err := t.Ask(fc, "greeted "+name)
		if err != nil {
			return "", err
		}
		_, err = flow.Await(fc, answer)
		return greeting, err
	}

	var rt *runtime.Runtime
	asked := make(chan flow.Vow[string], 1)
	teller := &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) {
		v, err := runtime.NewVow[string](ctx, rt)
		asked <- v
		return v, err
	}}
	open := func(build string, f func(flow.Context, testkit.Teller, string) (string, error)) testkit.Handle[string, string] {
		var err error
		rt, err = runtime.Open(ctx, "", runtime.Options{Store: st, Build: build})
		if err != nil {
			panic(err)
		}
		testkit.ProvideTeller(rt, "teller", teller)
		h := testkit.Register[string, string](rt, "example.Greet", f)
		if err := rt.Start(ctx); err != nil {
			panic(err)
		}
		return h
	}

	h := open("build-1", v1)
	bob, err := h.Start(ctx, testkit.TellerRef("teller"), "bob")
	if err != nil {
		panic(err)
	}
	bobAsked := <-asked // bob is greeted and waits
	if err := rt.Close(ctx); err != nil {
		panic(err)
	}

	h = open("build-2", v2)
	defer rt.Close(ctx)
	carol, err := h.Start(ctx, testkit.TellerRef("teller"), "carol")
	if err != nil {
		panic(err)
	}
	carolAsked := <-asked
	for _, v := range []flow.Vow[string]{bobAsked, carolAsked} {
		if err := runtime.Resolve(ctx, rt, v, "ok"); err != nil {
			panic(err)
		}
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, v := range []flow.Vow[string]{bob, carol} {
		fmt.Println(runtime.Wait(wait, rt, v))
	}
	// Output:
	// hello bob <nil>
	// welcome, carol <nil>
}
