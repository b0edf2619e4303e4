package membrane

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
)

func TestCancellationIsTheActivationsOwnVow(t *testing.T) {
	h := newHost()
	c := CancelVow(testActivation)
	assert.Equal(t, c, CancelVow(testActivation), "derived, the same every time")
	assert.NotEqual(t, c, CancelVow(flow.ActivationID{9}), "and each activation's own")
	h.vows[c] = &Settlement{Value: value(t, "stop")}
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		first, second := g.Cancellation(), g.Cancellation()
		if first != second {
			panic("two cancellation vows")
		}
		return await(g, flow.AwaitKey{Vow: first})
	})
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, value(t, "stop"), g.result)
	_, appended, _ := h.snapshot()
	require.Len(t, appended, 1, "asking is no crossing; awaiting is")
	assert.Equal(t, "vow:"+c.String()+` settled → "stop"`, Describe(appended[0]))

	// Replayed: the same vow, answered from the log.
	r := newHost()
	again := start(r, appended, func(g *Membrane) ([]byte, error) {
		return await(g, flow.AwaitKey{Vow: g.Cancellation()})
	})
	again.wait(t)
	require.True(t, again.returned)
	assert.Equal(t, g.result, again.result)
	assert.Empty(t, r.watched)
}
