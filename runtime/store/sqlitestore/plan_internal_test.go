package sqlitestore

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// TestListingsUseAnIndex asks SQLite how it runs every kind of listing,
// count and lookup: each walks an index in listing order — no scan of the
// activations table, no sort of its rows — so a page costs what it lists.
func TestListingsUseAnIndex(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "app.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(ctx) })
	for _, b := range []string{"b1", "b2", "b1"} {
		_, err := s.BeginIncarnation(ctx, b, 1)
		require.NoError(t, err)
	}
	// Unfinished activations of two flows in every state, so that listings
	// merge a term for each.
	for _, fl := range []string{"payments.Charge", "orders.Ship"} {
		for _, st := range []store.State{store.Running, store.Suspended, store.Failed} {
			id := flow.NewActivationID()
			require.NoError(t, store.Apply(ctx, s, &store.CreateActivation{Activation: store.Activation{ID: id, Flow: fl, Outcome: flow.NewVowID(), CreatedGen: 1, Created: time.Now()}}))
			if st != store.Running {
				require.NoError(t, store.Apply(ctx, s, &store.SetState{Act: id, State: st, Failure: []byte("{}"), Gen: 1}))
			}
		}
	}
	// ANALYZE statistics must not be needed: plans are fixed by INDEXED BY.
	now := time.Now()
	cursor := store.Cursor{Created: now, ID: flow.NewActivationID()}
	var filters []store.Filter
	for _, st := range []store.State{0, store.Running, store.Suspended, store.Failed, store.Done} {
		for _, fl := range []string{"", "payments.Charge"} {
			for _, b := range []string{"", "b1"} {
				for _, since := range []time.Time{{}, now.Add(-time.Hour)} {
					for _, until := range []time.Time{{}, now} {
						for _, after := range []store.Cursor{{}, cursor} {
							filters = append(filters, store.Filter{State: st, Flow: fl, Build: b, Since: since, Until: until, After: after, Limit: 50})
						}
					}
				}
			}
		}
	}
	explain := func(q string, args ...any) []string {
		t.Helper()
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		require.NoError(t, err, q)
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		return plan
	}
	check := func(what string, plan []string) {
		t.Helper()
		used := false
		for _, step := range plan {
			assert.NotContains(t, step, "TEMP B-TREE", "%s sorts: %q", what, plan)
			if strings.Contains(step, " a ") || strings.HasSuffix(step, " a") || strings.Contains(step, "activations") {
				assert.Regexp(t, `^((SEARCH|SCAN) (a|activations) USING (COVERING )?INDEX activations_|SEARCH a USING PRIMARY KEY \(id=\?\))`, step, "%s: %q", what, plan)
				used = true
			}
		}
		assert.True(t, used, "%s reads activations: %q", what, plan)
	}
	for _, f := range filters {
		l, ok, err := plan(ctx, s.rdb, f, actColumns, true)
		require.NoError(t, err)
		require.True(t, ok)
		q, args := l.query(true, f.Limit)
		check(fmt.Sprintf("listing %+v", f), explain(q, args...))
		l, _, err = plan(ctx, s.rdb, f, "1", false)
		require.NoError(t, err)
		q, args = l.query(false, 100)
		check(fmt.Sprintf("count %+v", f), explain("SELECT count(*) FROM ("+q+")", args...))
	}
	check("by key", explain(qByKey, "k"))
	check("by outcome", explain(qByOutcome, []byte{1}))
	check("purge", explain(qPurgeable, 1, 10))
	check("revival", explain(qRevivable))
	// The census sorts its groups, one per state and flow, not rows.
	assert.Contains(t, explain(qCensus), "SEARCH activations USING COVERING INDEX activations_live (state=?)")
	check("first live flow", explain(qFirstLiveFlow, 1, ""))
	check("next live flow", explain(qNextLiveFlow, 1, "a"))
}
