package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var submitCases = []testCase{
	{"SubmitOrder", func(t *testing.T, h *harness) {
		// Submitted one after another without waiting: each sees the ones
		// before.
		v := flow.NewVowID()
		a := store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}
		first := &store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte("first"), Gen: 1}
		second := &store.SettleVow{ID: v, State: store.VowRejected, Payload: []byte("second"), Gen: 1}
		fin := &store.Finish{Act: a.ID, State: store.VowFulfilled, Gen: 1}
		var ps []*store.Pending
		ps = append(ps, h.s.Submit(&store.CreateVow{ID: v, Gen: 1}), h.s.Submit(first), h.s.Submit(second),
			h.s.Submit(&store.CreateActivation{Activation: a}))
		for i := range 50 {
			ps = append(ps, h.s.Submit(&store.Append{Act: a.ID, Entry: store.Entry{Step: int64(i), Kind: 1, Gen: 1, Payload: []byte{byte(i)}}}))
		}
		beforeFinish := h.s.Submit() // an empty submission is one too
		ps = append(ps, beforeFinish, h.s.Submit(fin))
		for i, p := range ps {
			require.NoError(t, p.Wait(), "submission %d", i)
		}
		assert.True(t, first.Settled)
		assert.False(t, second.Settled, "the later settlement comes second")
		sameVow(t, store.Vow{ID: v, State: store.VowFulfilled, Payload: []byte("first"), Gen: 1}, h.getVow(v))
		assert.True(t, fin.Finished, "the finish comes after the creation")
		assert.Empty(t, h.log(a.ID), "and after every append")
	}},
	{"SubmissionIsAtomic", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("0")}})
		pending := h.vow(1)
		created := flow.NewVowID()
		other := store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}
		duplicate := &store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("again")}}
		err := store.Apply(t.Context(), h.s,
			&store.Append{Act: a.ID, Entry: store.Entry{Step: 1, Kind: 1, Gen: 1, Payload: []byte("1")}},
			&store.CreateVow{ID: created, Gen: 1},
			&store.SettleVow{ID: pending, State: store.VowFulfilled, Gen: 1},
			&store.CreateActivation{Activation: other},
			&store.SetState{Act: a.ID, State: store.Failed, Failure: []byte("x"), Gen: 1},
			duplicate)
		require.Error(t, err, "the last op fails")
		assert.Len(t, h.log(a.ID), 1, "no op of a failed submission has an effect")
		_, err = h.s.Vow(t.Context(), created)
		assert.ErrorIs(t, err, store.ErrNotFound)
		assert.Equal(t, store.VowPending, h.getVow(pending).State)
		_, err = h.s.Activation(t.Context(), other.ID)
		assert.ErrorIs(t, err, store.ErrNotFound)
		assert.Equal(t, store.Running, h.state(a.ID))
	}},
	{"GroupCommitIsolatesAFailingSubmission", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		h.apply(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte{}}})
		// Bad and good submissions, many times over without waiting, so that
		// stores that share transactions put them in the same ones.
		const n = 200
		vows := make([]flow.VowID, n)
		for i := range vows {
			vows[i] = flow.NewVowID()
		}
		h.apply(func() []store.Op {
			ops := make([]store.Op, n)
			for i := range ops {
				ops[i] = &store.CreateVow{ID: vows[i], Gen: 1}
			}
			return ops
		}()...)
		var bad, good []*store.Pending
		settles := make([]*store.SettleVow, n)
		for i := range n {
			bad = append(bad, h.s.Submit(&store.Append{Act: a.ID, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: []byte("dup")}}))
			settles[i] = &store.SettleVow{ID: vows[i], State: store.VowFulfilled, Payload: []byte(fmt.Sprint(i)), Gen: 1}
			good = append(good, h.s.Submit(&store.Append{Act: a.ID, Entry: store.Entry{Step: int64(i + 1), Kind: 1, Gen: 1, Payload: []byte{}}}, settles[i]))
		}
		for i := range n {
			assert.ErrorIs(t, bad[i].Wait(), store.ErrRefused, "bad submission %d", i)
			assert.NoError(t, good[i].Wait(), "good submission %d", i)
			assert.True(t, settles[i].Settled, "results of good submission %d", i)
			assert.False(t, settles[i].Missing)
		}
		assert.Len(t, h.log(a.ID), n+1, "every good submission committed")
		for i, v := range vows {
			sameVow(t, store.Vow{ID: v, State: store.VowFulfilled, Payload: []byte(fmt.Sprint(i)), Gen: 1}, h.getVow(v))
		}
	}},
	{"ConcurrentSubmitters", func(t *testing.T, h *harness) {
		const flows, steps = 20, 25
		acts := make([]store.Activation, flows)
		for i := range acts {
			acts[i] = h.create("test.F", 1)
		}
		var wg sync.WaitGroup
		for _, a := range acts {
			wg.Go(func() {
				for step := range steps {
					err := h.s.Submit(&store.Append{Act: a.ID, Entry: store.Entry{Step: int64(step), Kind: 1, Gen: 1, Payload: []byte{byte(step)}}}).Wait()
					assert.NoError(t, err)
				}
				fin := &store.Finish{Act: a.ID, State: store.VowFulfilled, Gen: 1}
				assert.NoError(t, store.Apply(t.Context(), h.s, fin))
				assert.True(t, fin.Finished)
			})
		}
		wg.Wait()
		for _, a := range acts {
			assert.Equal(t, store.Done, h.state(a.ID))
			assert.Equal(t, store.VowFulfilled, h.getVow(a.Outcome).State)
		}
	}},
	{"OpResultsStartAfresh", func(t *testing.T, h *harness) {
		// Result fields hold what the store found, not what the op held.
		a := h.create("test.F", 1)
		v := h.vow(1)
		settle := &store.SettleVow{ID: v, State: store.VowFulfilled, Gen: 1, Settled: false, Missing: true, Waiters: []flow.ActivationID{flow.NewActivationID()}}
		w := &store.Watch{Act: a.ID, Vows: []flow.VowID{h.vow(1)}, Gen: 1, Index: 3, Missing: 4, Vow: store.Vow{Payload: []byte("stale")}}
		fin := &store.Finish{Act: flow.NewActivationID(), State: store.VowFulfilled, Gen: 1, Finished: true, Waiters: []flow.ActivationID{a.ID}}
		create := &store.CreateActivation{Activation: store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}, Existing: &store.Activation{}}
		fire := &store.FireTimers{Now: base, Gen: 1, EncodeDeadline: encodeDeadline, Fired: []store.Fired{{Vow: v}}}
		h.apply(settle, w, fin, create, fire)
		assert.True(t, settle.Settled)
		assert.False(t, settle.Missing)
		assert.Empty(t, settle.Waiters)
		assert.Equal(t, -1, w.Index)
		assert.Equal(t, -1, w.Missing)
		assert.Empty(t, w.Vow.Payload)
		assert.False(t, fin.Finished)
		assert.Empty(t, fin.Waiters)
		assert.Nil(t, create.Existing)
		assert.Empty(t, fire.Fired)
	}},
}
