package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var historyCases = []testCase{
	{"Times", func(t *testing.T, h *harness) {
		at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
		a := h.createAt("test.F", 1, at(0))
		got := h.activation(a.ID)
		sameActivation(t, a, got, "created, running since then")
		sameTime(t, at(0), got.Changed, "changed")
		assert.Equal(t, int64(1), got.LastGen)

		// A log entry changes it, in its incarnation.
		entry := store.Entry{Step: 0, Kind: 1, Gen: 3, At: at(1), Payload: []byte("x")}
		h.apply(&store.Append{Act: a.ID, Entry: entry})
		sameEntries(t, []store.Entry{entry}, h.log(a.ID), "an entry keeps its time")
		got = h.activation(a.ID)
		sameActivation(t, a, got, "an entry is no change of state")
		sameTime(t, at(1), got.Changed, "changed by its last entry")
		assert.Equal(t, int64(3), got.LastGen, "written last by the entry's incarnation")

		// Suspended, then woken by a settlement.
		v := h.vow(1)
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 4, At: at(2)})
		a.State, a.Gen, a.StateSince = store.Suspended, 4, at(2)
		got = h.activation(a.ID)
		sameActivation(t, a, got, "suspended since the watch")
		sameTime(t, at(2), got.Changed, "changed")
		assert.Equal(t, int64(4), got.LastGen)
		h.apply(&store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("v"), Gen: 5, At: at(3)})
		a.State, a.Gen, a.StateSince = store.Running, 5, at(3)
		sameActivation(t, a, h.activation(a.ID), "running since the settlement woke it")

		// Failed, failed again: failed since the first time.
		h.apply(&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte("one"), Gen: 5, At: at(4)})
		h.apply(&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte("two"), Gen: 6, At: at(5)})
		a.State, a.Gen, a.Failure, a.StateSince = store.Failed, 6, []byte("two"), at(4)
		sameActivation(t, a, h.activation(a.ID), "a change to the same state keeps its time")
		h.apply(&store.SetState{Act: a.ID, State: store.Running, Gen: 6, At: at(6)})
		a.State, a.Failure, a.StateSince = store.Running, nil, at(6)
		sameActivation(t, a, h.activation(a.ID))

		// A timer wakes at the time it fires.
		timer := flow.NewVowID()
		h.apply(&store.CreateVow{ID: timer, Gen: 6, Deadline: at(7)},
			&store.Watch{Act: a.ID, Vows: []flow.VowID{timer}, Suspend: true, Gen: 6, At: at(6)})
		h.apply(&store.FireTimers{Now: at(8), Gen: 7, EncodeDeadline: encodeDeadline})
		a.Gen, a.StateSince = 7, at(8)
		sameActivation(t, a, h.activation(a.ID), "running since the timer fired")

		// Done.
		h.apply(&store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("r"), Gen: 8, At: at(9)})
		a.State, a.Gen, a.StateSince, a.Finished = store.Done, 8, at(9), at(9)
		got = h.activation(a.ID)
		sameActivation(t, a, got, "finished")
		sameTime(t, at(9), got.Changed, "changed")
		assert.Equal(t, int64(8), got.LastGen)

		// The times survive a restart.
		h.restart()
		sameActivation(t, a, h.activation(a.ID), "after a restart")
	}},
	{"FinishKeepLog", func(t *testing.T, h *harness) {
		a := h.createAt("test.F", 1, base)
		entries := []store.Entry{{Step: 0, Kind: 1, Gen: 1, At: base, Payload: []byte("a")}, {Step: 1, Kind: 5, Gen: 2, At: base.Add(time.Second), Payload: []byte("b")}}
		h.apply(&store.Append{Act: a.ID, Entry: entries[0]}, &store.Append{Act: a.ID, Entry: entries[1]})
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{h.vow(1)}, Gen: 2})
		fin := &store.Finish{Act: a.ID, State: store.VowFulfilled, Gen: 2, At: base.Add(time.Minute), KeepLog: true}
		h.apply(fin)
		assert.True(t, fin.Finished)
		assert.Equal(t, store.Done, h.state(a.ID))
		sameEntries(t, entries, h.log(a.ID), "the log is kept, for audit")
		assert.Empty(t, h.waits(a.ID), "its waits are deleted all the same")
		got := h.activation(a.ID)
		sameTime(t, base.Add(time.Minute), got.Changed, "finishing is its last change")
	}},
	{"Purge", func(t *testing.T, h *harness) {
		at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
		var done []store.Activation
		for i := range 5 {
			a := h.store(store.Activation{ID: flow.NewActivationID(), Flow: "test.F", StartKey: "k" + string(rune('0'+i)), Args: []byte{1}, Outcome: flow.NewVowID(), CreatedGen: 1, Created: at(0)})
			h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, At: at(0), Payload: []byte("x")}})
			// Finished at minutes 10, 20, … 50, out of order; logs kept.
			fin := at(10 * (1 + (i*3)%5))
			h.apply(&store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("r"), Gen: 1, At: fin, KeepLog: i%2 == 0})
			a.Finished = fin
			done = append(done, a)
		}
		running := h.createAt("test.F", 1, at(0))
		failed := h.createAt("test.F", 1, at(0))
		h.apply(&store.SetState{Act: failed.ID, State: store.Failed, Failure: []byte("f"), Gen: 1, At: at(1)})
		other := h.vow(1)

		purged := func(a store.Activation) bool {
			_, err := h.s.Activation(t.Context(), a.ID)
			if err == nil {
				return false
			}
			require.ErrorIs(t, err, store.ErrNotFound)
			return true
		}
		// Up to the limit, oldest finished first.
		p := &store.Purge{Before: at(45), Limit: 2}
		h.apply(p)
		assert.Equal(t, 2, p.Purged)
		for _, a := range done {
			assert.Equal(t, !a.Finished.After(at(20)), purged(a), "finished %v", a.Finished)
		}
		p = &store.Purge{Before: at(45)}
		h.apply(p)
		assert.Equal(t, 2, p.Purged, "the rest finished before the time")
		p = &store.Purge{Before: at(45)}
		h.apply(p)
		assert.Zero(t, p.Purged, "nothing left to purge")
		for _, a := range done {
			if a.Finished.Before(at(45)) {
				assert.True(t, purged(a))
				assert.Empty(t, h.log(a.ID), "the log goes with the row")
				_, err := h.s.Vow(t.Context(), a.Outcome)
				assert.ErrorIs(t, err, store.ErrNotFound, "the outcome vow goes too")
				byKey, err := h.s.ActivationsByKey(t.Context(), a.StartKey)
				require.NoError(t, err)
				assert.Empty(t, byKey)
			} else {
				assert.False(t, purged(a), "finished after the time")
			}
		}
		assert.False(t, purged(running), "unfinished ones stay")
		assert.False(t, purged(failed))
		assert.Equal(t, store.VowPending, h.getVow(other).State, "other vows stay")

		// A purged activation's id and key may start again.
		again := done[0]
		again.Outcome, again.Created = flow.NewVowID(), at(60)
		op := &store.CreateActivation{Activation: again}
		h.apply(op)
		assert.Nil(t, op.Existing)
		assert.Equal(t, store.Running, h.state(again.ID))
	}},
}

// store creates the activation a describes, running, and returns it as
// stored.
func (h *harness) store(a store.Activation) store.Activation {
	h.t.Helper()
	op := &store.CreateActivation{Activation: a}
	h.apply(op)
	require.Nil(h.t, op.Existing)
	a.State, a.Gen, a.StateSince = store.Running, a.CreatedGen, a.Created
	return a
}
