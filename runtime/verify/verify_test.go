package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// The builds: v1 asks, then charges after the answer; v2 charges first;
// v3 wraps the change in flow.Patched.

func ask(fc flow.Context, h testkit.Teller) (string, error) {
	v, err := h.Ask(fc, "q")
	if err != nil {
		return "", err
	}
	return flow.Await(fc, v)
}

func v1(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if a == "early" { // waits before anything the builds change
		if _, err := ask(fc, h); err != nil {
			return "", err
		}
	}
	if _, err := h.Echo(fc, "reserve"); err != nil {
		return "", err
	}
	if _, err := h.Echo(fc, "charge"); err != nil {
		return "", err
	}
	return ask(fc, h)
}

func v2(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if a == "early" {
		if _, err := ask(fc, h); err != nil {
			return "", err
		}
	}
	if _, err := h.Echo(fc, "charge"); err != nil {
		return "", err
	}
	if _, err := h.Echo(fc, "reserve"); err != nil {
		return "", err
	}
	return ask(fc, h)
}

func v3(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if flow.Patched(fc, "charge-first") {
		return v2(fc, h, a)
	}
	return v1(fc, h, a)
}

type build struct {
	name string
	f    func(flow.Context, testkit.Teller, string) (string, error)
	// g is test.G, a flow of one int in v1 and one string after; nil: not
	// registered.
	gInt bool
	host *testkit.Recorder
}

// flowHandles are the handles a build's flows start with.
type flowHandles struct {
	f    testkit.Handle[string, string]
	gInt testkit.Handle[int, int]
	gStr testkit.Handle[string, string]
}

func (b build) register(r flowimpl.Registry) { b.registerAll(r) }

func (b build) registerAll(r flowimpl.Registry) flowHandles {
	var h flowHandles
	testkit.ProvideTeller(r, "host", b.host)
	h.f = testkit.Register(r, "test.F", b.f)
	if b.gInt {
		h.gInt = testkit.Register(r, "test.G", func(fc flow.Context, h testkit.Teller, a int) (int, error) { _, err := ask(fc, h); return a, err })
	} else {
		h.gStr = testkit.Register(r, "test.G", func(fc flow.Context, h testkit.Teller, a string) (string, error) { _, err := ask(fc, h); return a, err })
	}
	return h
}

// live runs a build on the store at path and returns it started.
func live(t *testing.T, path string, b build, opts runtime.Options) (*runtime.Runtime, flowHandles) {
	t.Helper()
	opts.Build = b.name
	rt, err := runtime.Open(t.Context(), path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	b.host.NewVow = func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }
	h := b.registerAll(rt)
	require.NoError(t, rt.Start(t.Context()))
	return rt, h
}

func settle(t *testing.T, rt *runtime.Runtime, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		all, err := rt.Admin().List(t.Context(), runtime.ListOptions{})
		require.NoError(t, err)
		waiting := 0
		for _, a := range all {
			if a.State == runtime.StateSuspended || a.State == runtime.StateFailed {
				waiting++
			}
		}
		if waiting == n && len(all) == n {
			return
		}
		require.True(t, time.Now().Before(deadline), "activations did not settle: %v", all)
		time.Sleep(2 * time.Millisecond)
	}
}

func TestTheGateListsWhatABuildWouldStrand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	b1 := build{name: "v1", f: v1, gInt: true, host: &testkit.Recorder{}}
	rt, fh := live(t, path, b1, runtime.Options{})
	_, err := fh.f.StartWithID(t.Context(), "late", testkit.TellerRef("host"), "late")
	require.NoError(t, err)
	_, err = fh.f.StartWithID(t.Context(), "early", testkit.TellerRef("host"), "early")
	require.NoError(t, err)
	_, err = fh.gInt.StartWithID(t.Context(), "number", testkit.TellerRef("host"), 7)
	require.NoError(t, err)
	settle(t, rt, 3)

	// A snapshot of the live store, and the gate with v2 against it.
	snap := filepath.Join(dir, "snap.db")
	require.NoError(t, rt.Admin().Backup(t.Context(), snap))
	before, err := os.ReadFile(snap)
	require.NoError(t, err)
	b2 := build{name: "v2", f: v2, host: &testkit.Recorder{}}
	var each []verify.Result
	rep, err := verify.ReplayFile(t.Context(), snap, b2.register, verify.Options{Build: "v2", Each: func(r verify.Result) { each = append(each, r) }})
	require.NoError(t, err)
	assert.False(t, rep.OK())
	assert.Len(t, each, 3)
	assert.Equal(t, 3, rep.Activations)
	assert.Equal(t, 1, rep.Replays)
	assert.Equal(t, 1, rep.Stuck)
	assert.Equal(t, 1, rep.BadArguments)
	require.Len(t, rep.Problems, 2)
	byKey := map[string]verify.Result{}
	for _, p := range rep.Problems {
		byKey[p.StartKey] = p
	}
	late := byKey["late"]
	assert.Equal(t, verify.Stuck, late.Verdict)
	assert.Equal(t, store.Suspended, late.State)
	require.NotNil(t, late.Failure)
	assert.Equal(t, diag.OtherArguments, late.Failure.Problem)
	assert.Equal(t, int64(0), late.Failure.Step)
	assert.Equal(t, `call service("host").Echo("charge")`, late.Failure.Got)
	assert.Equal(t, "v1", late.Failure.WrittenBuild)
	assert.Equal(t, "v2", late.Failure.FailedBuild)
	number := byKey["number"]
	assert.Equal(t, verify.BadArguments, number.Verdict)
	assert.Contains(t, number.Failure.Detail, "test.G: parameter 2 of 2 no longer fits its stored value 7")
	text := rep.String()
	assert.Contains(t, text, "replay gate FAIL: build v2")
	assert.Contains(t, text, `(started with id "late")`)
	assert.Contains(t, text, "code did:  call service(\"host\").Echo(\"charge\")")
	assert.Empty(t, b2.host.Calls(), "the gate calls no host")
	after, err := os.ReadFile(snap)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the gate writes nothing")

	// A build that does not register test.G: those are listed too.
	b3 := build{name: "v3", f: v3, host: &testkit.Recorder{}}
	rep, err = verify.ReplayFile(t.Context(), snap, func(r flowimpl.Registry) {
		testkit.ProvideTeller(r, "host", b3.host)
		testkit.Register(r, "test.F", v3)
	}, verify.Options{Build: "v3"})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Replays)
	assert.Equal(t, 1, rep.Unregistered)
	require.Len(t, rep.Problems, 1)
	assert.Equal(t, verify.Unregistered, rep.Problems[0].Verdict)
	assert.Contains(t, rep.String(), "test.G (not registered)")

	// The live store itself is refused: it is the runtime's.
	_, err = verify.ReplayFile(t.Context(), path, b2.register, verify.Options{})
	assert.ErrorIs(t, err, store.ErrLocked)
}

func TestTheGateDecidesPatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	b2 := build{name: "v2", f: v2, host: &testkit.Recorder{}}
	rt, fh := live(t, path, b2, runtime.Options{})
	_, err := fh.f.StartWithID(t.Context(), "mid", testkit.TellerRef("host"), "mid")
	require.NoError(t, err)
	settle(t, rt, 1)
	snap := filepath.Join(dir, "snap.db")
	require.NoError(t, rt.Admin().Backup(t.Context(), snap))

	b3 := build{name: "v3", f: v3, host: &testkit.Recorder{}}
	rep, err := verify.ReplayFile(t.Context(), snap, b3.register, verify.Options{Build: "v3"})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%s", rep)
	require.Len(t, rep.Decided, 1)
	assert.Equal(t, []string{"charge-first"}, rep.Decided[0].Decided)
	assert.Contains(t, rep.String(), `replays with flow.Patched("charge-first") taken as true`)

	// v1 cannot replay it: stuck, and the diagnostic says v1's code ran.
	b1 := build{name: "v1", f: v1, host: &testkit.Recorder{}}
	rep, err = verify.ReplayFile(t.Context(), snap, b1.register, verify.Options{Build: "v1"})
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	assert.True(t, strings.Contains(rep.Problems[0].Failure.Got, "reserve"))
}
