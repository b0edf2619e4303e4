package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var cancelCases = []testCase{
	{"EnsureVow", func(t *testing.T, h *harness) {
		v := flow.NewVowID()
		op := &store.EnsureVow{ID: v, Kind: store.CancelVow, Gen: 1}
		h.apply(op)
		assert.True(t, op.Created)
		sameVow(t, store.Vow{ID: v, Kind: store.CancelVow, State: store.VowPending, Gen: 1}, h.getVow(v))
		again := &store.EnsureVow{ID: v, Kind: store.HostVow, Gen: 2}
		h.apply(again)
		assert.False(t, again.Created, "a vow that exists is left as it is")
		sameVow(t, store.Vow{ID: v, Kind: store.CancelVow, State: store.VowPending, Gen: 1}, h.getVow(v))
		h.apply(&store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("x"), Gen: 3})
		h.apply(&store.EnsureVow{ID: v, Kind: store.CancelVow, Gen: 4})
		assert.Equal(t, store.VowFulfilled, h.getVow(v).State, "settled, too")

		// In one submission with a Watch, the vow exists for it.
		a := h.create("test.F", 1)
		w := flow.NewVowID()
		watch := &store.Watch{Act: a.ID, Vows: []flow.VowID{w}, Suspend: true, Gen: 1}
		h.apply(&store.EnsureVow{ID: w, Kind: store.CancelVow, Gen: 1}, watch)
		assert.Equal(t, -1, watch.Missing)
		assert.Equal(t, []flow.VowID{w}, h.waits(a.ID))
	}},
	{"RequestCancel", func(t *testing.T, h *harness) {
		// Asked for before the flow watches: the vow is created fulfilled,
		// and the flow finds it so.
		early := h.create("test.F", 1)
		ev := flow.NewVowID()
		op := &store.RequestCancel{Act: early.ID, Vow: ev, Payload: []byte("stop"), Gen: 2, At: base}
		h.apply(op)
		assert.Equal(t, store.CancelRequested, op.Result)
		assert.Empty(t, op.Waiters)
		sameVow(t, store.Vow{ID: ev, Kind: store.CancelVow, State: store.VowFulfilled, Payload: []byte("stop"), Gen: 2}, h.getVow(ev))
		watch := &store.Watch{Act: early.ID, Vows: []flow.VowID{ev}, Suspend: true, Gen: 2}
		h.apply(&store.EnsureVow{ID: ev, Kind: store.CancelVow, Gen: 2}, watch)
		assert.Equal(t, 0, watch.Index, "the flow sees the request")

		// Asked for while the flow waits: it is woken.
		a := h.create("test.F", 1)
		v := flow.NewVowID()
		h.apply(&store.EnsureVow{ID: v, Kind: store.CancelVow, Gen: 1},
			&store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1})
		require.Equal(t, store.Suspended, h.state(a.ID))
		op = &store.RequestCancel{Act: a.ID, Vow: v, Payload: []byte("customer asked"), Gen: 2, At: base.Add(time.Second)}
		h.apply(op)
		assert.Equal(t, store.CancelRequested, op.Result)
		assert.Equal(t, []flow.ActivationID{a.ID}, op.Waiters)
		got := h.activation(a.ID)
		assert.Equal(t, store.Running, got.State)
		sameTime(t, base.Add(time.Second), got.StateSince, "running since the request")
		assert.Empty(t, h.waits(a.ID))

		// Asked again: nothing changes.
		again := &store.RequestCancel{Act: a.ID, Vow: v, Payload: []byte("again"), Gen: 3}
		h.apply(again)
		assert.Equal(t, store.CancelAlready, again.Result)
		assert.Equal(t, []byte("customer asked"), h.getVow(v).Payload, "the first request stands")

		// A host cannot settle it.
		host := &store.SettleVow{ID: v, State: store.VowRejected, Gen: 3, HostOnly: true}
		h.apply(host)
		assert.False(t, host.Settled)
		assert.Equal(t, store.CancelVow, host.Kind)

		// Done or missing: nothing is written.
		done := h.create("test.F", 1)
		h.apply(&store.Finish{Act: done.ID, State: store.VowFulfilled, Payload: []byte("r"), Gen: 1})
		dv := flow.NewVowID()
		fin := &store.RequestCancel{Act: done.ID, Vow: dv, Payload: []byte("late"), Gen: 2}
		h.apply(fin)
		assert.Equal(t, store.CancelFinished, fin.Result)
		_, err := h.s.Vow(t.Context(), dv)
		assert.ErrorIs(t, err, store.ErrNotFound)
		missing := &store.RequestCancel{Act: flow.NewActivationID(), Vow: flow.NewVowID(), Gen: 2}
		h.apply(missing)
		assert.Equal(t, store.CancelNoActivation, missing.Result)

		h.restart()
		sameVow(t, store.Vow{ID: v, Kind: store.CancelVow, State: store.VowFulfilled, Payload: []byte("customer asked"), Gen: 2}, h.getVow(v), "the request survives a restart")
	}},
}
