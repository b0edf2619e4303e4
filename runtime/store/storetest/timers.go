package storetest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// fire runs FireTimers at now and returns what it fired.
func (h *harness) fire(now time.Time, limit int) []store.Fired {
	h.t.Helper()
	op := &store.FireTimers{Now: now, Limit: limit, Gen: 9, EncodeDeadline: encodeDeadline}
	h.apply(op)
	return op.Fired
}

func (h *harness) next() (time.Time, bool) {
	h.t.Helper()
	d, ok, err := h.s.NextDeadline(h.t.Context())
	require.NoError(h.t, err)
	return d, ok
}

func firedVows(fired []store.Fired) []flow.VowID {
	var out []flow.VowID
	for _, f := range fired {
		out = append(out, f.Vow)
	}
	return out
}

var timerCases = []testCase{
	{"Timers", func(t *testing.T, h *harness) {
		_, ok := h.next()
		assert.False(t, ok, "no timer yet")
		h.vow(1) // a vow without a timer
		_, ok = h.next()
		assert.False(t, ok, "a vow without a deadline is no timer")

		minute, minuteAndANano, hour := flow.NewVowID(), flow.NewVowID(), flow.NewVowID()
		h.apply(&store.CreateVow{ID: hour, Kind: store.TimerVow, Gen: 1, Deadline: base.Add(time.Hour)},
			&store.CreateVow{ID: minute, Kind: store.TimerVow, Gen: 1, Deadline: base.Add(time.Minute)},
			&store.CreateVow{ID: minuteAndANano, Kind: store.TimerVow, Gen: 1, Deadline: base.Add(time.Minute + 1)})
		sameVow(t, store.Vow{ID: minute, Kind: store.TimerVow, State: store.VowPending, Gen: 1}, h.getVow(minute), "a timer vow is pending")
		next, ok := h.next()
		require.True(t, ok)
		assert.True(t, next.Equal(base.Add(time.Minute)), "the earliest deadline, to the nanosecond: %v", next)

		a := h.create("test.F", 1)
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{minute}, Suspend: true, Gen: 1})
		assert.Empty(t, h.fire(base.Add(time.Minute-1), 0), "nothing is due a nanosecond early")

		fired := h.fire(base.Add(time.Minute), 0)
		require.Len(t, fired, 1, "a deadline at Now is due")
		assert.Equal(t, minute, fired[0].Vow)
		assert.Equal(t, encodeDeadline(base.Add(time.Minute)), fired[0].Payload)
		assert.Equal(t, []flow.ActivationID{a.ID}, fired[0].Waiters)
		sameVow(t, store.Vow{ID: minute, Kind: store.TimerVow, State: store.VowFulfilled, Payload: encodeDeadline(base.Add(time.Minute)), Gen: 9}, h.getVow(minute))
		assert.Equal(t, store.Running, h.state(a.ID), "the waiter is woken")
		assert.Empty(t, h.waits(a.ID))

		next, ok = h.next()
		require.True(t, ok)
		assert.True(t, next.Equal(base.Add(time.Minute+1)), "a fired timer is gone: %v", next)
		assert.Equal(t, []flow.VowID{minuteAndANano}, firedVows(h.fire(base.Add(2*time.Minute), 0)))
		assert.Empty(t, h.fire(base.Add(2*time.Minute), 0), "a timer fires once")
		assert.Equal(t, []flow.VowID{hour}, firedVows(h.fire(base.Add(24*time.Hour), 0)))
		_, ok = h.next()
		assert.False(t, ok)
	}},
	{"FireTimersOrderAndLimit", func(t *testing.T, h *harness) {
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		r := rand.New(rand.NewPCG(seed, seed))
		ids := make([]flow.VowID, 6)
		for i := range ids {
			ids[i] = flow.NewVowID()
		}
		var ops []store.Op
		for _, i := range r.Perm(len(ids)) {
			ops = append(ops, &store.CreateVow{ID: ids[i], Kind: store.TimerVow, Gen: 1, Deadline: base.Add(time.Duration(i) * time.Second)})
		}
		h.apply(ops...)
		assert.Equal(t, ids[:2], firedVows(h.fire(base.Add(time.Hour), 2)), "the earliest, in deadline order, up to Limit")
		assert.Equal(t, ids[2:], firedVows(h.fire(base.Add(time.Hour), 0)))
	}},
	{"FireTimersDefaultLimit", func(t *testing.T, h *harness) {
		ops := make([]store.Op, store.DefaultLimit+1)
		for i := range ops {
			ops[i] = &store.CreateVow{ID: flow.NewVowID(), Kind: store.TimerVow, Gen: 1, Deadline: base.Add(time.Duration(i) * time.Millisecond)}
		}
		h.apply(ops...)
		assert.Len(t, h.fire(base.Add(time.Hour), 0), store.DefaultLimit, "Limit 0 fires DefaultLimit")
		assert.Len(t, h.fire(base.Add(time.Hour), 0), 1)
	}},
	{"FireTimersOfSettledVow", func(t *testing.T, h *harness) {
		v := flow.NewVowID()
		h.apply(&store.CreateVow{ID: v, Kind: store.TimerVow, Gen: 1, Deadline: base})
		h.apply(&store.SettleVow{ID: v, State: store.VowRejected, Payload: []byte("cancelled"), Gen: 2})
		_, ok := h.next()
		assert.True(t, ok, "the timer stays until it fires")
		assert.Empty(t, h.fire(base.Add(time.Second), 0), "a settled vow is not fired")
		sameVow(t, store.Vow{ID: v, Kind: store.TimerVow, State: store.VowRejected, Payload: []byte("cancelled"), Gen: 2}, h.getVow(v))
		_, ok = h.next()
		assert.False(t, ok, "but its timer is gone")
	}},
}
