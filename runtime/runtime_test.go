package runtime_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

type flowFunc = func(fc flow.Context, h testkit.Teller, a string) (string, error)

// env is one incarnation of a host program, in this process.
type env struct {
	t    *testing.T
	path string
	rt   *runtime.Runtime
	host *testkit.Recorder
	h    testkit.Handle[string, string]
}

// incarnation opens the store at path as a new incarnation running f as the
// flow "test.F" and, if set, g as "test.G".
func incarnation(t *testing.T, path string, build string, opts runtime.Options, f flowFunc) *env {
	t.Helper()
	opts.Build = build
	if opts.ReplayStall == 0 {
		opts.ReplayStall = 10 * time.Second
	}
	rt, err := runtime.Open(t.Context(), path, opts)
	require.NoError(t, err)
	e := &env{t: t, path: path, rt: rt}
	e.host = &testkit.Recorder{NewVow: rt.NewVow}
	testkit.ProvideTeller(rt, "host", e.host)
	e.h = testkit.Register(rt, "test.F", f)
	require.NoError(t, rt.Start(t.Context()))
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	return e
}

func (e *env) close() {
	e.t.Helper()
	require.NoError(e.t, e.rt.Close(e.t.Context()))
}

func (e *env) start(arg string) flow.Vow[string] {
	e.t.Helper()
	v, err := e.h.Start(e.t.Context(), testkit.TellerRef("host"), arg)
	require.NoError(e.t, err)
	return v
}

func (e *env) wait(v flow.Vow[string]) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 20*time.Second)
	defer cancel()
	return runtime.Wait(ctx, e.rt, v)
}

// eventually waits for cond.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (e *env) waitState(id flow.ActivationID, want runtime.State) runtime.ActivationInfo {
	e.t.Helper()
	var info runtime.ActivationInfo
	eventually(e.t, func() bool {
		var err error
		info, err = e.rt.Admin().Get(e.t.Context(), id)
		require.NoError(e.t, err)
		return info.State == want
	}, "state "+string(want))
	return info
}

// only returns the single activation in the store.
func (e *env) only() runtime.ActivationInfo {
	e.t.Helper()
	list, err := e.rt.Admin().List(e.t.Context(), runtime.ListOptions{})
	require.NoError(e.t, err)
	require.Len(e.t, list, 1)
	return list[0]
}

func (e *env) ask(q, answer string) {
	e.t.Helper()
	var id flow.VowID
	eventually(e.t, func() bool {
		var ok bool
		id, ok = e.host.Asked(q)
		return ok
	}, "question "+q)
	require.NoError(e.t, runtime.Resolve(e.t.Context(), e.rt, flow.VowOf[string](id), answer))
}

func tempStore(t *testing.T) string { return filepath.Join(t.TempDir(), "app.db") }

func TestFlowRunsToCompletion(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		s, err := h.Echo(fc, a)
		if err != nil {
			return "", err
		}
		n, err := h.Add(fc, 40, 2)
		if err != nil {
			return "", err
		}
		r, err := h.Save(fc, testkit.Record{Name: s, Amount: n})
		if err != nil {
			return "", err
		}
		return r.Name + ":" + r.Tags[0], nil
	})
	v := e.start("hello")
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "hello:saved", got)
	assert.Equal(t, []string{"Echo", "Add", "Save"}, e.host.Methods())

	info := e.only()
	assert.Equal(t, runtime.StateDone, info.State)
	log, err := e.rt.Admin().Log(t.Context(), info.ID)
	require.NoError(t, err)
	assert.Empty(t, log, "a done activation's log is deleted")

	// Idempotency keys: activation, call index, target and method.
	calls := e.host.Calls()
	assert.Equal(t, info.ID.String()+"/0/host.Echo", calls[0].Key)
	assert.Equal(t, info.ID.String()+"/2/host.Save", calls[2].Key)
}

func TestSuspendAndReplayAfterRestart(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		greeting, err := h.Echo(fc, "hi "+a)
		if err != nil {
			return "", err
		}
		v, err := h.Ask(fc, "approve "+a)
		if err != nil {
			return "", err
		}
		answer, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		n, err := h.Add(fc, 1, 2)
		if err != nil {
			return "", err
		}
		return greeting + " " + answer + " " + flow.Now(fc).UTC().Format("2006") + string(rune('0'+n)), nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	v := e1.start("ann")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	vowID, ok := e1.host.Asked("approve ann")
	require.True(t, ok)
	e1.close()

	// A new incarnation does not load the sleeping activation at Start.
	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	info, err := e2.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, info.State)
	assert.False(t, info.Resident)
	assert.Equal(t, []flow.VowID{vowID}, info.Waits)

	// Settling the vow replays it: logged calls are answered from the log.
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](vowID), "yes"))
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "hi ann yes "+time.Now().UTC().Format("2006")+"3", got)
	assert.Equal(t, []string{"Add"}, e2.host.Methods(), "only the unlogged call reaches the host")
}

func TestErrorsCrossAndKeepTheirIdentity(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		err := h.Fail(fc, "denied")
		if !errors.Is(err, testkit.ErrDenied) {
			return "", errors.New("lost identity: " + err.Error())
		}
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		if _, err := flow.Await(fc, v); err != nil {
			return "", err // a rejection, returned as the flow's error
		}
		return "unreachable", nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	v := e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	vowID, ok := e1.host.Asked("q") // made in the first incarnation
	require.True(t, ok)
	require.NoError(t, e2.rt.Reject(t.Context(), vowID, errors.Join(errors.New("manager said no"), testkit.ErrDenied)))
	_, err := e2.wait(v)
	require.Error(t, err)
	assert.ErrorIs(t, err, testkit.ErrDenied, "after replay, in the outcome")
	assert.Contains(t, err.Error(), "manager said no")
	var re *runtime.RejectionError
	assert.ErrorAs(t, err, &re)
	assert.Empty(t, e2.host.Calls(), "replay makes no host call")
}

func TestTimersSurviveRestart(t *testing.T) {
	path := tempStore(t)
	clock := clocktest.New(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		start := flow.Now(fc)
		flow.Sleep(fc, 48*time.Hour)
		end := flow.Now(fc)
		return end.Sub(start).String(), nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{Clock: clock}, body)
	v := e1.start("")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	clock.Advance(47 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, runtime.StateSuspended, e1.waitState(id, runtime.StateSuspended).State)
	e1.close()

	clock.Advance(2 * time.Hour) // the deadline passes while no process runs
	e2 := incarnation(t, path, "b2", runtime.Options{Clock: clock}, body)
	got, err := e2.wait(flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "49h0m0s", got)
}

func TestRaceAndAllLogSettlementOrder(t *testing.T) {
	path := tempStore(t)
	release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{}), "c": make(chan struct{})}
	hook := func(ctx context.Context, method string, args ...any) error {
		if method == "Echo" {
			if ch, ok := release[args[0].(string)]; ok {
				<-ch
			}
		}
		return nil
	}
	body := func(fc flow.Context, h testkit.Teller, _ string) (string, error) {
		async := testkit.AsyncTeller(h)
		fa, fb, fc2 := async.Echo(fc, "a"), async.Echo(fc, "b"), async.Echo(fc, "c")
		winner := flow.Race(fc, fa, fb, fc2)
		if err := flow.All(fc, fa, fb, fc2); err != nil {
			return "", err
		}
		a, _ := flow.Await(fc, fa)
		b, _ := flow.Await(fc, fb)
		c, _ := flow.Await(fc, fc2)
		q, err := h.Ask(fc, "done?")
		if err != nil {
			return "", err
		}
		if _, err := flow.Await(fc, q); err != nil {
			return "", err
		}
		return string("abc"[winner]) + a + b + c, nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	e1.host.Hook = hook
	v := e1.start("")
	id := e1.only().ID
	eventually(t, func() bool { return len(e1.host.Calls()) == 3 }, "three calls issued")
	logged := func(n int) func() bool {
		return func() bool {
			log, err := e1.rt.Admin().Log(t.Context(), id)
			return err == nil && len(log) >= n
		}
	}
	close(release["b"])
	eventually(t, logged(4), "b's settlement logged")
	close(release["c"])
	eventually(t, logged(5), "c's settlement logged")
	close(release["a"])
	e1.waitState(id, runtime.StateSuspended)
	log, err := e1.rt.Admin().Log(t.Context(), id)
	require.NoError(t, err)
	var texts []string
	for _, l := range log {
		texts = append(texts, l.Text)
	}
	require.Len(t, texts, 7)
	assert.Contains(t, texts[3], "future#2 settled", "b won the race")
	assert.Contains(t, texts[4], "future#3 settled", "then c")
	assert.Contains(t, texts[5], "future#1 settled", "then a")
	e1.close()

	// Replay: the host is not called, and the logged winner wins again.
	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	done, ok := e1.host.Asked("done?")
	require.True(t, ok)
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](done), "yes"))
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "babc", got)
	assert.Empty(t, e2.host.Calls())
}

func TestUnobservedFuturesAreReissuedWithTheirKeys(t *testing.T) {
	path := tempStore(t)
	block := make(chan struct{})
	body := func(fc flow.Context, h testkit.Teller, _ string) (string, error) {
		f := testkit.AsyncTeller(h).Echo(fc, "slow")
		s, err := flow.Await(fc, f)
		return s, err
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	e1.host.Hook = func(ctx context.Context, method string, args ...any) error {
		select {
		case <-block:
		case <-ctx.Done(): // shutdown cuts the call short
		}
		return ctx.Err()
	}
	v := e1.start("")
	eventually(t, func() bool { return len(e1.host.Calls()) == 1 }, "the call")
	key := e1.host.Calls()[0].Key
	e1.close() // the call is cut short and not logged

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "slow", got)
	require.Len(t, e2.host.Calls(), 1)
	assert.Equal(t, key, e2.host.Calls()[0].Key, "re-issued with the same idempotency key")
}

func TestStartWithIDIsAtMostOnce(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	v1, err := e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	v2, err := e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	assert.Equal(t, v1.ID(), v2.ID())
	_, err = e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "y")
	assert.ErrorIs(t, err, runtime.ErrStartConflict)
	got, err := e.wait(v1)
	require.NoError(t, err)
	assert.Equal(t, "x", got)
	// Even after it finished.
	v3, err := e.h.StartWithID(t.Context(), "order-1", testkit.TellerRef("host"), "x")
	require.NoError(t, err)
	assert.Equal(t, v1.ID(), v3.ID())
	assert.Len(t, e.host.Calls(), 1)
	assert.Equal(t, "order-1", e.only().StartKey)
}

func TestCancel(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		defer func() { _, _ = h.Echo(fc, "cleanup") }() // a crossing from a defer after cancellation
		return flow.Await(fc, v)
	})
	v := e.start("")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	require.NoError(t, e.rt.Admin().Cancel(t.Context(), id))
	_, err := e.wait(v)
	assert.ErrorIs(t, err, flow.ErrCancelled)
	info := e.waitState(id, runtime.StateDone)
	assert.False(t, info.Resident)
	log, _ := e.rt.Admin().Log(t.Context(), id)
	assert.Empty(t, log)
	assert.Equal(t, []string{"Ask"}, e.host.Methods(), "the deferred call never reaches the host")
	assert.ErrorIs(t, e.rt.Admin().Cancel(t.Context(), id), runtime.ErrFinished)
	assert.ErrorIs(t, e.rt.Admin().Cancel(t.Context(), flow.NewActivationID()), runtime.ErrUnknownActivation)
}

func TestResidencyEvictsAndRevives(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{MaxResident: 2}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, a)
		if err != nil {
			return "", err
		}
		ans, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		return h.Echo(fc, a+"="+ans)
	})
	var vows []flow.Vow[string]
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		vows = append(vows, e.start(n))
	}
	eventually(t, func() bool {
		list, err := e.rt.Admin().List(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
		require.NoError(t, err)
		resident := 0
		for _, i := range list {
			if i.Resident {
				resident++
			}
		}
		return len(list) == 5 && resident <= 2
	}, "five suspended, at most two resident")
	for _, n := range names {
		e.ask(n, "ok")
	}
	for i, v := range vows {
		got, err := e.wait(v)
		require.NoError(t, err)
		assert.Equal(t, names[i]+"=ok", got)
	}
	// Each Ask reached the host once: evicted activations replayed it.
	asks := 0
	for _, m := range e.host.Methods() {
		if m == "Ask" {
			asks++
		}
	}
	assert.Equal(t, 5, asks)
}

func TestUnregisteredFlowsAreLeftAlone(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, a)
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	})
	e1.start("x")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	// An incarnation that registers no flow at all.
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: "b2"})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	require.NoError(t, rt.Start(t.Context()))
	un, err := rt.Admin().Unregistered(t.Context())
	require.NoError(t, err)
	require.Len(t, un, 1)
	assert.Equal(t, id, un[0].ID)
	assert.False(t, un[0].Registered)
	n, err := rt.Admin().WakeAll(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestBadInputGetsClearErrors(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return a, nil
	})
	ctx := t.Context()
	_, err := runtime.Wait(ctx, e.rt, flow.VowOf[string](flow.NewVowID()))
	assert.ErrorIs(t, err, runtime.ErrUnknownVow)
	assert.ErrorIs(t, runtime.Resolve(ctx, e.rt, flow.VowOf[int](flow.NewVowID()), 1), runtime.ErrUnknownVow)
	v, err := runtime.NewVow[int](ctx, e.rt)
	require.NoError(t, err)
	require.NoError(t, runtime.Resolve(ctx, e.rt, v, 7))
	assert.ErrorIs(t, runtime.Resolve(ctx, e.rt, v, 8), runtime.ErrAlreadySettled)
	n, err := runtime.Wait(ctx, e.rt, v)
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	assert.ErrorIs(t, e.rt.Admin().Retry(ctx, flow.NewActivationID()), runtime.ErrUnknownActivation)
	assert.ErrorIs(t, e.rt.Start(ctx), runtime.ErrStarted)

	var bad flow.Vow[string]
	_, err = runtime.Wait(ctx, e.rt, bad)
	assert.ErrorIs(t, err, runtime.ErrUnknownVow)

	// A store another process holds.
	_, err = runtime.Open(ctx, e.path, runtime.Options{})
	assert.ErrorIs(t, err, store.ErrLocked)
}
