package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// newestFirst sorts activations in listing order.
func newestFirst(as []store.Activation) []store.Activation {
	out := slices.Clone(as)
	slices.SortFunc(out, func(a, b store.Activation) int {
		switch {
		case a.Position().Before(b.Position()):
			return -1
		case b.Position().Before(a.Position()):
			return 1
		}
		return 0
	})
	return out
}

func selectRows(all []store.Activation, keep func(store.Activation) bool) []store.Activation {
	var out []store.Activation
	for _, a := range all {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// population makes twelve activations of two flows, by three incarnations
// of two builds, created a minute apart — two of them at the same instant —
// in every state, and returns them in listing order.
func population(t *testing.T, h *harness) (all []store.Activation, builds map[string][]int64) {
	ctx := t.Context()
	builds = map[string][]int64{}
	var gens []int64
	for _, b := range []string{"build-1", "build-2", "build-1"} {
		g, err := h.s.BeginIncarnation(ctx, b, 1)
		require.NoError(t, err)
		gens = append(gens, g)
		builds[b] = append(builds[b], g)
	}
	for i := range 12 {
		name := "test.F"
		if i%3 == 0 {
			name = "test.G"
		}
		at := base.Add(time.Duration(i) * time.Minute)
		if i == 7 {
			at = all[6].Created // a tie, broken by id
		}
		all = append(all, h.createAt(name, gens[i%3], at))
	}
	// States: running, suspended, failed, done, in turn.
	later := base.Add(time.Hour)
	for i := range all {
		switch i % 4 {
		case 1:
			h.apply(&store.Watch{Act: all[i].ID, Vows: []flow.VowID{h.vow(1)}, Suspend: true, Gen: 2, At: later})
			all[i].State, all[i].Gen, all[i].StateSince = store.Suspended, 2, later
		case 2:
			h.apply(&store.SetState{Act: all[i].ID, State: store.Failed, Failure: []byte("f"), Gen: 2, At: later})
			all[i].State, all[i].Gen, all[i].Failure, all[i].StateSince = store.Failed, 2, []byte("f"), later
		case 3:
			h.apply(&store.Finish{Act: all[i].ID, State: store.VowFulfilled, Gen: 2, At: later})
			all[i].State, all[i].Gen, all[i].StateSince, all[i].Finished = store.Done, 2, later, later
		}
	}
	return newestFirst(all), builds
}

var listingCases = []testCase{
	{"Activations", func(t *testing.T, h *harness) {
		all, builds := population(t, h)
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
				sameActivation(t, want[i], got[i], what, i)
			}
		}
		inBuild := func(b string) func(store.Activation) bool {
			return func(a store.Activation) bool { return slices.Contains(builds[b], a.CreatedGen) }
		}

		same(all, list(store.Filter{}), "everything, newest first, a tie in creation time by id descending")
		for _, st := range []store.State{store.Running, store.Suspended, store.Failed, store.Done} {
			same(selectRows(all, func(a store.Activation) bool { return a.State == st }), list(store.Filter{State: st}), "state "+st.String())
			same(selectRows(all, func(a store.Activation) bool { return a.State == st && a.Flow == "test.F" }),
				list(store.Filter{State: st, Flow: "test.F"}), "flow and state "+st.String())
			same(selectRows(all, func(a store.Activation) bool { return a.State == st && inBuild("build-1")(a) }),
				list(store.Filter{State: st, Build: "build-1"}), "build and state "+st.String())
		}
		same(selectRows(all, func(a store.Activation) bool { return a.Flow == "test.G" }), list(store.Filter{Flow: "test.G"}), "one flow")
		assert.Empty(t, list(store.Filter{Flow: "test.None"}))
		same(selectRows(all, inBuild("build-1")), list(store.Filter{Build: "build-1"}), "started by two incarnations of one build")
		same(selectRows(all, inBuild("build-2")), list(store.Filter{Build: "build-2"}), "started by another build")
		assert.Empty(t, list(store.Filter{Build: "build-none"}))
		same(selectRows(all, func(a store.Activation) bool { return inBuild("build-1")(a) && a.Flow == "test.G" }),
			list(store.Filter{Build: "build-1", Flow: "test.G"}), "build and flow")

		// Time ranges: created at or after Since, before Until.
		since, until := base.Add(3*time.Minute), base.Add(9*time.Minute)
		inRange := func(a store.Activation) bool { return !a.Created.Before(since) && a.Created.Before(until) }
		same(selectRows(all, inRange), list(store.Filter{Since: since, Until: until}), "a time range")
		same(selectRows(all, func(a store.Activation) bool { return !a.Created.Before(since) }), list(store.Filter{Since: since}), "since")
		same(selectRows(all, func(a store.Activation) bool { return a.Created.Before(until) }), list(store.Filter{Until: until}), "until")
		same(selectRows(all, func(a store.Activation) bool { return inRange(a) && a.State == store.Running }),
			list(store.Filter{Since: since, Until: until, State: store.Running}), "a time range and a state")

		// Paging, with every filter: each page resumes after the last one's
		// position, and the pages make the whole listing.
		filters := []store.Filter{{}, {State: store.Done}, {Flow: "test.F"}, {Build: "build-1"}, {Since: since, Until: until},
			{Flow: "test.F", State: store.Running}, {Build: "build-1", State: store.Suspended}}
		for _, f := range filters {
			whole := list(f)
			for _, size := range []int{1, 2, 3, 5} {
				var paged []store.Activation
				pf := f
				pf.Limit = size
				for range len(all) + 1 {
					page := list(pf)
					assert.LessOrEqual(t, len(page), size)
					paged = append(paged, page...)
					if len(page) < size {
						break
					}
					pf.After = page[len(page)-1].Position()
				}
				same(whole, paged, fmt.Sprintf("pages of %d of %+v", size, f))
			}
		}
		same(all[3:], list(store.Filter{After: all[2].Position()}), "after a position")
		same(all[8:], list(store.Filter{After: all[7].Position()}), "after a position tied in time")
		assert.Empty(t, list(store.Filter{After: all[len(all)-1].Position()}))
	}},
	{"ActivationsDefaultLimit", func(t *testing.T, h *harness) {
		ops := make([]store.Op, store.DefaultLimit+1)
		for i := range ops {
			ops[i] = &store.CreateActivation{Activation: store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1,
				Created: base.Add(time.Duration(i) * time.Second)}}
		}
		h.apply(ops...)
		got, err := h.s.Activations(t.Context(), store.Filter{})
		require.NoError(t, err)
		assert.Len(t, got, store.DefaultLimit, "a filter without a limit lists DefaultLimit")
		sameTime(t, base.Add(store.DefaultLimit*time.Second), got[0].Created, "the newest comes first")
		got, err = h.s.Activations(t.Context(), store.Filter{Limit: store.DefaultLimit + 10})
		require.NoError(t, err)
		assert.Len(t, got, store.DefaultLimit+1)
	}},
	{"Count", func(t *testing.T, h *harness) {
		all, builds := population(t, h)
		count := func(f store.Filter) int {
			t.Helper()
			n, err := h.s.Count(t.Context(), f)
			require.NoError(t, err)
			return n
		}
		assert.Equal(t, len(all), count(store.Filter{}))
		for _, st := range []store.State{store.Running, store.Suspended, store.Failed, store.Done} {
			assert.Equal(t, 3, count(store.Filter{State: st}), st.String())
		}
		assert.Equal(t, 4, count(store.Filter{Flow: "test.G"}))
		assert.Equal(t, len(selectRows(all, func(a store.Activation) bool { return slices.Contains(builds["build-1"], a.CreatedGen) })),
			count(store.Filter{Build: "build-1"}))
		assert.Zero(t, count(store.Filter{Build: "build-none"}))
		assert.Equal(t, 5, count(store.Filter{Limit: 5}), "a limit caps the count")
		assert.Equal(t, 3, count(store.Filter{State: store.Done, Limit: 5}))
		assert.Equal(t, len(all), count(store.Filter{After: all[3].Position()}), "a count ignores the position")
	}},
	{"ActivationsByKey", func(t *testing.T, h *harness) {
		mk := func(name, key string, at time.Time) store.Activation {
			a := store.Activation{ID: flow.NewActivationID(), Flow: name, StartKey: key, Args: []byte{1}, Outcome: flow.NewVowID(), CreatedGen: 1, Created: at}
			h.apply(&store.CreateActivation{Activation: a})
			a.State, a.Gen, a.StateSince = store.Running, 1, at
			return a
		}
		f := mk("test.F", "order-7", base)
		g := mk("test.G", "order-7", base.Add(time.Second))
		mk("test.F", "order-8", base)
		h.create("test.F", 1) // no key
		got, err := h.s.ActivationsByKey(t.Context(), "order-7")
		require.NoError(t, err)
		require.Len(t, got, 2, "one per flow")
		sameActivation(t, g, got[0], "newest first")
		sameActivation(t, f, got[1])
		got, err = h.s.ActivationsByKey(t.Context(), "order-9")
		require.NoError(t, err)
		assert.Empty(t, got)
		got, err = h.s.ActivationsByKey(t.Context(), "")
		require.NoError(t, err)
		assert.Empty(t, got, "the empty key is no key")
	}},
	{"ActivationByOutcome", func(t *testing.T, h *harness) {
		a, b := h.createAt("test.F", 1, base), h.create("test.F", 1)
		got, err := h.s.ActivationByOutcome(t.Context(), a.Outcome)
		require.NoError(t, err)
		sameActivation(t, a, got)
		got, err = h.s.ActivationByOutcome(t.Context(), b.Outcome)
		require.NoError(t, err)
		sameActivation(t, b, got)
		_, err = h.s.ActivationByOutcome(t.Context(), h.vow(1))
		assert.ErrorIs(t, err, store.ErrNotFound, "a vow that is no activation's outcome")
		_, err = h.s.ActivationByOutcome(t.Context(), flow.NewVowID())
		assert.ErrorIs(t, err, store.ErrNotFound)
	}},
}
