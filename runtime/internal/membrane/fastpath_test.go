package membrane

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// A replayed call that matches its entry allocates nothing in the membrane:
// the entry is compared as bytes, not decoded.
func TestReplayedCallAllocatesNothing(t *testing.T) {
	args, res := tuple(t, "treasury", "bob", 500), tuple(t, "tx-1")
	const n = 200
	es := make([]*entry, n)
	for i := range es {
		es[i] = callEntry("Transfer", args, res)
	}
	log := logOf(es...)
	m := New(Config{Activation: testActivation, Flow: "test.F", Log: log, Host: newHost()})
	m.Call(host, "Transfer", args) // the scratch buffer grows once
	allocs := testing.AllocsPerRun(n-2, func() {
		out, err := m.Call(host, "Transfer", args)
		if err != nil || string(out) != string(res) {
			t.Errorf("replayed %x, %v; want %x", out, err, res)
		}
	})
	assert.Zero(t, allocs)
	assert.True(t, m.Replaying(), "one entry is left")
}

// An entry whose bytes differ from what the guest encodes, but which decodes
// to the same call, still replays: the general path decides.
func TestReplayedCallEncodedOtherwiseStillMatches(t *testing.T) {
	args, res := tuple(t, "x"), tuple(t, 7)
	en := callEntry("Echo", args, res)
	canonical := encodeEntry(en)
	// The method name's length written as an overlong varint: 0x84 0x00
	// reads as 4, like 0x04.
	i := indexOfMethod(t, canonical, "Echo")
	require.Equal(t, byte(4), canonical[i-1], "the length before the name")
	odd := append(append(append([]byte{}, canonical[:i-1]...), 0x84, 0x00), canonical[i:]...)
	log := []Entry{{Step: 0, Kind: KindCall, Gen: 1, Payload: odd}}

	g := start(newHost(), log, func(m *Membrane) ([]byte, error) { return m.Call(host, "Echo", args) })
	g.wait(t)
	require.True(t, g.returned)
	require.NoError(t, g.err)
	assert.Equal(t, res, g.result)
}

// A call that differs from its entry is still a divergence, with the kind
// the general path gives it.
func TestReplayedCallThatDiffersDiverges(t *testing.T) {
	log := logOf(callEntry("Echo", tuple(t, "x"), tuple(t, "x")))
	for _, c := range []struct {
		method string
		args   []byte
		want   diag.Problem
	}{
		{"Echo", tuple(t, "y"), diag.OtherArguments},
		{"Add", tuple(t, "x"), diag.OtherCall},
	} {
		h := newHost()
		g := start(h, log, func(m *Membrane) ([]byte, error) { return m.Call(host, c.method, c.args) })
		g.wait(t)
		_, _, failed := h.snapshot()
		require.Len(t, failed, 1, c.method)
		assert.Equal(t, c.want, failed[0].Problem, c.method)
	}
}

func indexOfMethod(t *testing.T, b []byte, name string) int {
	t.Helper()
	for i := range len(b) - len(name) {
		if string(b[i:i+len(name)]) == name {
			return i
		}
	}
	t.Fatalf("%q not in %x", name, b)
	return -1
}
