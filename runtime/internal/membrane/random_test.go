package membrane

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// draws draws a random number and a UUID and hands both to the host.
func draws(t *testing.T) script {
	return func(g *Membrane) ([]byte, error) {
		r := g.Random()
		u := g.UUID()
		call(g, host, "Echo", tuple(t, r, u[:]))
		return codec.MarshalTuple(r, u[:])
	}
}

func TestRandomAndUUIDAreLoggedAndReplayed(t *testing.T) {
	first := newHost()
	g := start(first, nil, draws(t))
	g.wait(t)
	require.True(t, g.returned)
	_, log, failed := first.snapshot()
	require.Empty(t, failed)
	require.Len(t, log, 3)

	var r uint64
	var u []byte
	d := codec.NewDecoder(g.result)
	d.ReadList()
	r, u = d.ReadUint(64), d.ReadBytes()
	require.NoError(t, d.Done())
	require.Len(t, u, 16)
	assert.Equal(t, byte(0x40), u[6]&0xf0, "version 4")
	assert.Equal(t, byte(0x80), u[8]&0xc0, "RFC 9562 variant")
	assert.Equal(t, "flow.Random() = "+codec.Format(value(t, r)), Describe(log[0]))
	assert.Regexp(t, `^flow\.UUID\(\) = [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, Describe(log[1]))

	// Replaying hands back the logged values: the host call matches its log.
	h := newHost()
	h.methods = nil
	again := start(h, log, draws(t))
	again.wait(t)
	require.True(t, again.returned)
	assert.Equal(t, g.result, again.result)
	calls, appended, failed := h.snapshot()
	assert.Empty(t, calls)
	assert.Empty(t, appended)
	assert.Empty(t, failed)

	// Two live runs draw differently.
	other := start(newHost(), nil, draws(t))
	other.wait(t)
	assert.NotEqual(t, g.result, other.result)
	assert.NotZero(t, binary.BigEndian.Uint64(u[:8])|r, "drawn, not zero")
}

func TestAnEffectWaitsForTheDrawToBeDurable(t *testing.T) {
	h := newHost()
	c := &blocked{release: make(chan struct{})}
	h.commit = func() Commit { return c }
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		return call(g, host, "Echo", tuple(t, g.Random())), nil
	})
	eventually(t, func() bool {
		_, appended, _ := h.snapshot()
		return len(appended) == 1
	}, "the draw appended")
	calls, _, _ := h.snapshot()
	assert.Empty(t, calls, "the host call waits until the number it may depend on is durable")
	close(c.release)
	g.wait(t)
	calls, _, _ = h.snapshot()
	assert.Len(t, calls, 1)
}
