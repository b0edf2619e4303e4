package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var runCases = []testCase{
	{"ContinueStartsTheNextRun", func(t *testing.T, h *harness) {
		a := h.createAt("test.F", 1, base)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("a")}},
			&store.Append{Act: a.ID, Entry: store.Entry{Step: 1, Kind: 5, Gen: 1, Payload: []byte("b")}})
		v := h.vow(1)
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1, At: base.Add(time.Second)})
		require.Equal(t, store.Suspended, h.state(a.ID))
		assert.Equal(t, 0, h.activation(a.ID).Run, "the first run is 0")

		op := &store.Continue{Act: a.ID, Args: []byte{0x08, 0x01, 0x02}, Gen: 2, At: base.Add(time.Minute)}
		h.apply(op)
		require.True(t, op.Continued)
		assert.Equal(t, 1, op.Run)
		got := h.activation(a.ID)
		want := a
		want.RunArgs, want.State, want.Gen, want.StateSince, want.Run = op.Args, store.Running, 2, base.Add(time.Minute), 1
		sameActivation(t, want, got, "the same activation, the next run")
		assert.Equal(t, 1, got.Run)
		assert.Equal(t, a.Args, got.Args, "the arguments it was started with stay")
		assert.Equal(t, op.Args, got.CurrentArgs(), "the run's are its own")
		assert.Empty(t, h.log(a.ID), "the last run's log is gone")
		assert.Empty(t, h.waits(a.ID), "and its waits")
		settle := &store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("v"), Gen: 2}
		h.apply(settle)
		assert.Empty(t, settle.Waiters, "a vow the last run waited for wakes nothing")
		sameVow(t, store.Vow{ID: a.Outcome, Kind: store.OutcomeVow, State: store.VowPending, Gen: 1}, h.getVow(a.Outcome), "the outcome is still to come")

		// The new run logs from step 0, and runs on.
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 2, Payload: []byte("c")}})
		assert.Len(t, h.log(a.ID), 1)
		h.apply(&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte(`{"problem":"x"}`), Gen: 2, At: base.Add(2 * time.Minute)})
		again := &store.Continue{Act: a.ID, Args: []byte{0x08, 0x00}, Gen: 3, At: base.Add(3 * time.Minute)}
		h.apply(again)
		require.True(t, again.Continued)
		assert.Equal(t, 2, again.Run)
		got = h.activation(a.ID)
		assert.Equal(t, store.Running, got.State)
		assert.Empty(t, got.Failure, "a failure is the last run's")
		sameTime(t, base.Add(3*time.Minute), got.StateSince, "running since")

		h.restart()
		assert.Equal(t, 2, h.activation(a.ID).Run, "the run survives a restart")
		assert.Equal(t, again.Args, h.activation(a.ID).CurrentArgs(), "and its arguments")
		list, err := h.s.Activations(t.Context(), store.Filter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, 2, list[0].Run, "and listings carry it")
	}},
	{"ContinueRunningKeepsItsTime", func(t *testing.T, h *harness) {
		a := h.createAt("test.F", 1, base)
		op := &store.Continue{Act: a.ID, Args: []byte{0x08, 0x00}, Gen: 1, At: base.Add(time.Hour)}
		h.apply(op)
		require.True(t, op.Continued)
		sameTime(t, base, h.activation(a.ID).StateSince, "running already, since it was created")
	}},
	{"ContinueDropsWaitingReceivers", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		old := flow.NewVowID()
		h.apply(&store.Receive{Act: a.ID, Name: "m", Vow: old, Gen: 1})
		op := &store.Continue{Act: a.ID, Args: []byte{0x08, 0x00}, Receivers: []flow.VowID{old}, Gen: 2}
		h.apply(op)
		require.True(t, op.Continued)
		assert.Equal(t, -1, op.Unread)
		send := &store.Send{Act: a.ID, Name: "m", Payload: []byte("hi"), Gen: 2}
		h.apply(send)
		assert.Equal(t, store.Queued, send.Result, "the last run's receiver takes nothing")
		assert.Equal(t, store.VowPending, h.getVow(old).State)
		next := &store.Receive{Act: a.ID, Name: "m", Vow: flow.NewVowID(), Gen: 2}
		h.apply(next)
		assert.True(t, next.Delivered, "the next run's receiver takes the message")
	}},
	{"ContinueRefusesAMessageTheRunDidNotRead", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 5, Gen: 1, Payload: []byte("r")}})
		read, unread := flow.NewVowID(), flow.NewVowID()
		h.apply(&store.Receive{Act: a.ID, Name: "a", Vow: read, Gen: 1}, &store.Receive{Act: a.ID, Name: "b", Vow: unread, Gen: 1})
		h.apply(&store.Send{Act: a.ID, Name: "b", Payload: []byte("lost?"), Gen: 1})
		require.Equal(t, store.VowFulfilled, h.getVow(unread).State)
		op := &store.Continue{Act: a.ID, Args: []byte{0x08, 0x00}, Receivers: []flow.VowID{read, unread}, Gen: 2}
		h.apply(op)
		assert.False(t, op.Continued, "its message would be lost")
		assert.Equal(t, 1, op.Unread)
		got := h.activation(a.ID)
		assert.Equal(t, 0, got.Run)
		assert.Len(t, h.log(a.ID), 1, "nothing is written")
	}},
	{"ContinueDoneOrMissing", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("a")}})
		h.apply(&store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("r"), Gen: 1, KeepLog: true})
		op := &store.Continue{Act: a.ID, Args: []byte{0x08, 0x00}, Gen: 2}
		h.apply(op)
		assert.False(t, op.Continued, "a done activation has no next run")
		assert.Equal(t, 0, op.Run)
		got := h.activation(a.ID)
		assert.Equal(t, store.Done, got.State)
		assert.Equal(t, 0, got.Run)
		assert.Len(t, h.log(a.ID), 1, "its kept log is left as it was")

		missing := &store.Continue{Act: flow.NewActivationID(), Args: []byte{0x08, 0x00}, Gen: 2}
		h.apply(missing)
		assert.False(t, missing.Continued)
		assert.Equal(t, -1, missing.Unread)
	}},
}
