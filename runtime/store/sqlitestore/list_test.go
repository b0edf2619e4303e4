package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// TestListingManyFlows lists unfinished activations of more flows than a
// listing merges term by term (it sorts them instead): every one comes, in
// listing order, page after page, and counts agree.
func TestListingManyFlows(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "app.db"))
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var ops []store.Op
	var want []flow.ActivationID // newest first
	states := []store.State{store.Running, store.Suspended, store.Failed}
	const flows = 150 // 450 pairs of state and flow, beside one term of done ones
	n := 0
	for i := range flows {
		for _, st := range states {
			id := flow.NewActivationID()
			ops = append(ops, &store.CreateActivation{Activation: store.Activation{ID: id, Flow: fmt.Sprintf("f.F%03d", i),
				Outcome: flow.NewVowID(), CreatedGen: 1, Created: base.Add(time.Duration(n) * time.Second)}})
			if st != store.Running {
				ops = append(ops, &store.SetState{Act: id, State: st, Failure: []byte("{}"), Gen: 1})
			}
			want = append([]flow.ActivationID{id}, want...)
			n++
		}
	}
	done := flow.NewActivationID()
	ops = append(ops, &store.CreateActivation{Activation: store.Activation{ID: done, Flow: "f.Done", Outcome: flow.NewVowID(), CreatedGen: 1, Created: base.Add(-time.Hour)}},
		&store.Finish{Act: done, State: store.VowFulfilled, Gen: 1})
	want = append(want, done)
	require.NoError(t, store.Apply(ctx, s, ops...))

	var got []flow.ActivationID
	f := store.Filter{Limit: 100}
	for {
		page, err := s.Activations(ctx, f)
		require.NoError(t, err)
		for _, a := range page {
			got = append(got, a.ID)
		}
		if len(page) < f.Limit {
			break
		}
		last := page[len(page)-1]
		f.After = store.Cursor{Created: last.Created, ID: last.ID}
	}
	assert.Equal(t, want, got)
	count, err := s.Count(ctx, store.Filter{})
	require.NoError(t, err)
	assert.Equal(t, len(want), count)

	failed, err := s.Activations(ctx, store.Filter{State: store.Failed, Limit: 1000})
	require.NoError(t, err)
	require.Len(t, failed, flows)
	for i := 1; i < len(failed); i++ {
		assert.True(t, failed[i-1].Created.After(failed[i].Created), "newest first")
	}
}
