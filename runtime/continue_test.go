package runtime_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// countdownIncarnation is an incarnation that also runs testkit.Countdown.
func countdownIncarnation(t *testing.T, path, build string) (*env, testkit.CountdownHandle) {
	var h testkit.CountdownHandle
	e := incarnation(t, path, build, runtime.Options{}, v1, func(e *env) { h = testkit.RegisterCountdown(e.rt) })
	return e, h
}

func keysOf(calls []testkit.Call) map[string]string {
	out := map[string]string{}
	for _, c := range calls {
		out[c.Args] = c.Key
	}
	return out
}

// TestContinueAsNew runs testkit.Countdown, which continues as new once a
// number: each run has a log of its own, from step 0, and keys of its own;
// a vow passed to the next run carries over; a call a run never awaited is
// made before the next run starts, and again after a restart if the run it
// belongs to is replayed.
func TestContinueAsNew(t *testing.T) {
	path := tempStore(t)
	e1, cd := countdownIncarnation(t, path, "b1")
	v, err := cd.Start(t.Context(), testkit.TellerRef("host"), 4, flow.Vow[string]{}, "")
	require.NoError(t, err)
	id := e1.only().ID
	eventually(t, func() bool { _, ok := e1.host.Asked("two?"); return ok }, "the question of the run at 2")
	info := e1.waitState(id, runtime.StateSuspended)
	assert.Equal(t, 3, info.Run, "runs 4, 3, 2 continued as new; the run at 1 waits")
	assert.Equal(t, info.Outcome, v.ID(), "the outcome stays the activation's")
	log := e1.logTexts(id)
	require.Len(t, log, 2, "the log is the current run's alone")
	assert.Equal(t, `go service("host").Echo("fire 1") as future#1`, log[0])
	assert.Equal(t, `service("host").Echo("1") → ["1"]`, log[1])
	assert.Len(t, info.Waits, 1, "it waits for the vow the run before carried over")

	keys := keysOf(e1.host.Calls())
	for _, n := range []string{"4", "3", "2", "1"} {
		require.Contains(t, keys, "fire "+n, "the call the run at %s never awaited was made", n)
	}
	order := map[string]int{}
	for i, c := range e1.host.Calls() {
		order[c.Args] = i
	}
	assert.Less(t, order["fire 4"], order["fire 3"], "before the next run started")
	assert.Less(t, order["fire 3"], order["fire 2"])
	assert.Equal(t, id.String()+"/1/host.Echo", keys["4"], "the first run's keys are as ever")
	assert.Equal(t, id.String()+"~3/1/host.Echo", keys["1"], "a later run's keys carry its number")
	distinct := map[string]bool{}
	for _, k := range keys {
		distinct[k] = true
	}
	assert.Len(t, distinct, len(keys), "no two runs share a key")
	fire1 := keys["fire 1"]
	e1.close()

	// The next incarnation replays the run at 1 alone, and goes on.
	e2, _ := countdownIncarnation(t, path, "b2")
	asked, _ := e1.host.Asked("two?")
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "go"))
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "liftoff after go", got)
	keys = keysOf(e2.host.Calls())
	assert.Equal(t, fire1, keys["fire 1"], "the replayed run's unawaited call is made again, with its key")
	assert.NotContains(t, keys, "1", "what the replayed run logged is not made again")
	assert.Contains(t, keys, "0")
	info, err = e2.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateDone, info.State)
	assert.Equal(t, 4, info.Run)
}

// A flow continues as new as itself: the continuation of another flow
// fails the activation.
func TestContinueAsAnotherFlowFails(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return "", testkit.ContinueCountdownAsNew(fc, h, 1, flow.Vow[string]{}, a)
	})
	e.start("x")
	info := e.waitState(e.only().ID, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.True(t, strings.Contains(info.Failure.Detail, "flow test.F returned the continuation of flow testkit.Countdown"), info.Failure.Detail)
	assert.Equal(t, 0, info.Run)
}

// A run that asked for a message and continued as new without it leaves
// nothing in the way: the message goes to the next run. One whose message
// had arrived, unread, would lose it: the continuation is refused, saying
// so.
func TestContinueAsNewAndMailboxes(t *testing.T) {
	var h testkit.ListenHandle
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, v1, func(e *env) { h = testkit.RegisterListen(e.rt) })
	v, err := h.StartWithID(t.Context(), "carried", testkit.TellerRef("host"), 1)
	require.NoError(t, err)
	a, err := e.rt.Admin().Find(t.Context(), "carried")
	require.NoError(t, err)
	info := e.waitState(a.ID, runtime.StateSuspended)
	assert.Equal(t, 1, info.Run, "run 0 asked for a message and continued as new")
	require.NoError(t, h.ByKey("carried").SendInbox(t.Context(), "hello"))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "hello", got, "the message reached the next run")

	// A message that arrived for a run, which continues without reading it.
	release := make(chan struct{})
	e2 := incarnation(t, tempStore(t), "b1", runtime.Options{}, v1, func(e *env) {
		h = testkit.RegisterListen(e.rt)
		e.host.Hook = func(ctx context.Context, method string, args ...any) error {
			<-release
			return nil
		}
	})
	_, err = h.StartWithID(t.Context(), "lost", testkit.TellerRef("host"), 1)
	require.NoError(t, err)
	eventually(t, func() bool { return len(e2.host.Calls()) == 1 }, "the first call")
	require.NoError(t, h.ByKey("lost").SendInbox(t.Context(), "early"))
	close(release)
	a, err = e2.rt.Admin().Find(t.Context(), "lost")
	require.NoError(t, err)
	info = e2.waitState(a.ID, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Equal(t, diag.Illegal, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, `a message of signal "inbox" arrived for this run, which never read it`)
	assert.Equal(t, 0, info.Run, "nothing was continued")
}
