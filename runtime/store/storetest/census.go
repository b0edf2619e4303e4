package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// censusCases check the optional store.Censuser, on stores that have it.
var censusCases = []testCase{
	{"Census", func(t *testing.T, h *harness) {
		c, ok := h.s.(store.Censuser)
		if !ok {
			t.Skip("the store does not implement store.Censuser")
		}
		empty, err := c.Census(t.Context())
		require.NoError(t, err)
		assert.Empty(t, empty)
		all, _ := population(t, h)
		want := map[store.FlowCount]bool{}
		counts := map[[2]any]int{}
		for _, a := range all {
			if a.State != store.Done {
				counts[[2]any{a.Flow, a.State}]++
			}
		}
		for k, n := range counts {
			want[store.FlowCount{Flow: k[0].(string), State: k[1].(store.State), Count: n}] = true
		}
		got, err := c.Census(t.Context())
		require.NoError(t, err)
		require.Len(t, got, len(want), "one count per flow and state, done ones left out")
		for i, fc := range got {
			assert.True(t, want[fc], "%+v", fc)
			if i > 0 {
				prev := got[i-1]
				assert.True(t, prev.Flow < fc.Flow || prev.Flow == fc.Flow && prev.State < fc.State, "in flow, then state order")
			}
		}
	}},
}
