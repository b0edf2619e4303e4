package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var lifecycleCases = []testCase{
	{"Check", func(t *testing.T, h *harness) {
		h.create("test.F", 1)
		assert.NoError(t, h.s.Check(t.Context()))
	}},
	{"ReadsAfterReopen", func(t *testing.T, h *harness) {
		ctx := t.Context()
		g1, err := h.s.BeginIncarnation(ctx, "build-1", 1)
		require.NoError(t, err)

		running := h.create("test.R", g1)
		entries := []store.Entry{{Step: 0, Kind: 1, Gen: g1, Payload: []byte("a")}, {Step: 1, Kind: 5, Gen: g1, Payload: []byte{}}}
		h.apply(&store.Append{Act: running.ID, Entry: entries[0]}, &store.Append{Act: running.ID, Entry: entries[1]})
		suspended := h.create("test.S", g1)
		asked := h.vow(g1)
		timer := flow.NewVowID()
		h.apply(&store.CreateVow{ID: timer, Gen: g1, Deadline: base},
			&store.Watch{Act: suspended.ID, Vows: []flow.VowID{asked, timer}, Suspend: true, Gen: g1})
		suspended.State = store.Suspended
		failed := h.create("test.F", g1)
		h.apply(&store.SetState{Act: failed.ID, State: store.Failed, Failure: []byte(`{"problem":"stalled"}`), Gen: g1})
		failed.State, failed.Failure = store.Failed, []byte(`{"problem":"stalled"}`)
		done := h.create("test.D", g1)
		h.apply(&store.Finish{Act: done.ID, State: store.VowRejected, Payload: []byte("no"), Gen: g1})
		done.State = store.Done
		settled := h.vow(g1)
		h.apply(&store.SettleVow{ID: settled, State: store.VowFulfilled, Payload: []byte("v"), Gen: g1})

		h.restart()

		g2, err := h.s.BeginIncarnation(ctx, "build-2", 2)
		require.NoError(t, err)
		assert.Greater(t, g2, g1, "generations grow across restarts")
		inc, err := h.s.Incarnation(ctx, g1)
		require.NoError(t, err)
		assert.Equal(t, "build-1", inc.Build)

		for _, a := range []store.Activation{running, suspended, failed, done} {
			sameActivation(t, a, h.activation(a.ID), a.Flow)
		}
		sameEntries(t, entries, h.log(running.ID))
		assert.Equal(t, sortedVows(asked, timer), h.waits(suspended.ID))
		sameVow(t, store.Vow{ID: asked, State: store.VowPending, Gen: g1}, h.getVow(asked))
		sameVow(t, store.Vow{ID: settled, State: store.VowFulfilled, Payload: []byte("v"), Gen: g1}, h.getVow(settled))
		sameVow(t, store.Vow{ID: done.Outcome, Kind: store.OutcomeVow, State: store.VowRejected, Payload: []byte("no"), Gen: g1}, h.getVow(done.Outcome))
		next, ok := h.next()
		require.True(t, ok)
		assert.True(t, next.Equal(base), "timers survive: %v", next)
		list, err := h.s.Activations(ctx, store.Filter{})
		require.NoError(t, err)
		assert.Len(t, list, 4)
		revivable := 0
		require.NoError(t, h.s.Revivable(ctx, func(flow.ActivationID, string, store.State) error { revivable++; return nil }))
		assert.Equal(t, 2, revivable)

		// And writes go on where they left off.
		fired := h.fire(base, 0)
		require.Len(t, fired, 1)
		assert.Equal(t, []flow.ActivationID{suspended.ID}, fired[0].Waiters)
		assert.Equal(t, store.Running, h.state(suspended.ID))
		err = store.Apply(ctx, h.s, &store.Append{Act: running.ID, Entry: store.Entry{Step: 1, Kind: 1, Gen: g2, Payload: []byte("dup")}})
		assert.Error(t, err, "the log's steps survive")
		h.apply(&store.Append{Act: running.ID, Entry: store.Entry{Step: 2, Kind: 1, Gen: g2, Payload: []byte("c")}})
		assert.Len(t, h.log(running.ID), 3)
		assert.NoError(t, h.s.Check(ctx))
	}},
	{"Close", func(t *testing.T, h *harness) {
		ctx := t.Context()
		a := h.create("test.F", 1)
		v := h.vow(1)
		var ps []*store.Pending
		for i := range 50 {
			ps = append(ps, h.s.Submit(&store.Append{Act: a.ID, Entry: store.Entry{Step: int64(i), Kind: 1, Gen: 1, Payload: []byte{byte(i)}}}))
		}
		require.NoError(t, h.s.Close(ctx))
		for i, p := range ps {
			assert.NoError(t, p.Wait(), "submission %d, made before Close, commits", i)
		}

		closed := func(err error, what string) {
			t.Helper()
			assert.ErrorIs(t, err, store.ErrClosed, what)
		}
		closed(h.s.Submit(&store.CreateVow{ID: flow.NewVowID(), Gen: 1}).Wait(), "Submit")
		_, err := h.s.BeginIncarnation(ctx, "b", 1)
		closed(err, "BeginIncarnation")
		closed(h.s.Revivable(ctx, func(flow.ActivationID, string, store.State) error { return nil }), "Revivable")
		_, err = h.s.Activation(ctx, a.ID)
		closed(err, "Activation")
		_, err = h.s.Activations(ctx, store.Filter{})
		closed(err, "Activations")
		_, err = h.s.Log(ctx, a.ID)
		closed(err, "Log")
		_, err = h.s.Vow(ctx, v)
		closed(err, "Vow")
		_, err = h.s.Waits(ctx, a.ID)
		closed(err, "Waits")
		_, _, err = h.s.NextDeadline(ctx)
		closed(err, "NextDeadline")
		_, err = h.s.Incarnation(ctx, 1)
		closed(err, "Incarnation")
		closed(h.s.Check(ctx), "Check")
		assert.NoError(t, h.s.Close(ctx), "a second Close returns what the first did")

		h.s = h.track(h.reopen(t, h.s))
		assert.Len(t, h.log(a.ID), 50, "what was submitted before Close is durable")
	}},
	{"CloseWithExpiredContext", func(t *testing.T, h *harness) {
		// With nothing in flight, a context that has ended is no reason to
		// fail: Close closes, and says nothing of commits still in flight.
		ended, cancel := context.WithCancel(t.Context())
		cancel()
		for i := range 8 {
			s := h.s
			if i > 0 {
				s = h.track(h.open(t))
			}
			a := store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Args: []byte{0x08, 0x00}, Outcome: flow.NewVowID(), CreatedGen: 1}
			require.NoError(t, store.Apply(t.Context(), s, &store.CreateActivation{Activation: a},
				&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("x")}}))
			assert.NoError(t, s.Close(ended), "store %d", i)
			again := h.track(h.reopen(t, s))
			log, err := again.Log(t.Context(), a.ID)
			require.NoError(t, err)
			assert.Len(t, log, 1, "store %d", i)
			require.NoError(t, again.Close(t.Context()))
		}
	}},
	{"CancelledContext", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		cancelled := func(err error, what string) {
			t.Helper()
			assert.ErrorIs(t, err, context.Canceled, what)
		}
		_, err := h.s.Activation(ctx, a.ID)
		cancelled(err, "Activation")
		_, err = h.s.Activations(ctx, store.Filter{})
		cancelled(err, "Activations")
		_, err = h.s.Log(ctx, a.ID)
		cancelled(err, "Log")
		_, err = h.s.Vow(ctx, a.Outcome)
		cancelled(err, "Vow")
		_, err = h.s.Waits(ctx, a.ID)
		cancelled(err, "Waits")
		_, _, err = h.s.NextDeadline(ctx)
		cancelled(err, "NextDeadline")
		cancelled(h.s.Revivable(ctx, func(flow.ActivationID, string, store.State) error { return nil }), "Revivable")
		cancelled(store.Apply(ctx, h.s, &store.CreateVow{ID: flow.NewVowID(), Gen: 1}), "Apply")

		// The store is unharmed.
		waitCtx, stop := context.WithTimeout(t.Context(), 10*time.Second)
		defer stop()
		_, err = h.s.Activation(waitCtx, a.ID)
		assert.NoError(t, err)
	}},
}
