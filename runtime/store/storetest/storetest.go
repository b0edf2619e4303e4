package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Run runs the suite, each case in a subtest on a store of its own. open
// returns a new, empty store. reopen is given a store the suite has closed
// and returns a new store on the same data, as the next process to open it
// would see it. The suite closes every store it gets, at the latest when its
// subtest ends; a store must take a second Close.
func Run(t *testing.T, open func(t *testing.T) store.Store, reopen func(t *testing.T, closed store.Store) store.Store) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			h := &harness{t: t, open: open, reopen: reopen}
			h.s = h.track(open(t))
			c.run(t, h)
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

func cases() []testCase {
	var all []testCase
	for _, group := range [][]testCase{incarnationCases, activationCases, listingCases, historyCases, censusCases, vowCases, watchCases, timerCases, submitCases, lifecycleCases, mailboxCases, statusCases, lineageCases, runCases, cancelCases} {
		all = append(all, group...)
	}
	return all
}

// harness is one case's store and what it needs to reopen it.
type harness struct {
	t      *testing.T
	s      store.Store
	open   func(t *testing.T) store.Store
	reopen func(t *testing.T, closed store.Store) store.Store
}

func (h *harness) track(s store.Store) store.Store {
	h.t.Helper()
	require.NotNil(h.t, s, "open returned no store")
	h.t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// restart closes the case's store and opens it again on the same data.
func (h *harness) restart() {
	h.t.Helper()
	require.NoError(h.t, h.s.Close(h.t.Context()))
	h.s = h.track(h.reopen(h.t, h.s))
}

// apply submits ops as one submission and requires it to commit.
func (h *harness) apply(ops ...store.Op) {
	h.t.Helper()
	require.NoError(h.t, store.Apply(h.t.Context(), h.s, ops...))
}

// create makes a running activation of flow name with fresh ids.
func (h *harness) create(name string, gen int64) store.Activation {
	h.t.Helper()
	return h.createAt(name, gen, time.Time{})
}

// createAt makes a running activation of flow name with fresh ids, created
// at the given time.
func (h *harness) createAt(name string, gen int64, at time.Time) store.Activation {
	h.t.Helper()
	a := store.Activation{ID: flow.NewActivationID(), Flow: name, Args: []byte{0x08, 0x00}, Outcome: flow.NewVowID(), CreatedGen: gen, Created: at}
	op := &store.CreateActivation{Activation: a}
	h.apply(op)
	require.Nil(h.t, op.Existing, "a new id must create an activation")
	a.State, a.Gen, a.StateSince = store.Running, gen, at
	return a
}

// vow makes a pending vow.
func (h *harness) vow(gen int64) flow.VowID {
	h.t.Helper()
	id := flow.NewVowID()
	h.apply(&store.CreateVow{ID: id, Gen: gen})
	return id
}

func (h *harness) activation(id flow.ActivationID) store.Activation {
	h.t.Helper()
	a, err := h.s.Activation(h.t.Context(), id)
	require.NoError(h.t, err)
	return a
}

func (h *harness) state(id flow.ActivationID) store.State {
	h.t.Helper()
	return h.activation(id).State
}

func (h *harness) getVow(id flow.VowID) store.Vow {
	h.t.Helper()
	v, err := h.s.Vow(h.t.Context(), id)
	require.NoError(h.t, err)
	return v
}

func (h *harness) log(id flow.ActivationID) []store.Entry {
	h.t.Helper()
	l, err := h.s.Log(h.t.Context(), id)
	require.NoError(h.t, err)
	return l
}

func (h *harness) waits(id flow.ActivationID) []flow.VowID {
	h.t.Helper()
	w, err := h.s.Waits(h.t.Context(), id)
	require.NoError(h.t, err)
	return w
}

// sameActivation compares two rows, treating nil and empty byte slices alike.
// It compares the stored fields; the Times case checks those a store
// computes (Changed and LastGen).
func sameActivation(t *testing.T, want, got store.Activation, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, msgAndArgs...)
	assert.Equal(t, want.Flow, got.Flow, msgAndArgs...)
	assert.Equal(t, want.StartKey, got.StartKey, msgAndArgs...)
	assert.True(t, bytes.Equal(want.Args, got.Args), "args %x, want %x %v", got.Args, want.Args, msgAndArgs)
	assert.Equal(t, want.State, got.State, msgAndArgs...)
	assert.Equal(t, want.Outcome, got.Outcome, msgAndArgs...)
	assert.Equal(t, want.CreatedGen, got.CreatedGen, msgAndArgs...)
	assert.Equal(t, want.Gen, got.Gen, msgAndArgs...)
	assert.True(t, bytes.Equal(want.Failure, got.Failure), "failure %q, want %q %v", got.Failure, want.Failure, msgAndArgs)
	assert.Equal(t, want.Parent, got.Parent, msgAndArgs...)
	sameTime(t, want.Created, got.Created, "created", msgAndArgs...)
	sameTime(t, want.StateSince, got.StateSince, "state since", msgAndArgs...)
	sameTime(t, want.Finished, got.Finished, "finished", msgAndArgs...)
	assert.Equal(t, want.Run, got.Run, msgAndArgs...)
	assert.True(t, bytes.Equal(want.RunArgs, got.RunArgs), "run args %x, want %x %v", got.RunArgs, want.RunArgs, msgAndArgs)
}

// sameTime compares instants to the nanosecond; the zero time is zero.
func sameTime(t *testing.T, want, got time.Time, what string, msgAndArgs ...any) {
	t.Helper()
	if want.IsZero() {
		assert.True(t, got.IsZero(), "%s: %v, want the zero time %v", what, got, msgAndArgs)
		return
	}
	assert.True(t, want.Equal(got), "%s: %v, want %v %v", what, got, want, msgAndArgs)
}

// sameVow compares two vows, treating nil and empty payloads alike.
func sameVow(t *testing.T, want, got store.Vow, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, msgAndArgs...)
	assert.Equal(t, want.Kind, got.Kind, msgAndArgs...)
	assert.Equal(t, want.State, got.State, msgAndArgs...)
	assert.True(t, bytes.Equal(want.Payload, got.Payload), "payload %q, want %q %v", got.Payload, want.Payload, msgAndArgs)
	assert.Equal(t, want.Gen, got.Gen, msgAndArgs...)
}

// sameEntries compares logs, treating nil and empty payloads alike.
func sameEntries(t *testing.T, want, got []store.Entry, msgAndArgs ...any) {
	t.Helper()
	if !assert.Len(t, got, len(want), msgAndArgs...) {
		return
	}
	for i := range want {
		assert.Equal(t, want[i].Step, got[i].Step, msgAndArgs...)
		assert.Equal(t, want[i].Kind, got[i].Kind, msgAndArgs...)
		assert.Equal(t, want[i].Gen, got[i].Gen, msgAndArgs...)
		sameTime(t, want[i].At, got[i].At, "entry time", msgAndArgs...)
		assert.True(t, bytes.Equal(want[i].Payload, got[i].Payload), "entry %d payload %q, want %q %v", i, got[i].Payload, want[i].Payload, msgAndArgs)
	}
}

// sortedVows returns ids in the order the store lists them: by bytes.
func sortedVows(ids ...flow.VowID) []flow.VowID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b flow.VowID) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// encodeDeadline is the EncodeDeadline the suite gives FireTimers: the
// deadline to the nanosecond, so a store that rounds it shows.
func encodeDeadline(t time.Time) []byte {
	return []byte(t.UTC().Format(time.RFC3339Nano))
}

// base is a time of no significance, with nanoseconds.
var base = time.Date(2027, 1, 15, 8, 0, 0, 123456789, time.UTC)
