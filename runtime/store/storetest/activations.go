package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var incarnationCases = []testCase{
	{"BeginIncarnation", func(t *testing.T, h *harness) {
		ctx := t.Context()
		before := time.Now()
		g1, err := h.s.BeginIncarnation(ctx, "build-1", 11)
		require.NoError(t, err)
		after := time.Now()
		g2, err := h.s.BeginIncarnation(ctx, "build-2", 22)
		require.NoError(t, err)
		assert.Positive(t, g1)
		assert.Greater(t, g2, g1, "generations grow")

		inc, err := h.s.Incarnation(ctx, g1)
		require.NoError(t, err)
		assert.Equal(t, g1, inc.Gen)
		assert.Equal(t, "build-1", inc.Build)
		assert.Equal(t, 11, inc.PID)
		assert.False(t, inc.Started.Before(before.Add(-time.Millisecond)), "started %v, before %v", inc.Started, before)
		assert.False(t, inc.Started.After(after.Add(time.Millisecond)), "started %v, after %v", inc.Started, after)
		inc, err = h.s.Incarnation(ctx, g2)
		require.NoError(t, err)
		assert.Equal(t, "build-2", inc.Build)
		assert.Equal(t, 22, inc.PID)

		_, err = h.s.Incarnation(ctx, g2+1000)
		assert.ErrorIs(t, err, store.ErrNotFound)
	}},
}

var activationCases = []testCase{
	{"CreateActivation", func(t *testing.T, h *harness) {
		want := store.Activation{ID: flow.NewActivationID(), Flow: "test.F", StartKey: "order-1", Args: []byte{8, 1, 2}, Outcome: flow.NewVowID(), CreatedGen: 3}
		op := &store.CreateActivation{Activation: want}
		h.apply(op)
		assert.Nil(t, op.Existing)
		want.State, want.Gen = store.Running, 3
		sameActivation(t, want, h.activation(want.ID))
		sameVow(t, store.Vow{ID: want.Outcome, Kind: store.OutcomeVow, State: store.VowPending, Gen: 3}, h.getVow(want.Outcome), "the outcome vow is created pending")
		assert.Empty(t, h.log(want.ID))
		assert.Empty(t, h.waits(want.ID))

		// Without a start key, and without arguments.
		bare := store.Activation{ID: flow.NewActivationID(), Flow: "test.G", Outcome: flow.NewVowID(), CreatedGen: 3}
		h.apply(&store.CreateActivation{Activation: bare})
		bare.State, bare.Gen = store.Running, 3
		sameActivation(t, bare, h.activation(bare.ID))
	}},
	{"CreateActivationExisting", func(t *testing.T, h *harness) {
		first := store.Activation{ID: flow.NewActivationID(), Flow: "test.F", StartKey: "order-1", Args: []byte{1}, Outcome: flow.NewVowID(), CreatedGen: 1}
		h.apply(&store.CreateActivation{Activation: first})
		first.State, first.Gen = store.Running, 1

		again := &store.CreateActivation{Activation: store.Activation{ID: first.ID, Flow: "test.Other", StartKey: "order-2", Args: []byte{2}, Outcome: flow.NewVowID(), CreatedGen: 2}}
		h.apply(again)
		require.NotNil(t, again.Existing, "an existing id gives the stored activation")
		sameActivation(t, first, *again.Existing)
		sameActivation(t, first, h.activation(first.ID), "the stored activation is unchanged")
		_, err := h.s.Vow(t.Context(), again.Activation.Outcome)
		assert.ErrorIs(t, err, store.ErrNotFound, "no second outcome vow")

		// In one submission: the second sees the first.
		id := flow.NewActivationID()
		a := &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}
		b := &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}
		h.apply(a, b)
		assert.Nil(t, a.Existing)
		require.NotNil(t, b.Existing)
		assert.Equal(t, a.Activation.Outcome, b.Existing.Outcome)

		// Whatever its state: after it is done too.
		h.apply(&store.SetState{Act: first.ID, State: store.Failed, Failure: []byte("stuck"), Gen: 2})
		h.apply(&store.Finish{Act: first.ID, State: store.VowFulfilled, Payload: []byte("ok"), Gen: 3})
		late := &store.CreateActivation{Activation: store.Activation{ID: first.ID, Flow: "test.F", Args: []byte{1}, Outcome: flow.NewVowID(), CreatedGen: 4}}
		h.apply(late)
		require.NotNil(t, late.Existing)
		first.State, first.Gen = store.Done, 3
		sameActivation(t, first, *late.Existing)
	}},
	{"Missing", func(t *testing.T, h *harness) {
		ctx := t.Context()
		_, err := h.s.Activation(ctx, flow.NewActivationID())
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = h.s.Vow(ctx, flow.NewVowID())
		assert.ErrorIs(t, err, store.ErrNotFound)
		assert.Empty(t, h.log(flow.NewActivationID()), "the log of a missing activation is empty")
		assert.Empty(t, h.waits(flow.NewActivationID()))
	}},
	{"AppendAndLog", func(t *testing.T, h *harness) {
		a, b := h.create("test.F", 1), h.create("test.F", 1)
		entries := []store.Entry{
			{Step: 0, Kind: 1, Gen: 1, Payload: []byte("zero")},
			{Step: 1, Kind: 5, Gen: 1, Payload: []byte{}},
			{Step: 2, Kind: 2, Gen: 2, Payload: []byte{0, 0xff, 0}},
			{Step: 3, Kind: 3, Gen: 7, Payload: make([]byte, 64<<10)},
		}
		// Out of step order in one submission, and the rest one by one.
		h.apply(&store.Append{Act: a.ID, Entry: entries[1]}, &store.Append{Act: a.ID, Entry: entries[0]})
		h.apply(&store.Append{Act: a.ID, Entry: entries[2]})
		h.apply(&store.Append{Act: a.ID, Entry: entries[3]})
		h.apply(&store.Append{Act: b.ID, Entry: store.Entry{Step: 0, Kind: 4, Gen: 1, Payload: []byte("b")}})
		sameEntries(t, entries, h.log(a.ID), "in step order")
		sameEntries(t, []store.Entry{{Step: 0, Kind: 4, Gen: 1, Payload: []byte("b")}}, h.log(b.ID), "logs are apart")
	}},
	{"AppendDuplicateStep", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("first")}})
		err := store.Apply(t.Context(), h.s, &store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("second")}})
		assert.ErrorIs(t, err, store.ErrRefused, "a step the log holds fails, for good")
		assert.NotErrorIs(t, err, store.ErrUnavailable)
		sameEntries(t, []store.Entry{{Step: 0, Kind: 1, Gen: 1, Payload: []byte("first")}}, h.log(a.ID))
	}},
	{"SetState", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("x")}})
		h.apply(&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte(`{"problem":"other-call"}`), Gen: 2})
		a.State, a.Gen, a.Failure = store.Failed, 2, []byte(`{"problem":"other-call"}`)
		sameActivation(t, a, h.activation(a.ID))
		assert.Len(t, h.log(a.ID), 1, "the log stays")

		h.apply(&store.SetState{Act: a.ID, State: store.Running, Failure: []byte("ignored"), Gen: 3})
		a.State, a.Gen, a.Failure = store.Running, 3, nil
		sameActivation(t, a, h.activation(a.ID), "the failure is cleared for any other state")

		h.apply(&store.SetState{Act: a.ID, State: store.Suspended, Gen: 4})
		a.State, a.Gen = store.Suspended, 4
		sameActivation(t, a, h.activation(a.ID))

		missing := flow.NewActivationID()
		h.apply(&store.SetState{Act: missing, State: store.Failed, Failure: []byte("x"), Gen: 4})
		_, err := h.s.Activation(t.Context(), missing)
		assert.ErrorIs(t, err, store.ErrNotFound, "SetState creates nothing")
	}},
	{"Finish", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		waiter := h.create("test.W", 1)
		v := h.vow(1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("x")}})
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Gen: 1})
		h.apply(&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte("stuck"), Gen: 1})
		h.apply(&store.Watch{Act: waiter.ID, Vows: []flow.VowID{a.Outcome}, Suspend: true, Gen: 1})
		require.Equal(t, store.Suspended, h.state(waiter.ID))

		fin := &store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("result"), Gen: 2}
		h.apply(fin)
		assert.True(t, fin.Finished)
		assert.Equal(t, a.Outcome, fin.Outcome)
		assert.Equal(t, []flow.ActivationID{waiter.ID}, fin.Waiters)
		a.State, a.Gen = store.Done, 2
		sameActivation(t, a, h.activation(a.ID), "done, its failure cleared")
		assert.Empty(t, h.log(a.ID), "its log is deleted")
		assert.Empty(t, h.waits(a.ID), "its waits are deleted")
		sameVow(t, store.Vow{ID: a.Outcome, Kind: store.OutcomeVow, State: store.VowFulfilled, Payload: []byte("result"), Gen: 2}, h.getVow(a.Outcome))
		w := h.activation(waiter.ID)
		assert.Equal(t, store.Running, w.State, "the outcome's waiter is woken")
		assert.Equal(t, int64(2), w.Gen)
		assert.Empty(t, h.waits(waiter.ID))

		again := &store.Finish{Act: a.ID, State: store.VowRejected, Payload: []byte("late"), Gen: 3}
		h.apply(again)
		assert.False(t, again.Finished, "an activation finishes once")
		assert.Empty(t, again.Waiters)
		sameVow(t, store.Vow{ID: a.Outcome, Kind: store.OutcomeVow, State: store.VowFulfilled, Payload: []byte("result"), Gen: 2}, h.getVow(a.Outcome))
		assert.Equal(t, int64(2), h.activation(a.ID).Gen)

		missing := &store.Finish{Act: flow.NewActivationID(), State: store.VowRejected, Gen: 3}
		h.apply(missing)
		assert.False(t, missing.Finished)
	}},
	{"FinishRefusesASettledOutcome", func(t *testing.T, h *harness) {
		// An outcome is the activation's to settle, when it finishes. If
		// something settled it before, finishing is an internal error: the
		// submission fails and nothing is overwritten.
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("x")}})
		h.apply(&store.SettleVow{ID: a.Outcome, State: store.VowFulfilled, Payload: []byte("forged"), Gen: 1})
		fin := &store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("real"), Gen: 2}
		err := store.Apply(t.Context(), h.s, fin)
		assert.ErrorIs(t, err, store.ErrRefused)
		assert.ErrorContains(t, err, "settled already")
		assert.False(t, fin.Finished)
		assert.Equal(t, store.Running, h.state(a.ID), "not marked done")
		assert.Len(t, h.log(a.ID), 1, "its log is kept")
		sameVow(t, store.Vow{ID: a.Outcome, Kind: store.OutcomeVow, State: store.VowFulfilled, Payload: []byte("forged"), Gen: 1}, h.getVow(a.Outcome), "and nothing overwritten")
	}},
	{"FinishRejected", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{h.vow(1)}, Suspend: true, Gen: 1})
		fin := &store.Finish{Act: a.ID, State: store.VowRejected, Payload: []byte("cancelled"), Gen: 2}
		h.apply(fin)
		assert.True(t, fin.Finished, "a suspended activation can be finished (cancelled)")
		assert.Empty(t, fin.Waiters)
		sameVow(t, store.Vow{ID: a.Outcome, Kind: store.OutcomeVow, State: store.VowRejected, Payload: []byte("cancelled"), Gen: 2}, h.getVow(a.Outcome))
		assert.Equal(t, store.Done, h.state(a.ID))
		assert.Empty(t, h.waits(a.ID))
	}},
	{"Revivable", func(t *testing.T, h *harness) {
		running, failed := h.create("test.R", 1), h.create("test.F", 1)
		suspended, done := h.create("test.S", 1), h.create("test.D", 1)
		h.apply(&store.SetState{Act: failed.ID, State: store.Failed, Failure: []byte("x"), Gen: 1},
			&store.Watch{Act: suspended.ID, Vows: []flow.VowID{h.vow(1)}, Suspend: true, Gen: 1},
			&store.Finish{Act: done.ID, State: store.VowFulfilled, Gen: 1})

		type row struct {
			id    flow.ActivationID
			name  string
			state store.State
		}
		var got []row
		require.NoError(t, h.s.Revivable(t.Context(), func(id flow.ActivationID, name string, st store.State) error {
			got = append(got, row{id, name, st})
			return nil
		}))
		assert.ElementsMatch(t, []row{{running.ID, "test.R", store.Running}, {failed.ID, "test.F", store.Failed}}, got,
			"running and failed ones, not suspended or done ones")

		stop := errors.New("enough")
		calls := 0
		err := h.s.Revivable(t.Context(), func(flow.ActivationID, string, store.State) error {
			calls++
			return stop
		})
		assert.ErrorIs(t, err, stop, "fn's error is returned")
		assert.Equal(t, 1, calls, "the first error stops the walk")
	}},
}
