package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

var listingCases = []testCase{
	{"Activations", func(t *testing.T, h *harness) {
		var all []store.Activation
		for i := range 9 {
			name := "test.F"
			if i%3 == 0 {
				name = "test.G"
			}
			all = append(all, h.create(name, 1))
		}
		// States: running, suspended, failed, done, in turn.
		for i := range all {
			switch i % 4 {
			case 1:
				h.apply(&store.Watch{Act: all[i].ID, Vows: []flow.VowID{h.vow(1)}, Suspend: true, Gen: 2})
				all[i].State, all[i].Gen = store.Suspended, 2
			case 2:
				h.apply(&store.SetState{Act: all[i].ID, State: store.Failed, Failure: []byte("f"), Gen: 2})
				all[i].State, all[i].Gen, all[i].Failure = store.Failed, 2, []byte("f")
			case 3:
				h.apply(&store.Finish{Act: all[i].ID, State: store.VowFulfilled, Gen: 2})
				all[i].State, all[i].Gen = store.Done, 2
			}
		}
		all = sortedActivations(all)
		list := func(f store.Filter) []store.Activation {
			t.Helper()
			got, err := h.s.Activations(t.Context(), f)
			require.NoError(t, err)
			return got
		}
		same := func(want, got []store.Activation, what string) {
			t.Helper()
			if !assert.Len(t, got, len(want), what) {
				return
			}
			for i := range want {
				sameActivation(t, want[i], got[i], what)
			}
		}
		selectRows := func(keep func(store.Activation) bool) []store.Activation {
			var out []store.Activation
			for _, a := range all {
				if keep(a) {
					out = append(out, a)
				}
			}
			return out
		}

		same(all, list(store.Filter{}), "everything, in id order")
		for _, st := range []store.State{store.Running, store.Suspended, store.Failed, store.Done} {
			same(selectRows(func(a store.Activation) bool { return a.State == st }), list(store.Filter{State: st}), "state "+st.String())
		}
		same(selectRows(func(a store.Activation) bool { return a.Flow == "test.G" }), list(store.Filter{Flow: "test.G"}), "one flow")
		same(selectRows(func(a store.Activation) bool { return a.Flow == "test.F" && a.State == store.Running }),
			list(store.Filter{Flow: "test.F", State: store.Running}), "flow and state")
		assert.Empty(t, list(store.Filter{Flow: "test.None"}))

		// Paging.
		var paged []store.Activation
		f := store.Filter{Limit: 4}
		for {
			page := list(f)
			assert.LessOrEqual(t, len(page), 4)
			paged = append(paged, page...)
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].ID
		}
		same(all, paged, "pages after the last id of the one before")
		same(all[3:], list(store.Filter{After: all[2].ID}), "after an id")
		assert.Empty(t, list(store.Filter{After: all[len(all)-1].ID}))
		same(selectRows(func(a store.Activation) bool { return a.Flow == "test.F" })[1:3],
			list(store.Filter{Flow: "test.F", After: selectRows(func(a store.Activation) bool { return a.Flow == "test.F" })[0].ID, Limit: 2}),
			"paging one flow")
	}},
	{"ActivationsDefaultLimit", func(t *testing.T, h *harness) {
		ops := make([]store.Op, store.DefaultLimit+1)
		for i := range ops {
			ops[i] = &store.CreateActivation{Activation: store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}
		}
		h.apply(ops...)
		got, err := h.s.Activations(t.Context(), store.Filter{})
		require.NoError(t, err)
		assert.Len(t, got, store.DefaultLimit, "a filter without a limit lists DefaultLimit")
		got, err = h.s.Activations(t.Context(), store.Filter{Limit: store.DefaultLimit + 10})
		require.NoError(t, err)
		assert.Len(t, got, store.DefaultLimit+1)
	}},
}
