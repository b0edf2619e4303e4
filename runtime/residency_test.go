package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

func TestResidencyEvictsAndRevives(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{MaxResident: 2}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		v, err := h.Ask(fc, a)
		if err != nil {
			return "", err
		}
		ans, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		return h.Echo(fc, a+"="+ans)
	})
	var vows []flow.Vow[string]
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		vows = append(vows, e.start(n))
	}
	eventually(t, func() bool {
		list, err := e.rt.Admin().List(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
		require.NoError(t, err)
		resident := 0
		for _, i := range list {
			if i.Resident {
				resident++
			}
		}
		return len(list) == 5 && resident <= 2
	}, "five suspended, at most two resident")
	for _, n := range names {
		e.ask(n, "ok")
	}
	for i, v := range vows {
		got, err := e.wait(v)
		require.NoError(t, err)
		assert.Equal(t, names[i]+"=ok", got)
	}
	// Each Ask reached the host once: evicted activations replayed it.
	asks := 0
	for _, m := range e.host.Methods() {
		if m == "Ask" {
			asks++
		}
	}
	assert.Equal(t, 5, asks)
}

func TestAnUnawaitedFutureDoesNotKeepAnActivationRunning(t *testing.T) {
	path := tempStore(t)
	flowFn := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		testkit.AsyncTeller(h).Echo(fc, "fire and forget")
		v, err := h.Ask(fc, "q")
		if err != nil {
			return "", err
		}
		return flow.Await(fc, v)
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, flowFn)
	v := e1.start("")
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	asked, _ := e1.host.Asked("q")
	e1.close()

	// Lazy revival holds: Start loads nothing, and calls nothing.
	e2 := incarnation(t, path, "b2", runtime.Options{}, flowFn)
	assert.False(t, e2.only().Resident)
	assert.Equal(t, runtime.StateSuspended, e2.only().State)
	assert.Empty(t, e2.host.Calls())
	require.NoError(t, runtime.Resolve(t.Context(), e2.rt, flow.VowOf[string](asked), "done"))
	got, err := e2.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "done", got)
}
