package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Shared is what RunShared needs of a shared store implementation.
type Shared struct {
	// Open returns a handle on a new, empty store.
	Open func(t *testing.T) store.Shared
	// Another returns another handle on s's store, as another process
	// would open it.
	Another func(t *testing.T, s store.Shared) store.Shared
	// Lapse makes s stop renewing its lease, and lets the lease lapse now,
	// as if its process had been stopped. Resume lets it renew again, as
	// when the process goes on.
	Lapse, Resume func(t *testing.T, s store.Shared)
}

// RunShared runs the cases of store.Shared, each on two handles of one
// store: ownership and fencing, takeover after a lease lapses, failures per
// build, StartWithID's creation, vows and timers settled once, and the
// events that cross between handles. The store must also pass Run.
func RunShared(t *testing.T, impl Shared) {
	for _, c := range sharedCases {
		t.Run(c.name, func(t *testing.T) {
			p := &pair{t: t, impl: impl}
			p.a = p.track(impl.Open(t))
			p.b = p.track(impl.Another(t, p.a))
			c.run(t, p)
		})
	}
}

// pair is two handles on one store.
type pair struct {
	t    *testing.T
	impl Shared
	a, b store.Shared
}

func (p *pair) track(s store.Shared) store.Shared {
	p.t.Helper()
	require.NotNil(p.t, s)
	p.t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func apply(t *testing.T, s store.Store, ops ...store.Op) {
	t.Helper()
	require.NoError(t, store.Apply(t.Context(), s, ops...))
}

func create(t *testing.T, s store.Store, name string) store.Activation {
	t.Helper()
	a := store.Activation{ID: flow.NewActivationID(), Flow: name, Args: []byte{1}, Outcome: flow.NewVowID(), CreatedGen: 1}
	op := &store.CreateActivation{Activation: a}
	apply(t, s, op)
	require.Nil(t, op.Existing)
	return a
}

func appendAt(s store.Store, id flow.ActivationID, step int64) error {
	return store.Apply(context.Background(), s, &store.Append{Act: id, Entry: store.Entry{Step: step, Kind: 1, Gen: 1, Payload: []byte{byte(step)}}})
}

func claim(t *testing.T, s store.Shared, id flow.ActivationID, retry bool) bool {
	t.Helper()
	ok, err := s.Claim(t.Context(), id, retry)
	require.NoError(t, err)
	return ok
}

func adopt(t *testing.T, s store.Shared, flows ...string) []flow.ActivationID {
	t.Helper()
	var got []flow.ActivationID
	_, err := s.Adopt(t.Context(), flows, 0, func(id flow.ActivationID, _ string, _ store.State) error {
		got = append(got, id)
		return nil
	})
	require.NoError(t, err)
	return got
}

// fenced checks that every op about an activation fails with ErrFenced and
// has no effect.
func fenced(t *testing.T, s store.Store, id flow.ActivationID, step int64, what string) {
	t.Helper()
	assert.ErrorIs(t, appendAt(s, id, step), store.ErrFenced, "append: %s", what)
	assert.ErrorIs(t, store.Apply(t.Context(), s, &store.Watch{Act: id, Vows: []flow.VowID{flow.NewVowID()}, Gen: 1}), store.ErrFenced, "watch: %s", what)
	assert.ErrorIs(t, store.Apply(t.Context(), s, &store.SetState{Act: id, State: store.Failed, Failure: []byte("x"), Gen: 1}), store.ErrFenced, "set state: %s", what)
	assert.ErrorIs(t, store.Apply(t.Context(), s, &store.Finish{Act: id, State: store.VowFulfilled, Gen: 1}), store.ErrFenced, "finish: %s", what)
	assert.ErrorIs(t, store.Apply(t.Context(), s, &store.Continue{Act: id, Args: []byte{9}, Gen: 1}), store.ErrFenced, "continue: %s", what)
}

// event waits for an event of kind on s that satisfies ok.
func event(t *testing.T, s store.Shared, kind store.EventKind, ok func(store.Event) bool, what string) store.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, open := <-s.Events():
			require.True(t, open, "events closed while waiting for %s", what)
			if ev.Kind == kind && (ok == nil || ok(ev)) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event: %s", what)
		}
	}
}

var sharedCases = []sharedCase{
	{"OwnerWritesAlone", func(t *testing.T, p *pair) {
		x := create(t, p.a, "test.F")
		require.NoError(t, appendAt(p.a, x.ID, 0))
		assert.False(t, claim(t, p.b, x.ID, true), "a live owner keeps it, retry or not")
		fenced(t, p.b, x.ID, 1, "the creator owns it")
		require.NoError(t, appendAt(p.a, x.ID, 1))
		log, err := p.b.Log(t.Context(), x.ID)
		require.NoError(t, err)
		assert.Len(t, log, 2, "only the owner's entries")
		assert.Equal(t, store.Running, getState(t, p.b, x.ID))

		// Others may settle vows, fire timers and read, whoever owns what.
		v := flow.NewVowID()
		apply(t, p.a, &store.CreateVow{ID: v, Gen: 1})
		apply(t, p.a, &store.Watch{Act: x.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1})
		settle := &store.SettleVow{ID: v, State: store.VowFulfilled, Gen: 2}
		apply(t, p.b, settle)
		assert.True(t, settle.Settled)
		assert.Equal(t, []flow.ActivationID{x.ID}, settle.Waiters)
		assert.Equal(t, store.Running, getState(t, p.a, x.ID), "woken by another handle")
		assert.False(t, claim(t, p.b, x.ID, false), "waking it does not take it")
	}},
	{"ReleaseAndClaim", func(t *testing.T, p *pair) {
		x := create(t, p.a, "test.F")
		require.NoError(t, appendAt(p.a, x.ID, 0))
		require.NoError(t, p.a.Release(t.Context(), x.ID))
		assert.True(t, claim(t, p.b, x.ID, false))
		assert.True(t, claim(t, p.b, x.ID, false), "claiming what one owns")
		fenced(t, p.a, x.ID, 1, "after it released it")
		require.NoError(t, appendAt(p.b, x.ID, 1), "the new owner goes on where the log ends")
		assert.False(t, claim(t, p.a, x.ID, true))

		done := create(t, p.a, "test.F")
		apply(t, p.a, &store.Finish{Act: done.ID, State: store.VowFulfilled, Gen: 1})
		assert.False(t, claim(t, p.b, done.ID, true), "a done activation is claimed by none")
		assert.False(t, claim(t, p.b, flow.NewActivationID(), true), "nor a missing one")
	}},
	{"ReleaseComesAfterWrites", func(t *testing.T, p *pair) {
		// Submitted without waiting, then released: the release waits for
		// them, so the next owner reads them all.
		x := create(t, p.a, "test.F")
		var ps []*store.Pending
		for step := range 50 {
			ps = append(ps, p.a.Submit(&store.Append{Act: x.ID, Entry: store.Entry{Step: int64(step), Kind: 1, Gen: 1}}))
		}
		require.NoError(t, p.a.Release(t.Context(), x.ID))
		for _, pe := range ps {
			require.NoError(t, pe.Wait())
		}
		require.True(t, claim(t, p.b, x.ID, false))
		log, err := p.b.Log(t.Context(), x.ID)
		require.NoError(t, err)
		assert.Len(t, log, 50)
	}},
	{"CloseReleases", func(t *testing.T, p *pair) {
		x := create(t, p.a, "test.F")
		y := create(t, p.a, "test.F")
		s := create(t, p.a, "test.F")
		apply(t, p.a, &store.Watch{Act: s.ID, Vows: []flow.VowID{vowOf(t, p.a)}, Suspend: true, Gen: 1})
		require.NoError(t, p.a.Close(t.Context()))
		assert.ElementsMatch(t, []flow.ActivationID{x.ID, y.ID}, adopt(t, p.b, "test.F", "test.Other"),
			"running ones of a closed handle, not suspended ones")
		assert.Empty(t, adopt(t, p.b, "test.F"), "adopted once")
		assert.True(t, claim(t, p.b, s.ID, false), "a suspended one is claimed by whoever wakes it")
		assert.Empty(t, adopt(t, p.track(p.impl.Another(t, p.b)), "test.F"), "what a live handle owns is not adopted")
	}},
	{"AdoptOnlyRegisteredFlows", func(t *testing.T, p *pair) {
		f, g := create(t, p.a, "test.F"), create(t, p.a, "test.G")
		require.NoError(t, p.a.Release(t.Context(), f.ID))
		require.NoError(t, p.a.Release(t.Context(), g.ID))
		assert.Equal(t, []flow.ActivationID{g.ID}, adopt(t, p.b, "test.G"))
		assert.Equal(t, []flow.ActivationID{f.ID}, adopt(t, p.b, "test.F", "test.G"))
	}},
	{"TakeoverFencesTheLapsed", func(t *testing.T, p *pair) {
		x := create(t, p.a, "test.F")
		s := create(t, p.a, "test.F")
		v := vowOf(t, p.a)
		require.NoError(t, appendAt(p.a, x.ID, 0))
		apply(t, p.a, &store.Watch{Act: s.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1})
		assert.Empty(t, adopt(t, p.b, "test.F"), "a live owner keeps what it runs")

		p.impl.Lapse(t, p.a) // its process stops, as with SIGSTOP
		assert.Equal(t, []flow.ActivationID{x.ID}, adopt(t, p.b, "test.F"), "the running one is taken over")
		assert.True(t, claim(t, p.b, s.ID, false), "the sleeping one by whoever wakes it")
		require.NoError(t, appendAt(p.b, x.ID, 1))

		// The stopped process wakes up late and tries to go on: nothing it
		// writes about what it owned lands, before it has noticed and after.
		fenced(t, p.a, x.ID, 1, "taken over, before the old owner notices")
		fenced(t, p.a, s.ID, 0, "taken over, before the old owner notices")
		p.impl.Resume(t, p.a)
		event(t, p.a, store.Fenced, nil, "the old owner hears it was fenced")
		fenced(t, p.a, x.ID, 2, "taken over, after the old owner noticed")
		log, err := p.b.Log(t.Context(), x.ID)
		require.NoError(t, err)
		assert.Len(t, log, 2, "no entry from the fenced handle")

		// Until it rejoins, it writes nothing about activations, even of
		// those it creates; then what it creates or claims, it owns.
		early := create(t, p.a, "test.F")
		assert.ErrorIs(t, appendAt(p.a, early.ID, 0), store.ErrFenced, "fenced until it rejoins")
		require.NoError(t, p.a.Rejoin(t.Context()))
		assert.ErrorIs(t, appendAt(p.a, early.ID, 0), store.ErrFenced, "what it made under the lapsed lease is not its own")
		fenced(t, p.a, x.ID, 2, "taken over, after the old owner rejoined")
		z := create(t, p.a, "test.F")
		require.NoError(t, appendAt(p.a, z.ID, 0))
		assert.False(t, claim(t, p.b, z.ID, false))
	}},
	{"FailureStaysWithItsBuild", func(t *testing.T, p *pair) {
		_, err := p.a.BeginIncarnation(t.Context(), "v2", 1)
		require.NoError(t, err)
		_, err = p.b.BeginIncarnation(t.Context(), "v1", 2)
		require.NoError(t, err)
		x := create(t, p.a, "test.F")
		apply(t, p.a, &store.SetState{Act: x.ID, State: store.Failed, Failure: []byte(`{"problem":"other-call"}`), Gen: 1})
		require.NoError(t, p.a.Release(t.Context(), x.ID))
		assert.False(t, claim(t, p.a, x.ID, false), "the build that failed it leaves it")
		assert.Empty(t, adopt(t, p.a, "test.F"), "and does not adopt it")
		assert.Equal(t, []flow.ActivationID{x.ID}, adopt(t, p.b, "test.F"), "another build adopts it")
		apply(t, p.b, &store.SetState{Act: x.ID, State: store.Running, Gen: 2})
		require.NoError(t, p.b.Release(t.Context(), x.ID))
		assert.False(t, claim(t, p.a, x.ID, false), "running again, but not on the build that failed it")
		assert.True(t, claim(t, p.a, x.ID, true), "unless retried")
	}},
	{"StartWithIDOnce", func(t *testing.T, p *pair) {
		const n = 100
		ids := make([]flow.ActivationID, n)
		for i := range ids {
			ids[i] = flow.NewActivationID()
		}
		created := make([][2]bool, n)
		var wg sync.WaitGroup
		for h, s := range []store.Store{p.a, p.b} {
			wg.Go(func() {
				for i, id := range ids {
					op := &store.CreateActivation{Activation: store.Activation{ID: id, Flow: "test.F", Outcome: flow.NewVowID(), CreatedGen: 1}}
					assert.NoError(t, store.Apply(t.Context(), s, op))
					created[i][h] = op.Existing == nil
				}
			})
		}
		wg.Wait()
		for i := range ids {
			assert.True(t, created[i][0] != created[i][1], "activation %d is created by exactly one handle: %v", i, created[i])
		}
	}},
	{"SettledOnce", func(t *testing.T, p *pair) {
		const n = 100
		vows := make([]flow.VowID, n)
		for i := range vows {
			vows[i] = vowOf(t, p.a)
		}
		settled := make([][2]bool, n)
		var wg sync.WaitGroup
		for h, s := range []store.Store{p.a, p.b} {
			wg.Go(func() {
				for i, v := range vows {
					op := &store.SettleVow{ID: v, State: store.VowFulfilled, Payload: []byte{byte(h)}, Gen: 1}
					assert.NoError(t, store.Apply(t.Context(), s, op))
					settled[i][h] = op.Settled
				}
			})
		}
		wg.Wait()
		for i := range vows {
			assert.True(t, settled[i][0] != settled[i][1], "vow %d is settled by exactly one handle", i)
		}
	}},
	{"TimersFireOnce", func(t *testing.T, p *pair) {
		const n = 300
		var ops []store.Op
		for i := range n {
			ops = append(ops, &store.CreateVow{ID: flow.NewVowID(), Gen: 1, Deadline: base.Add(time.Duration(i) * time.Millisecond)})
		}
		apply(t, p.a, ops...)
		fired := make([][]flow.VowID, 2)
		var wg sync.WaitGroup
		for h, s := range []store.Store{p.a, p.b} {
			wg.Go(func() {
				for {
					op := &store.FireTimers{Now: base.Add(time.Hour), Limit: 7, Gen: 1, EncodeDeadline: encodeDeadline}
					if !assert.NoError(t, store.Apply(t.Context(), s, op)) || len(op.Fired) == 0 {
						return
					}
					fired[h] = append(fired[h], firedVows(op.Fired)...)
				}
			})
		}
		wg.Wait()
		seen := map[flow.VowID]int{}
		for _, f := range fired {
			for _, v := range f {
				seen[v]++
			}
		}
		assert.Len(t, seen, n, "every timer fires")
		for v, c := range seen {
			assert.Equal(t, 1, c, "timer %s fires once", v)
		}
	}},
	{"WatchMeetsSettle", func(t *testing.T, p *pair) {
		// One handle watches while the other settles: the waiter is either
		// told the vow is settled, or woken by the settlement. Never lost.
		for i := range 100 {
			x := create(t, p.a, "test.F")
			v := vowOf(t, p.a)
			w := &store.Watch{Act: x.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1}
			s := &store.SettleVow{ID: v, State: store.VowFulfilled, Gen: 1}
			var wg sync.WaitGroup
			wg.Go(func() { assert.NoError(t, store.Apply(t.Context(), p.a, w)) })
			wg.Go(func() { assert.NoError(t, store.Apply(t.Context(), p.b, s)) })
			wg.Wait()
			require.True(t, s.Settled)
			if w.Index == 0 {
				assert.Empty(t, s.Waiters, "round %d: the watch saw it settled, so no wait was recorded", i)
				continue
			}
			assert.Equal(t, []flow.ActivationID{x.ID}, s.Waiters, "round %d: the settlement woke the waiter", i)
			assert.Equal(t, store.Running, getState(t, p.a, x.ID))
		}
	}},
	{"EventsCross", func(t *testing.T, p *pair) {
		x := create(t, p.a, "test.F")
		y := create(t, p.b, "test.F")
		v := vowOf(t, p.a)
		apply(t, p.a, &store.Watch{Act: x.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1})
		apply(t, p.b, &store.Watch{Act: y.ID, Vows: []flow.VowID{v}, Suspend: true, Gen: 1})
		apply(t, p.b, &store.SettleVow{ID: v, State: store.VowFulfilled, Gen: 1})
		ev := event(t, p.a, store.VowSettled, func(e store.Event) bool { return e.Vow == v }, "the owner of a waiter hears of the settlement")
		assert.Equal(t, []flow.ActivationID{x.ID}, ev.Waiters, "its own waiters only")

		// Any settlement is heard, for hosts that wait for vows; a handle's
		// own are not.
		w := vowOf(t, p.b)
		apply(t, p.a, &store.SettleVow{ID: w, State: store.VowRejected, Payload: []byte("no"), Gen: 1})
		ev = event(t, p.b, store.VowSettled, func(e store.Event) bool { return e.Vow == w }, "a settlement without waiters")
		assert.Empty(t, ev.Waiters)
		fin := create(t, p.a, "test.F")
		apply(t, p.a, &store.Finish{Act: fin.ID, State: store.VowFulfilled, Gen: 1})
		event(t, p.b, store.VowSettled, func(e store.Event) bool { return e.Vow == fin.Outcome }, "an outcome")
		timer := flow.NewVowID()
		apply(t, p.a, &store.CreateVow{ID: timer, Gen: 1, Deadline: base})
		apply(t, p.a, &store.FireTimers{Now: base, Gen: 1, EncodeDeadline: encodeDeadline})
		event(t, p.b, store.VowSettled, func(e store.Event) bool { return e.Vow == timer }, "a timer")
		for {
			select {
			case ev := <-p.a.Events():
				assert.False(t, ev.Kind == store.VowSettled && (ev.Vow == w || ev.Vow == fin.Outcome || ev.Vow == timer), "a handle does not hear its own settlements")
				continue
			default:
			}
			break
		}
		event(t, p.a, store.Poll, nil, "polls")
	}},
}

type sharedCase struct {
	name string
	run  func(t *testing.T, p *pair)
}

func getState(t *testing.T, s store.Store, id flow.ActivationID) store.State {
	t.Helper()
	a, err := s.Activation(t.Context(), id)
	require.NoError(t, err)
	return a.State
}

func vowOf(t *testing.T, s store.Store) flow.VowID {
	t.Helper()
	v := flow.NewVowID()
	apply(t, s, &store.CreateVow{ID: v, Gen: 1})
	return v
}
