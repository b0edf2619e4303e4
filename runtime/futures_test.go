package runtime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

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

// A flow that returns without awaiting a call it issued: its outcome waits
// for the call, so a process that dies before the call is made leaves the
// activation unfinished, and the next incarnation makes the call, with its
// key, before settling the outcome.
func TestAFutureNeverAwaitedIsMadeBeforeTheOutcome(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, _ string) (string, error) {
		testkit.AsyncTeller(h).Echo(fc, "fire and forget")
		return "returned", nil
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	e1.host.Hook = func(ctx context.Context, method string, args ...any) error {
		<-ctx.Done() // the process goes down before the call is made
		return ctx.Err()
	}
	v := e1.start("")
	id := e1.only().ID
	eventually(t, func() bool { return len(e1.host.Calls()) == 1 }, "the call")
	key := e1.host.Calls()[0].Key
	info, err := e1.rt.Admin().Get(t.Context(), id)
	require.NoError(t, err)
	assert.NotEqual(t, runtime.StateDone, info.State, "the outcome waits for the call the flow issued")
	e1.close()

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "returned", got)
	calls := e2.host.Calls()
	require.Len(t, calls, 1, "the call is made again, once")
	assert.Equal(t, key, calls[0].Key, "with its idempotency key")
	log, err := e2.rt.Admin().Log(t.Context(), id)
	require.NoError(t, err)
	assert.Empty(t, log)
}
