package membrane

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// chargeFirst is the flow of the patch story: builds without the patch
// reserve, then charge; with it, activations that reached this point under
// the patch charge first.
func chargeFirst(t *testing.T, patch bool) script {
	return func(g *Membrane) ([]byte, error) {
		if patch && g.Patched("charge-first") {
			call(g, host, "Echo", tuple(t, "charge"))
			call(g, host, "Echo", tuple(t, "reserve"))
		} else if patch {
			call(g, host, "Echo", tuple(t, "reserve"))
			call(g, host, "Echo", tuple(t, "charge"))
		} else {
			// The build without the patch that changed the order.
			call(g, host, "Echo", tuple(t, "charge"))
			call(g, host, "Echo", tuple(t, "reserve"))
		}
		return call(g, host, "Echo", tuple(t, "ship")), nil
	}
}

// logs of activations that stopped before shipping: one that ran the old
// order, one that ran the new order under a build without the patch, one
// that ran it under the patch.
func patchLogs(t *testing.T) (old, unmarked, marked []Entry) {
	echo := func(s string) *entry { return callEntry("Echo", tuple(t, s), tuple(t, s)) }
	return logOf(echo("reserve"), echo("charge")),
		logOf(echo("charge"), echo("reserve")),
		logOf(patchedEntry("charge-first"), echo("charge"), echo("reserve"))
}

type fixedDryHost struct{}

func (fixedDryHost) Build(gen int64) string       { return "build-" + string(rune('0'+gen)) }
func (fixedDryHost) Incarnation() (int64, string) { return 0, "gate" }
func (fixedDryHost) Now() time.Time               { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

// replayDry runs a script as a dry run.
func replayDry(t *testing.T, log []Entry, decided []string, s script) Trial {
	t.Helper()
	return dryRun(Config{Activation: testActivation, Flow: "test.F", Log: log, Decided: decided}, s, 10*time.Second)
}

func dryRun(c Config, s script, stall time.Duration) Trial {
	return dry(c, fixedDryHost{}, s, stall)
}

func TestPatchedTakesTheOldBranchWithoutAMarker(t *testing.T) {
	old, unmarked, marked := patchLogs(t)
	for name, log := range map[string][]Entry{"old": old, "marked": marked} {
		tr := replayDry(t, log, nil, chargeFirst(t, true))
		assert.True(t, tr.OK(), name)
		assert.False(t, tr.Returned, "%s: the log ends before shipping", name)
	}

	// An activation that ran the new order without the patch: the old branch
	// does not reproduce its log, and the failure says which answer led there.
	tr := replayDry(t, unmarked, nil, chargeFirst(t, true))
	require.NotNil(t, tr.Failure)
	assert.Equal(t, diag.OtherArguments, tr.Failure.Problem)
	assert.Equal(t, []string{"charge-first"}, tr.Open)
	require.Len(t, tr.Failure.Patches, 1)
	assert.Contains(t, tr.Failure.Patches[0], `flow.Patched("charge-first") = false: the log has no marker for it at step 0`)
	assert.Contains(t, tr.Failure.Error(), "(after flow.Patched answers: see patches)")
	assert.Contains(t, tr.Failure.Error(), "failed in: the replay gate, build gate")
}

func TestSearchFindsThePatchDecision(t *testing.T) {
	_, unmarked, _ := patchLogs(t)
	c := Config{Activation: testActivation, Flow: "test.F", Log: unmarked}
	found, trials := search(c, fixedDryHost{}, chargeFirst(t, true), 10*time.Second, nil)
	require.NotNil(t, found)
	assert.Len(t, trials, 2)
	assert.Equal(t, []string{"charge-first"}, found.Decided)

	// The real run with the decision replays, goes live, records the
	// decision before anything else and ships once.
	h := newHost()
	g := startWith(h, Config{Activation: testActivation, Flow: "test.F", Log: unmarked, Decided: found.Decided}, chargeFirst(t, true))
	g.wait(t)
	require.True(t, g.returned)
	calls, appended, failed := h.snapshot()
	assert.Empty(t, failed)
	require.Len(t, calls, 1)
	assert.Equal(t, "Echo", calls[0].Method)
	assert.Equal(t, 2, calls[0].Index)
	require.Len(t, appended, 2)
	assert.Equal(t, `replay decided flow.Patched("charge-first") = true (no marker where asked)`, Describe(appended[0]))
	assert.Equal(t, int64(2), appended[0].Step)

	// The next replay takes the recorded decision directly.
	withDecision := append(unmarked[:2:2], Entry{Step: 2, Kind: appended[0].Kind, Gen: 2, Payload: appended[0].Payload})
	tr := replayDry(t, withDecision, nil, chargeFirst(t, true))
	assert.True(t, tr.OK())
	assert.Empty(t, tr.Open)
	assert.Equal(t, int64(3), tr.Replayed, "the decision marker is passed over")
}

func TestSearchIsBounded(t *testing.T) {
	// Five patches, none of which the log can be reproduced under.
	s := func(g *Membrane) ([]byte, error) {
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			g.Patched(id)
		}
		return call(g, host, "Echo", tuple(t, "never logged")), nil
	}
	c := Config{Activation: testActivation, Flow: "test.F", Log: logOf(callEntry("Echo", tuple(t, "x"), tuple(t, "x")))}
	found, trials := search(c, fixedDryHost{}, s, 10*time.Second, nil)
	assert.Nil(t, found)
	assert.Len(t, trials, MaxTrials)
	assert.Equal(t, []string{"e"}, trials[1].Decided, "the id asked last is tried first")
	d := trials[0].Failure
	Explain(d, trials)
	text := strings.Join(d.Patches, "\n")
	assert.Contains(t, text, `tried flow.Patched("e") = true: other-arguments at step 0`)
	assert.Contains(t, text, "the search stopped after 8 replays")
}

func TestRetiredMarkersArePassedOver(t *testing.T) {
	_, _, marked := patchLogs(t)
	// The code without the patch, once every activation that could take the
	// old branch has finished: the marker is no effect.
	tr := replayDry(t, marked, nil, chargeFirst(t, false))
	assert.True(t, tr.OK())
	assert.Equal(t, int64(3), tr.Replayed)

	// A marker left at the end of a log, the code returning there.
	h := newHost()
	g := start(h, logOf(callEntry("Echo", tuple(t, "a"), tuple(t, "a")), patchedEntry("gone")), func(g *Membrane) ([]byte, error) {
		return call(g, host, "Echo", tuple(t, "a")), nil
	})
	g.wait(t)
	assert.True(t, g.returned, "not returned early")
	_, _, failed := h.snapshot()
	assert.Empty(t, failed)

	// Patched passes over the markers of other ids to its own; those passed
	// over still count as taken.
	log := logOf(patchedEntry("a"), patchedEntry("b"), nowEntry(t, time.Unix(1_800_000_000, 0)))
	g = start(newHost(), log, func(g *Membrane) ([]byte, error) {
		b := g.Patched("b")
		g.Now()
		return codec.MarshalTuple(b, g.Patched("a"), g.Patched("c"))
	})
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, tuple(t, true, true, true), g.result, "c is asked live: recorded and true")

	// What follows a retired marker must still replay.
	tr = replayDry(t, marked, nil, func(g *Membrane) ([]byte, error) {
		return call(g, host, "Echo", tuple(t, "reserve")), nil
	})
	require.NotNil(t, tr.Failure)
	assert.Equal(t, diag.OtherArguments, tr.Failure.Problem)
	assert.Equal(t, int64(1), tr.Failure.Step)
	require.Len(t, tr.Failure.Patches, 1)
	assert.Equal(t, `the marker of flow.Patched("charge-first") at step 0 was passed over: the code no longer asks for it there`, tr.Failure.Patches[0])
}

func TestDryRunCallsNoHost(t *testing.T) {
	ready := flow.VowID{8}
	first := newHost()
	first.vows[ready] = &Settlement{Value: value(t, "go")}
	g := start(first, nil, everything(t, ready))
	g.wait(t)
	_, log, _ := first.snapshot()

	for n := range len(log) + 1 {
		tr := replayDry(t, log[:n], nil, everything(t, ready))
		assert.True(t, tr.OK(), "a prefix of %d entries", n)
		assert.Equal(t, int64(n), tr.Replayed)
		assert.Equal(t, n == len(log), tr.Returned, "the flow returns at the end of the whole log only")
	}

	tr := replayDry(t, log, nil, func(g *Membrane) ([]byte, error) { panic("a bug") })
	require.NotNil(t, tr.Failure)
	assert.Equal(t, diag.GuestPanic, tr.Failure.Problem)
	assert.False(t, tr.OK())

	// A replay that loops outside the membrane is reported as stalled.
	block := make(chan struct{})
	defer close(block)
	tr = dryRun(Config{Activation: testActivation, Flow: "test.F", Log: log}, func(g *Membrane) ([]byte, error) {
		<-block
		return nil, nil
	}, 50*time.Millisecond)
	require.NotNil(t, tr.Failure)
	assert.Equal(t, diag.Stalled, tr.Failure.Problem)
}

func TestAnUnawaitedFutureDoesNotKeepTheActivationRunning(t *testing.T) {
	h := newHost()
	release := make(chan struct{})
	h.methods["Echo"] = func(args []byte) ([]byte, error) { <-release; return args, nil }
	v := flow.VowID{1}
	h.vows[v] = nil
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		g.Issue(host, "Echo", tuple(t, "never awaited"))
		return await(g, flow.AwaitKey{Vow: v})
	})
	eventually(t, func() bool { return g.m.Mode() == ModeParked }, "the guest to park")
	h.mu.Lock()
	assert.False(t, h.suspended, "not while the call is out")
	h.mu.Unlock()
	close(release)
	eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.suspended && len(h.watched) == 2
	}, "the vow to be watched again, suspending")
	g.m.RequestEvict()
	g.wait(t)
	assert.False(t, g.returned, "evicted: a wake replays it")
}

// startWith is start with a whole Config.
func startWith(h *fakeHost, c Config, s script) *guest {
	c.Host = h
	g := &guest{m: New(c), exited: make(chan struct{})}
	go func() {
		defer close(g.exited)
		res, err := s(g.m)
		g.m.Returned(res, err)
		g.returned, g.result, g.err = true, res, err
	}()
	return g
}
