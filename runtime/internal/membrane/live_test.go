package membrane

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// everything crosses the membrane every way a flow can, and returns what it
// saw.
func everything(t *testing.T, ready flow.VowID) script {
	return func(g *Membrane) ([]byte, error) {
		echo := call(g, host, "Echo", tuple(t, "a"))
		at := g.Now()
		sum := call(g, host, "Add", tuple(t, 1, 2))
		f := g.Issue(host, "Echo", tuple(t, "f"))
		fv, err := await(g, flow.AwaitKey{Future: f})
		if err != nil {
			return nil, err
		}
		timer := g.After(time.Hour)
		patched := g.Patched("new-path")
		rv, err := await(g, flow.AwaitKey{Vow: ready})
		if err != nil {
			return nil, err
		}
		return codec.MarshalTuple(codec.Format(echo), at, codec.Format(sum), codec.Format(fv), timer, patched, codec.Format(rv))
	}
}

func TestLiveRunLogsEveryCrossing(t *testing.T) {
	h := newHost()
	ready := flow.VowID{8}
	h.vows[ready] = &Settlement{Value: value(t, "go")}
	g := start(h, nil, everything(t, ready))
	g.wait(t)
	require.True(t, g.returned)
	require.NoError(t, g.err)
	assert.Equal(t, ModeDone, g.m.Mode())

	calls, appended, failed := h.snapshot()
	assert.Empty(t, failed)
	require.Len(t, calls, 3)
	for i, c := range calls {
		assert.Equal(t, i, c.Index, "host calls are counted, markers are not")
		assert.Equal(t, testActivation, c.Activation)
	}
	assert.Equal(t, testActivation.String()+"/2/host.Echo", calls[2].IdempotencyKey())

	var texts []string
	for i, e := range appended {
		assert.Equal(t, int64(i), e.Step)
		assert.Equal(t, int64(2), e.Gen, "written by this incarnation")
		texts = append(texts, Describe(e))
	}
	require.Len(t, h.timers, 1)
	timer := h.timers[0]
	assert.True(t, timer.Deadline.Equal(h.now.Add(time.Hour)), "the deadline is the clock plus the duration")
	assert.Equal(t, []string{
		`service("host").Echo("a") → ["a"]`,
		"flow.Now() = 2026-11-27T09:00:00Z",
		`service("host").Add(1, 2) → [3]`,
		`go service("host").Echo("f") as future#1`,
		`future#1 settled → ["f"]`,
		"flow.After(1h0m0s) = vow:" + timer.Vow.String() + " due 2026-11-27T10:00:00Z",
		`flow.Patched("new-path") = true`,
		"vow:" + ready.String() + ` settled → "go"`,
	}, texts)
	assert.False(t, h.live, "a new activation is live from the start; Live is for replays")
}

func TestReplayAnswersFromTheLogThenGoesLive(t *testing.T) {
	ready := flow.VowID{8}
	first := newHost()
	first.vows[ready] = &Settlement{Value: value(t, "go")}
	g := start(first, nil, everything(t, ready))
	g.wait(t)
	_, log, _ := first.snapshot()

	// The whole log: nothing reaches the host, and the same result comes out.
	h := newHost()
	h.methods = nil // any call would fail
	again := start(h, log, everything(t, ready))
	again.wait(t)
	require.True(t, again.returned)
	require.NoError(t, again.err)
	assert.Equal(t, g.result, again.result, "the guest sees what it saw live")
	calls, appended, failed := h.snapshot()
	assert.Empty(t, calls)
	assert.Empty(t, appended)
	assert.Empty(t, failed)
	assert.True(t, h.live, "the used-up log is reported")
	assert.Equal(t, int64(len(log)), again.m.Progress())

	// Part of the log: the rest is live, its steps after the log's.
	h = newHost()
	h.vows[ready] = &Settlement{Value: value(t, "go")}
	part := start(h, log[:3], everything(t, ready))
	part.wait(t)
	require.True(t, part.returned)
	calls, appended, _ = h.snapshot()
	require.Len(t, calls, 1, "only the future's call is made")
	assert.Equal(t, 2, calls[0].Index, "with the index it had")
	require.Len(t, appended, len(log)-3)
	assert.Equal(t, int64(3), appended[0].Step)
	assert.True(t, h.live)
}

func TestFuturesUnobservedAtTheEndOfTheLogAreIssuedAgain(t *testing.T) {
	log := logOf(issueEntry(1, "Echo", tuple(t, "slow")))
	h := newHost()
	g := start(h, log, func(g *Membrane) ([]byte, error) {
		return await(g, flow.AwaitKey{Future: g.Issue(host, "Echo", tuple(t, "slow"))})
	})
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, tuple(t, "slow"), g.result)
	calls, appended, _ := h.snapshot()
	require.Len(t, calls, 1)
	assert.Equal(t, testActivation.String()+"/0/host.Echo", calls[0].IdempotencyKey(), "with the same key")
	require.Len(t, appended, 1)
	assert.Equal(t, KindResult, appended[0].Kind)
	assert.Equal(t, int64(1), appended[0].Step)

	// A flow that returns without awaiting its future, at the end of the
	// log: the call may never have been made, so it is made again, and the
	// run ends only once it has come back. Its result is not logged.
	h = newHost()
	release := make(chan struct{})
	h.methods["Echo"] = func(args []byte) ([]byte, error) { <-release; return args, nil }
	g = start(h, log, func(g *Membrane) ([]byte, error) {
		g.Issue(host, "Echo", tuple(t, "slow"))
		return nil, nil
	})
	eventually(t, func() bool { calls, _, _ := h.snapshot(); return len(calls) == 1 }, "the call made again")
	time.Sleep(20 * time.Millisecond)
	select {
	case <-g.exited:
		t.Fatal("the run ended before the call it issued came back")
	default:
	}
	close(release)
	g.wait(t)
	require.True(t, g.returned)
	calls, appended, failed := h.snapshot()
	require.Len(t, calls, 1)
	assert.Equal(t, testActivation.String()+"/0/host.Echo", calls[0].IdempotencyKey(), "with the same key")
	assert.Empty(t, appended, "an outcome the guest never observes is not logged")
	assert.Empty(t, failed)
}

func TestALiveRunWaitsForTheCallsItNeverAwaited(t *testing.T) {
	h := newHost()
	release := make(chan struct{})
	h.methods["Echo"] = func(args []byte) ([]byte, error) { <-release; return args, nil }
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		g.Issue(host, "Echo", tuple(t, "fire and forget"))
		return tuple(t, "done"), nil
	})
	eventually(t, func() bool { calls, _, _ := h.snapshot(); return len(calls) == 1 }, "the call")
	time.Sleep(20 * time.Millisecond)
	assert.NotEqual(t, ModeDone, g.m.Mode(), "the outcome waits for the call")
	close(release)
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, ModeDone, g.m.Mode())
	_, appended, _ := h.snapshot()
	require.Len(t, appended, 1)
	assert.Equal(t, KindIssue, appended[0].Kind, "only the issue is logged")

	// A host panic in such a call fails the activation, as for any future.
	h = newHost()
	h.methods["Echo"] = func([]byte) ([]byte, error) { panic("host bug") }
	g = start(h, nil, func(g *Membrane) ([]byte, error) {
		g.Issue(host, "Echo", tuple(t, "x"))
		return nil, nil
	})
	g.wait(t)
	assert.False(t, g.returned)
	_, _, failed := h.snapshot()
	require.Len(t, failed, 1)
	assert.Equal(t, diag.HostPanic, failed[0].Problem)
}

func TestReplayedFutureIsAnsweredFromTheLog(t *testing.T) {
	h := newHost()
	log := logOf(issueEntry(1, "Echo", tuple(t, "a")), issueEntry(2, "Echo", tuple(t, "b")), resultEntry(2, tuple(t, "b")), resultEntry(1, tuple(t, "a")))
	g := start(h, log, func(g *Membrane) ([]byte, error) {
		a, b := g.Issue(host, "Echo", tuple(t, "a")), g.Issue(host, "Echo", tuple(t, "b"))
		keys := []flow.AwaitKey{{Future: a}, {Future: b}}
		winner := g.Await(keys, true)
		g.Await(keys, false)
		return codec.MarshalTuple(winner)
	})
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, tuple(t, 1), g.result, "the logged winner wins again")
	calls, appended, failed := h.snapshot()
	assert.Empty(t, calls)
	assert.Empty(t, appended)
	assert.Empty(t, failed)
}

func TestAFutureIssuedAsTheLogRunsOutIsCalledOnce(t *testing.T) {
	h := newHost()
	release := make(chan struct{})
	h.methods["Echo"] = func(args []byte) ([]byte, error) { <-release; return args, nil }
	g := start(h, logOf(callEntry("Echo", tuple(t, "a"), tuple(t, "a"))), func(g *Membrane) ([]byte, error) {
		call(g, host, "Echo", tuple(t, "a"))
		return await(g, flow.AwaitKey{Future: g.Issue(host, "Echo", tuple(t, "f"))})
	})
	eventually(t, func() bool { calls, _, _ := h.snapshot(); return len(calls) > 0 }, "the future's call")
	time.Sleep(20 * time.Millisecond) // room for a second call, were one made
	close(release)
	g.wait(t)
	require.True(t, g.returned)
	calls, appended, _ := h.snapshot()
	assert.Len(t, calls, 1, "going live must not issue the new future a second time")
	require.Len(t, appended, 2)
	assert.Equal(t, KindIssue, appended[0].Kind, "the issue is logged before the call is made")
}

func TestPatched(t *testing.T) {
	script := func(g *Membrane) ([]byte, error) {
		first, second := g.Patched("p"), g.Patched("p")
		g.Now()
		return codec.MarshalTuple(first, second)
	}
	// Live: true, recorded once.
	h := newHost()
	g := start(h, nil, script)
	g.wait(t)
	assert.Equal(t, tuple(t, true, true), g.result)
	_, appended, _ := h.snapshot()
	require.Len(t, appended, 2, "the marker is recorded once")
	log := appended

	// Replaying a log with the marker: true.
	assert.Equal(t, logOf(patchedEntry("p"))[0].Payload, log[0].Payload, "the marker is the patch id")
	g = start(newHost(), log, script)
	g.wait(t)
	assert.Equal(t, tuple(t, true, true), g.result)

	// Replaying a log written before the patch: false, and nothing consumed.
	h = newHost()
	g = start(h, logOf(nowEntry(t, time.Unix(1_800_000_000, 0))), script)
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, tuple(t, false, false), g.result)
	_, appended, failed := h.snapshot()
	assert.Empty(t, appended)
	assert.Empty(t, failed)
}

func TestAwaitParksUntilTheVowSettles(t *testing.T) {
	h := newHost()
	yes, no := flow.VowID{1}, flow.VowID{2}
	h.vows[yes], h.vows[no] = nil, nil
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		winner := g.Await([]flow.AwaitKey{{Vow: yes}, {Vow: no}}, true)
		_, err := g.Settlement([]flow.AwaitKey{{Vow: yes}, {Vow: no}}[winner])
		return codec.MarshalTuple(winner, err.Error())
	})
	eventually(t, func() bool { return g.m.Mode() == ModeParked }, "the guest to park")
	h.mu.Lock()
	assert.True(t, h.parked)
	assert.True(t, h.suspended, "nothing in flight: the activation may be suspended")
	assert.Equal(t, [][]flow.VowID{{yes, no}}, h.watched)
	h.mu.Unlock()

	g.m.Deliver(no, Settlement{Rejected: true, Value: errOutcome(errors.New("denied")).err})
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, tuple(t, 1, "denied"), g.result, "the race is won by the vow that settled, and its rejection crosses")
	_, appended, _ := h.snapshot()
	require.Len(t, appended, 1)
	assert.Equal(t, "vow:"+no.String()+` settled → error error("denied")`, Describe(appended[0]))
	assert.False(t, h.parked)
}

func TestStopAndEvictLeaveWithoutAFailure(t *testing.T) {
	for _, how := range []string{"stop", "evict"} {
		t.Run(how, func(t *testing.T) {
			h := newHost()
			v := flow.VowID{1}
			h.vows[v] = nil
			g := start(h, nil, func(g *Membrane) ([]byte, error) {
				defer call(g, host, "Echo", tuple(t, "from a defer")) // ends the guest again
				return await(g, flow.AwaitKey{Vow: v})
			})
			eventually(t, func() bool { return g.m.Mode() == ModeParked }, "the guest to park")
			if how == "stop" {
				g.m.Stop()
			} else {
				g.m.RequestEvict()
			}
			g.wait(t)
			assert.False(t, g.returned)
			calls, appended, failed := h.snapshot()
			assert.Empty(t, calls)
			assert.Empty(t, appended)
			assert.Empty(t, failed)
			assert.True(t, g.m.Revoked())
		})
	}
}

func TestEvictionWaitsForFutures(t *testing.T) {
	h := newHost()
	release := make(chan struct{})
	h.methods["Echo"] = func(args []byte) ([]byte, error) { <-release; return args, nil }
	v := flow.VowID{1}
	h.vows[v] = nil
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		f := g.Issue(host, "Echo", tuple(t, "x"))
		if _, err := await(g, flow.AwaitKey{Vow: v}); err != nil {
			return nil, err
		}
		return await(g, flow.AwaitKey{Future: f})
	})
	eventually(t, func() bool { return g.m.Mode() == ModeParked }, "the guest to park")
	h.mu.Lock()
	assert.False(t, h.suspended, "a call in flight keeps the activation from being suspended")
	h.mu.Unlock()
	g.m.RequestEvict()
	g.m.Deliver(v, Settlement{Value: value(t, 1)})
	close(release)
	g.wait(t)
	assert.True(t, g.returned, "an unobserved future keeps the guest resident")
	assert.Equal(t, tuple(t, "x"), g.result)
}

func TestRevokedGuestCannotActFromDefersOrRecover(t *testing.T) {
	h := newHost()
	g := start(h, logOf(callEntry("Echo", tuple(t, "a"), tuple(t, "a"))), func(g *Membrane) ([]byte, error) {
		defer call(g, host, "Echo", tuple(t, "outer defer"))
		defer func() { panic("a panic on the way out") }()
		defer func() {
			recover()
			call(g, host, "Echo", tuple(t, "after recover"))
		}()
		return call(g, host, "Add", tuple(t, 1, 2)), nil // diverges
	})
	g.wait(t)
	calls, appended, failed := h.snapshot()
	require.Len(t, failed, 1, "the first failure is the one recorded")
	assert.Equal(t, "other-call", string(failed[0].Problem))
	assert.Empty(t, calls)
	assert.Empty(t, appended)
	assert.False(t, g.returned)
}

// blocked is a Commit that becomes durable when released, or fails.
type blocked struct {
	release chan struct{}
	err     error
}

func (b *blocked) Wait() error { <-b.release; return b.err }

func TestEffectsWaitForWhatTheGuestLearned(t *testing.T) {
	h := newHost()
	c := &blocked{release: make(chan struct{})}
	h.commit = func() Commit { return c }
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		g.Now() // information from the world
		return call(g, host, "Echo", tuple(t, "effect")), nil
	})
	time.Sleep(20 * time.Millisecond)
	calls, _, _ := h.snapshot()
	assert.Empty(t, calls, "no effect before the reading it may depend on is durable")
	close(c.release)
	g.wait(t)
	calls, _, _ = h.snapshot()
	assert.Len(t, calls, 1)

	// A store that fails: the guest leaves, with no failure recorded.
	h = newHost()
	c = &blocked{release: make(chan struct{}), err: errors.New("disk full")}
	close(c.release)
	h.commit = func() Commit { return c }
	g = start(h, nil, func(g *Membrane) ([]byte, error) {
		g.Now()
		return call(g, host, "Echo", tuple(t, "effect")), nil
	})
	g.wait(t)
	calls, _, failed := h.snapshot()
	assert.Empty(t, calls)
	assert.Empty(t, failed)
	assert.False(t, g.returned)

	// An append refused (cancelled, shutting down): the guest leaves.
	h = newHost()
	h.commit = func() Commit { return nil }
	g = start(h, nil, func(g *Membrane) ([]byte, error) { g.Now(); return nil, nil })
	g.wait(t)
	assert.False(t, g.returned)
	_, _, failed = h.snapshot()
	assert.Empty(t, failed)
}

func TestNames(t *testing.T) {
	assert.Equal(t, []string{"call", "issue", "result", "vow", "marker", "kind(9)"},
		[]string{KindCall.String(), KindIssue.String(), KindResult.String(), KindVow.String(), KindMarker.String(), Kind(9).String()})
	assert.Equal(t, []string{"replaying", "running", "parked", "done", "mode(7)"},
		[]string{ModeReplaying.String(), ModeRunning.String(), ModeParked.String(), ModeDone.String(), Mode(7).String()})
	assert.Equal(t, []string{"vow", "future", "host-failed", "evict", "stop", "event(0)"},
		[]string{evVow.String(), evFuture.String(), evHostFailed.String(), evEvict.String(), evStop.String(), eventKind(0).String()})
	assert.Contains(t, Describe(Entry{Kind: KindVow, Payload: []byte{0xff}}), "corrupt entry of kind 4")
}
