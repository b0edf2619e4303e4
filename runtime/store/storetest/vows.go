package storetest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var vowCases = []testCase{
	{"SettleVowOnce", func(t *testing.T, h *harness) {
		v := flow.NewVowID()
		h.apply(&store.CreateVow{ID: v, Gen: 2})
		sameVow(t, store.Vow{ID: v, State: store.VowPending, Gen: 2}, h.getVow(v))

		s := &store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("yes"), Gen: 3}
		h.apply(s)
		assert.True(t, s.Settled)
		assert.False(t, s.Missing)
		assert.Empty(t, s.Waiters)
		want := store.Vow{ID: v, State: store.VowFulfilled, Payload: []byte("yes"), Gen: 3}
		sameVow(t, want, h.getVow(v))

		again := &store.SettleVow{ID: v, State: store.VowRejected, Payload: []byte("no"), Gen: 4}
		h.apply(again)
		assert.False(t, again.Settled, "a vow settles once")
		assert.False(t, again.Missing)
		sameVow(t, want, h.getVow(v), "the second settlement changes nothing")

		r := h.vow(2)
		rej := &store.SettleVow{ID: r, State: store.VowRejected, Payload: []byte("denied"), Gen: 3}
		h.apply(rej)
		assert.True(t, rej.Settled)
		sameVow(t, store.Vow{ID: r, State: store.VowRejected, Payload: []byte("denied"), Gen: 3}, h.getVow(r))

		missing := &store.SettleVow{ID: flow.NewVowID(), State: store.VowFulfilled, Gen: 3}
		h.apply(missing)
		assert.True(t, missing.Missing)
		assert.False(t, missing.Settled)
		_, err := h.s.Vow(t.Context(), missing.ID)
		assert.ErrorIs(t, err, store.ErrNotFound, "settling creates nothing")
	}},
	{"SettleVowOnceConcurrently", func(t *testing.T, h *harness) {
		v := h.vow(1)
		const n = 16
		ops := make([]*store.SettleVow, n)
		var wg sync.WaitGroup
		for i := range ops {
			ops[i] = &store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte{byte(i)}, Gen: 1}
			wg.Go(func() { assert.NoError(t, store.Apply(t.Context(), h.s, ops[i])) })
		}
		wg.Wait()
		winners := 0
		for _, op := range ops {
			if op.Settled {
				winners++
				sameVow(t, store.Vow{ID: v, State: store.VowFulfilled, Payload: op.Payload, Gen: 1}, h.getVow(v), "the winner's value")
			}
		}
		assert.Equal(t, 1, winners, "exactly one settlement wins")
	}},
	{"VowKinds", func(t *testing.T, h *harness) {
		// A vow's kind says what may settle it: with HostOnly, a settlement
		// leaves an outcome or a timer as it is.
		a := h.create("test.F", 1)
		timer, host := flow.NewVowID(), flow.NewVowID()
		h.apply(&store.CreateVow{ID: timer, Kind: store.TimerVow, Gen: 1, Deadline: base},
			&store.CreateVow{ID: host, Gen: 1})
		h.restart() // kinds are durable
		for id, want := range map[flow.VowID]store.VowKind{a.Outcome: store.OutcomeVow, timer: store.TimerVow, host: store.HostVow} {
			assert.Equal(t, want, h.getVow(id).Kind, "%s", want)
		}
		for _, id := range []flow.VowID{a.Outcome, timer} {
			op := &store.SettleVow{ID: id, State: store.VowFulfilled, Payload: []byte("forged"), Gen: 2, HostOnly: true}
			h.apply(op)
			assert.False(t, op.Settled, "%s", op.Kind)
			assert.False(t, op.Missing)
			assert.Equal(t, store.VowPending, h.getVow(id).State, "a %s is left as it is", op.Kind)
		}
		op := &store.SettleVow{ID: host, State: store.VowFulfilled, Payload: []byte("v"), Gen: 2, HostOnly: true}
		h.apply(op)
		assert.True(t, op.Settled)
		assert.Equal(t, store.HostVow, op.Kind)
		missing := &store.SettleVow{ID: flow.NewVowID(), State: store.VowFulfilled, Gen: 2, HostOnly: true}
		h.apply(missing)
		assert.True(t, missing.Missing)
		assert.False(t, missing.Settled)

		// Without HostOnly any pending vow settles; the timer still fires
		// only once.
		fin := &store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("real"), Gen: 2}
		h.apply(fin)
		assert.True(t, fin.Finished)
		sameVow(t, store.Vow{ID: a.Outcome, Kind: store.OutcomeVow, State: store.VowFulfilled, Payload: []byte("real"), Gen: 2}, h.getVow(a.Outcome))
		require.Len(t, h.fire(base, 0), 1)
		assert.Equal(t, store.VowFulfilled, h.getVow(timer).State)
	}},
	{"CreateVowDuplicate", func(t *testing.T, h *harness) {
		v := h.vow(1)
		h.apply(&store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("v"), Gen: 1})
		err := store.Apply(t.Context(), h.s, &store.CreateVow{ID: v, Gen: 2})
		assert.ErrorIs(t, err, store.ErrRefused, "an id that exists fails, for good")
		sameVow(t, store.Vow{ID: v, State: store.VowFulfilled, Payload: []byte("v"), Gen: 1}, h.getVow(v), "and changes nothing")
	}},
	{"SettleVowWakesWaiters", func(t *testing.T, h *harness) {
		v1, v2 := h.vow(1), h.vow(1)
		suspended, running, failed := h.create("test.S", 1), h.create("test.R", 1), h.create("test.F", 1)
		h.apply(&store.Watch{Act: suspended.ID, Vows: []flow.VowID{v1, v2}, Suspend: true, Gen: 1},
			&store.Watch{Act: running.ID, Vows: []flow.VowID{v2}, Gen: 1},
			&store.Watch{Act: failed.ID, Vows: []flow.VowID{v2}, Gen: 1},
			&store.SetState{Act: failed.ID, State: store.Failed, Failure: []byte("x"), Gen: 1})

		s := &store.SettleVow{ID: v2, State: store.VowFulfilled, Payload: []byte("go"), Gen: 5}
		h.apply(s)
		assert.True(t, s.Settled)
		assert.ElementsMatch(t, []flow.ActivationID{suspended.ID, running.ID, failed.ID}, s.Waiters)
		a := h.activation(suspended.ID)
		assert.Equal(t, store.Running, a.State, "a suspended waiter becomes running")
		assert.Equal(t, int64(5), a.Gen)
		assert.Equal(t, store.Running, h.state(running.ID))
		assert.Equal(t, store.Failed, h.state(failed.ID), "a failed waiter stays failed")
		for _, id := range []flow.ActivationID{suspended.ID, running.ID, failed.ID} {
			assert.Empty(t, h.waits(id), "every wait of a woken waiter is removed, on other vows too")
		}

		other := &store.SettleVow{ID: v1, State: store.VowFulfilled, Gen: 5}
		h.apply(other)
		assert.True(t, other.Settled)
		assert.Empty(t, other.Waiters, "the waiter's other wait went with the first settlement")
	}},
}

var watchCases = []testCase{
	{"WatchPending", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		v1, v2 := h.vow(1), h.vow(1)
		w := &store.Watch{Act: a.ID, Vows: []flow.VowID{v1, v2}, Suspend: true, Gen: 5}
		h.apply(w)
		assert.Equal(t, -1, w.Index)
		assert.Equal(t, -1, w.Missing)
		got := h.activation(a.ID)
		assert.Equal(t, store.Suspended, got.State)
		assert.Equal(t, int64(5), got.Gen)
		assert.Equal(t, sortedVows(v1, v2), h.waits(a.ID), "in id order")

		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{v2, v1}, Suspend: true, Gen: 6})
		assert.Equal(t, sortedVows(v1, v2), h.waits(a.ID), "a wait is recorded once")
	}},
	{"WatchWithoutSuspend", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		v := h.vow(1)
		w := &store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Gen: 2}
		h.apply(w)
		assert.Equal(t, -1, w.Index)
		assert.Equal(t, -1, w.Missing)
		got := h.activation(a.ID)
		assert.Equal(t, store.Running, got.State)
		assert.Equal(t, int64(1), got.Gen, "no state change")
		assert.Equal(t, []flow.VowID{v}, h.waits(a.ID))
	}},
	{"WatchSuspendsOnlyRunning", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte("x"), Gen: 1})
		v := h.vow(1)
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 2})
		assert.Equal(t, store.Failed, h.state(a.ID))
		assert.Equal(t, []flow.VowID{v}, h.waits(a.ID))
	}},
	{"WatchSettled", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		pending, fulfilled, rejected := h.vow(1), h.vow(1), h.vow(1)
		h.apply(&store.SettleVow{ID: fulfilled, State: store.VowFulfilled, Payload: []byte("f"), Gen: 2},
			&store.SettleVow{ID: rejected, State: store.VowRejected, Payload: []byte("r"), Gen: 3})

		w := &store.Watch{Act: a.ID, Vows: []flow.VowID{pending, fulfilled, rejected}, Suspend: true, Gen: 4}
		h.apply(w)
		assert.Equal(t, 1, w.Index, "the first settled, in Vows order")
		assert.Equal(t, -1, w.Missing)
		sameVow(t, store.Vow{ID: fulfilled, State: store.VowFulfilled, Payload: []byte("f"), Gen: 2}, w.Vow)
		assert.Equal(t, store.Running, h.state(a.ID), "not suspended")
		assert.Empty(t, h.waits(a.ID), "nothing recorded")

		w = &store.Watch{Act: a.ID, Vows: []flow.VowID{rejected, fulfilled}, Suspend: true, Gen: 4}
		h.apply(w)
		assert.Equal(t, 0, w.Index)
		sameVow(t, store.Vow{ID: rejected, State: store.VowRejected, Payload: []byte("r"), Gen: 3}, w.Vow)
	}},
	{"WatchMissing", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		pending, settled := h.vow(1), h.vow(1)
		h.apply(&store.SettleVow{ID: settled, State: store.VowFulfilled, Gen: 1})
		for _, vows := range [][]flow.VowID{
			{pending, flow.NewVowID(), flow.NewVowID()},
			{settled, flow.NewVowID()},
		} {
			w := &store.Watch{Act: a.ID, Vows: vows, Suspend: true, Gen: 2}
			h.apply(w)
			assert.Equal(t, 1, w.Missing, "the first missing vow")
			assert.Equal(t, -1, w.Index, "a missing vow comes before a settled one")
			assert.Equal(t, store.Running, h.state(a.ID), "nothing recorded")
			assert.Empty(t, h.waits(a.ID), "nothing recorded")
		}
	}},
	{"WatchWithinSubmission", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		v := flow.NewVowID()
		settle := &store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("now"), Gen: 1}
		w := &store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1}
		h.apply(&store.CreateVow{ID: v, Gen: 1}, settle, w)
		assert.True(t, settle.Settled, "ops of a submission apply in order")
		assert.Equal(t, 0, w.Index)
		assert.Equal(t, []byte("now"), w.Vow.Payload)
	}},
}
