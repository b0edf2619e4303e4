package storetest

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// send submits a Send alone and returns it with its results.
func (h *harness) send(act flow.ActivationID, name, key, payload string, gen int64) *store.Send {
	h.t.Helper()
	op := &store.Send{Act: act, Name: name, Key: key, Payload: []byte(payload), Gen: gen}
	h.apply(op)
	return op
}

// receive submits a Receive alone with a fresh vow and returns it.
func (h *harness) receive(act flow.ActivationID, name string, gen int64) *store.Receive {
	h.t.Helper()
	op := &store.Receive{Act: act, Name: name, Vow: flow.NewVowID(), Gen: gen}
	h.apply(op)
	return op
}

func (h *harness) mailbox(act flow.ActivationID) []store.Message {
	h.t.Helper()
	m, err := h.s.Mailbox(h.t.Context(), act)
	require.NoError(h.t, err)
	return m
}

// texts renders a mailbox as name:payload:key strings, in its order.
func texts(ms []store.Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Name+":"+string(m.Payload)+":"+m.Key)
	}
	return out
}

// fulfilled requires a vow to be fulfilled with payload.
func (h *harness) fulfilled(v flow.VowID, payload string, gen int64, msgAndArgs ...any) {
	h.t.Helper()
	sameVow(h.t, store.Vow{ID: v, Kind: store.ReceiverVow, State: store.VowFulfilled, Payload: []byte(payload), Gen: gen}, h.getVow(v), msgAndArgs...)
}

var mailboxCases = []testCase{
	{"SendQueuesUntilReceived", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		s1, s2, s3 := h.send(a.ID, "shipped", "", "box-1", 2), h.send(a.ID, "shipped", "", "box-2", 2), h.send(a.ID, "note", "", "hi", 3)
		for i, s := range []*store.Send{s1, s2, s3} {
			assert.Equal(t, store.Queued, s.Result, "send %d", i)
			assert.Equal(t, int64(i+1), s.Seq, "messages are numbered in the order they are sent")
			assert.True(t, s.Vow.IsZero())
			assert.Empty(t, s.Waiters)
		}
		got := h.mailbox(a.ID)
		assert.Equal(t, []string{"shipped:box-1:", "shipped:box-2:", "note:hi:"}, texts(got))
		require.Len(t, got, 3)
		assert.Equal(t, []int64{1, 2, 3}, []int64{got[0].Seq, got[1].Seq, got[2].Seq})
		assert.Equal(t, []int64{2, 2, 3}, []int64{got[0].Gen, got[1].Gen, got[2].Gen})

		r1 := h.receive(a.ID, "shipped", 4)
		assert.True(t, r1.Delivered, "a message waited")
		assert.Equal(t, int64(1), r1.Seq, "the earliest of its mailbox")
		h.fulfilled(r1.Vow, "box-1", 4, "the receiver is fulfilled with the message")
		assert.Equal(t, []string{"shipped:box-2:", "note:hi:"}, texts(h.mailbox(a.ID)), "a received message leaves the mailbox")

		r2 := h.receive(a.ID, "shipped", 4)
		assert.True(t, r2.Delivered)
		assert.Equal(t, int64(2), r2.Seq)
		h.fulfilled(r2.Vow, "box-2", 4)

		r3 := h.receive(a.ID, "shipped", 4)
		assert.False(t, r3.Delivered, "the mailbox is empty")
		sameVow(t, store.Vow{ID: r3.Vow, Kind: store.ReceiverVow, State: store.VowPending, Gen: 4}, h.getVow(r3.Vow), "the receiver is a pending vow")
		forged := &store.SettleVow{ID: r3.Vow, State: store.VowFulfilled, Payload: []byte("forged"), Gen: 4, HostOnly: true}
		h.apply(forged)
		assert.False(t, forged.Settled, "only a message settles a receiver")
		assert.Equal(t, store.ReceiverVow, forged.Kind)

		h.restart()
		assert.Equal(t, []string{"note:hi:"}, texts(h.mailbox(a.ID)), "the mailbox after a restart")
		s4 := h.send(a.ID, "shipped", "", "box-3", 5)
		assert.Equal(t, store.Delivered, s4.Result, "the receiver that waits takes it")
		assert.Equal(t, int64(4), s4.Seq, "numbering goes on after a restart")
		assert.Equal(t, r3.Vow, s4.Vow)
		h.fulfilled(r3.Vow, "box-3", 5)
		assert.Equal(t, []string{"note:hi:"}, texts(h.mailbox(a.ID)), "a delivered message does not wait")
		assert.Empty(t, h.mailbox(h.create("test.F", 1).ID), "other activations have their own mailbox")
	}},
	{"ReceiversTakeMessagesInOrder", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		r1, r2 := h.receive(a.ID, "x", 1), h.receive(a.ID, "x", 1)
		other := h.receive(a.ID, "y", 1)
		s1, s2 := h.send(a.ID, "x", "", "first", 2), h.send(a.ID, "x", "", "second", 2)
		assert.Equal(t, r1.Vow, s1.Vow, "the earliest receiver takes the first message")
		assert.Equal(t, r2.Vow, s2.Vow)
		h.fulfilled(r1.Vow, "first", 2)
		h.fulfilled(r2.Vow, "second", 2)
		assert.Equal(t, store.VowPending, h.getVow(other.Vow).State, "a receiver of another mailbox takes nothing")
		s3 := h.send(a.ID, "x", "", "third", 2)
		assert.Equal(t, store.Queued, s3.Result)
	}},
	{"SendWakesAWaitingActivation", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		r := h.receive(a.ID, "approve", 1)
		h.apply(&store.Watch{Act: a.ID, Vows: []flow.VowID{r.Vow}, Suspend: true, Gen: 1})
		require.Equal(t, store.Suspended, h.state(a.ID))
		s := h.send(a.ID, "approve", "", "yes", 2)
		assert.Equal(t, store.Delivered, s.Result)
		assert.Equal(t, []flow.ActivationID{a.ID}, s.Waiters)
		assert.Equal(t, store.Running, h.state(a.ID), "woken, as a settled vow wakes its waiters")
		assert.Empty(t, h.waits(a.ID))
	}},
	{"SendWithAKeyIsTakenOnce", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		first := h.send(a.ID, "hook", "delivery-7", "payload", 1)
		assert.Equal(t, store.Queued, first.Result)
		again := h.send(a.ID, "hook", "delivery-7", "payload", 2)
		assert.Equal(t, store.Duplicate, again.Result)
		assert.Zero(t, again.Seq)
		other := h.send(a.ID, "hook", "delivery-7", "changed", 2)
		assert.Equal(t, store.Conflict, other.Result, "the key was taken with another payload")
		assert.Equal(t, []string{"hook:payload:delivery-7"}, texts(h.mailbox(a.ID)), "nothing more was written")

		r := h.receive(a.ID, "hook", 3)
		require.True(t, r.Delivered)
		h.fulfilled(r.Vow, "payload", 3)
		h.restart()
		assert.Equal(t, store.Duplicate, h.send(a.ID, "hook", "delivery-7", "payload", 4).Result, "the key is remembered after the message was received, and across a restart")
		assert.Empty(t, h.mailbox(a.ID))

		elsewhere := h.send(a.ID, "other", "delivery-7", "payload", 4)
		assert.Equal(t, store.Queued, elsewhere.Result, "keys belong to one mailbox")
		assert.Equal(t, int64(2), elsewhere.Seq, "duplicates took no number")
		b := h.create("test.F", 1)
		assert.Equal(t, store.Queued, h.send(b.ID, "hook", "delivery-7", "payload", 4).Result, "and to one activation")

		// A keyed message a waiting receiver takes at once is remembered too.
		c := h.create("test.F", 1)
		h.receive(c.ID, "hook", 4)
		assert.Equal(t, store.Delivered, h.send(c.ID, "hook", "k", "p", 4).Result)
		assert.Equal(t, store.Duplicate, h.send(c.ID, "hook", "k", "p", 4).Result)
	}},
	{"SendRefused", func(t *testing.T, h *harness) {
		missing := h.send(flow.NewActivationID(), "x", "", "p", 1)
		assert.Equal(t, store.NoSuchActivation, missing.Result)

		a := h.create("test.F", 1)
		wrong := &store.Send{Act: a.ID, Flow: "test.G", Name: "x", Payload: []byte("p"), Gen: 1}
		h.apply(wrong)
		assert.Equal(t, store.OtherFlow, wrong.Result)
		assert.Empty(t, h.mailbox(a.ID), "nothing is written")
		right := &store.Send{Act: a.ID, Flow: "test.F", Name: "x", Key: "k", Payload: []byte("p"), Gen: 1}
		h.apply(right)
		assert.Equal(t, store.Queued, right.Result)
		assert.Equal(t, int64(1), right.Seq)
		r := h.receive(a.ID, "late", 1)

		h.apply(&store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("done"), Gen: 2})
		assert.Empty(t, h.mailbox(a.ID), "finishing drops what no receiver took")
		done := h.send(a.ID, "x", "k", "p", 3)
		assert.Equal(t, store.Finished, done.Result, "a done activation takes no message, even one sent before")
		assert.Equal(t, store.Finished, h.send(a.ID, "late", "", "p", 3).Result)
		assert.Equal(t, store.VowPending, h.getVow(r.Vow).State, "a receiver left pending stays so")
		assert.Empty(t, h.mailbox(a.ID))
	}},
	{"SendAndReceiveConcurrently", concurrentMail},
	{"SendAndReceiveAreAtomic", func(t *testing.T, h *harness) {
		a := h.create("test.F", 1)
		taken := h.vow(1)
		err := store.Apply(t.Context(), h.s,
			&store.Send{Act: a.ID, Name: "x", Key: "k", Payload: []byte("lost"), Gen: 1},
			&store.CreateVow{ID: taken, Gen: 1}) // fails: the id exists
		require.Error(t, err)
		assert.Empty(t, h.mailbox(a.ID), "a failed submission sends nothing")
		s := h.send(a.ID, "x", "k", "kept", 1)
		assert.Equal(t, store.Queued, s.Result, "nor takes its key")
		assert.Equal(t, int64(1), s.Seq, "nor its number")

		err = store.Apply(t.Context(), h.s,
			&store.Receive{Act: a.ID, Name: "x", Vow: flow.NewVowID(), Gen: 1},
			&store.CreateVow{ID: taken, Gen: 1})
		require.Error(t, err)
		assert.Equal(t, []string{"x:kept:k"}, texts(h.mailbox(a.ID)), "a failed submission receives nothing")
		err = store.Apply(t.Context(), h.s, &store.Receive{Act: a.ID, Name: "x", Vow: taken, Gen: 1})
		assert.Error(t, err, "a receiver's vow id that exists fails")
		assert.Equal(t, []string{"x:kept:k"}, texts(h.mailbox(a.ID)))
	}},
}

// concurrentMail sends and receives at once, from many submitters: every
// message is taken by one receiver or waits, none is lost or taken twice,
// and a message and a receiver never both wait.
func concurrentMail(t *testing.T, h *harness) {
	a := h.create("test.F", 1)
	const n = 24
	sends := make([]*store.Send, n)
	recvs := make([]*store.Receive, n)
	var wg sync.WaitGroup
	for i := range n {
		sends[i] = &store.Send{Act: a.ID, Name: "x", Payload: []byte{byte(i)}, Gen: 1}
		recvs[i] = &store.Receive{Act: a.ID, Name: "x", Vow: flow.NewVowID(), Gen: 1}
		wg.Go(func() { assert.NoError(t, store.Apply(t.Context(), h.s, sends[i])) })
		wg.Go(func() { assert.NoError(t, store.Apply(t.Context(), h.s, recvs[i])) })
	}
	wg.Wait()
	took := map[byte]int{}
	for _, r := range recvs {
		v := h.getVow(r.Vow)
		if v.State == store.VowFulfilled {
			require.Len(t, v.Payload, 1)
			took[v.Payload[0]]++
		}
	}
	waiting := h.mailbox(a.ID)
	for _, m := range waiting {
		took[m.Payload[0]]++
	}
	assert.Len(t, took, n, "every message was taken or waits")
	for b, k := range took {
		assert.Equal(t, 1, k, "message %d is taken once", b)
	}
	pending := 0
	for _, r := range recvs {
		if h.getVow(r.Vow).State == store.VowPending {
			pending++
		}
	}
	assert.True(t, pending == 0 || len(waiting) == 0, "a message and a receiver never both wait: %d receivers, %d messages", pending, len(waiting))
	seqs := map[int64]bool{}
	for _, s := range sends {
		assert.False(t, seqs[s.Seq], "numbers are not shared")
		seqs[s.Seq] = true
	}
}

var statusCases = []testCase{
	{"PublishLastWins", func(t *testing.T, h *harness) {
		ctx := t.Context()
		a, b := h.create("test.F", 1), h.create("test.F", 1)
		h.apply(&store.Publish{Act: a.ID, Name: "progress", Payload: []byte("placed"), Gen: 1})
		h.apply(&store.Publish{Act: a.ID, Name: "progress", Payload: []byte("packed"), Gen: 2},
			&store.Publish{Act: a.ID, Name: "eta", Payload: []byte("tuesday"), Gen: 2})
		st, err := h.s.Status(ctx, a.ID, "progress")
		require.NoError(t, err)
		assert.Equal(t, "progress", st.Name)
		assert.True(t, bytes.Equal([]byte("packed"), st.Payload), "the last publication wins: %q", st.Payload)
		assert.Equal(t, int64(2), st.Gen)
		_, err = h.s.Status(ctx, a.ID, "missing")
		assert.ErrorIs(t, err, store.ErrNotFound)
		_, err = h.s.Status(ctx, b.ID, "progress")
		assert.ErrorIs(t, err, store.ErrNotFound, "another activation published nothing")
		none, err := h.s.Statuses(ctx, b.ID)
		require.NoError(t, err)
		assert.Empty(t, none)

		h.apply(&store.Finish{Act: a.ID, State: store.VowFulfilled, Payload: []byte("ok"), Gen: 3, At: time.Now()})
		h.restart()
		all, err := h.s.Statuses(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, all, 2, "what a done activation published stays, across a restart")
		assert.Equal(t, []string{"eta", "progress"}, []string{all[0].Name, all[1].Name}, "in name order")
		assert.Equal(t, []string{"tuesday", "packed"}, []string{string(all[0].Payload), string(all[1].Payload)})

		purge := &store.Purge{Before: time.Now().Add(time.Hour)}
		h.apply(purge)
		require.Equal(t, 1, purge.Purged)
		all, err = h.s.Statuses(ctx, a.ID)
		require.NoError(t, err)
		assert.Empty(t, all, "purging an activation deletes what it published")

		err = store.Apply(ctx, h.s, &store.Publish{Act: b.ID, Name: "progress", Payload: []byte("lost"), Gen: 4},
			&store.CreateVow{ID: b.Outcome, Gen: 4}) // fails: the id exists
		require.Error(t, err)
		_, err = h.s.Status(ctx, b.ID, "progress")
		assert.ErrorIs(t, err, store.ErrNotFound, "a failed submission publishes nothing")
	}},
}

var lineageCases = []testCase{
	{"Children", func(t *testing.T, h *harness) {
		ctx := t.Context()
		parent := h.create("test.Parent", 1)
		child := func(p flow.ActivationID) store.Activation {
			a := store.Activation{ID: flow.NewActivationID(), Flow: "test.Child", Args: []byte{8, 0}, Outcome: flow.NewVowID(), CreatedGen: 2, Parent: p}
			h.apply(&store.CreateActivation{Activation: a})
			a.State, a.Gen = store.Running, 2
			return a
		}
		c1, c2 := child(parent.ID), child(parent.ID)
		grandchild := child(c1.ID)
		sameActivation(t, c1, h.activation(c1.ID), "a child names its parent")
		assert.True(t, h.activation(parent.ID).Parent.IsZero(), "an activation a host started has none")

		h.restart()
		kids, err := h.s.Children(ctx, parent.ID)
		require.NoError(t, err)
		want := []store.Activation{c1, c2}
		slices.SortFunc(want, func(a, b store.Activation) int { return bytes.Compare(a.ID[:], b.ID[:]) })
		require.Len(t, kids, 2)
		for i := range want {
			sameActivation(t, want[i], kids[i], "children in id order")
		}
		kids, err = h.s.Children(ctx, c1.ID)
		require.NoError(t, err)
		require.Len(t, kids, 1, "children, not descendants")
		sameActivation(t, grandchild, kids[0])
		kids, err = h.s.Children(ctx, grandchild.ID)
		require.NoError(t, err)
		assert.Empty(t, kids)
		listed, err := h.s.Activations(ctx, store.Filter{Flow: "test.Child"})
		require.NoError(t, err)
		assert.Len(t, listed, 3)
		for _, a := range listed {
			assert.False(t, a.Parent.IsZero(), "listings carry the parent")
		}
	}},
}
