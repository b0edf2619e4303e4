package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/examples/fulfilment/scenario"
	"github.com/asyncflow-go/asyncflow/examples/fulfilment/shop"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// keys returns the start keys of gate lines.
func keys(lines []shop.GateLine) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.StartKey)
	}
	slices.Sort(out)
	return out
}

// ops returns the host calls the world saw of one order, in order (the
// answers people gave, confirmed and packed, are recorded beside them as
// they are given, which may be after the call they let happen).
func ops(effects []shop.Effect, order string) []string {
	var out []string
	for _, e := range effects {
		if e.Order == order && e.Key != "" {
			out = append(out, e.Op)
		}
	}
	return out
}

// TestUpgradeStory runs the four builds of the fulfilment example as
// separate processes on one store, killing each with SIGKILL, and runs the
// replay gate of the next build against a snapshot of the live store before
// each deploy:
//
//   - v1 reserves, then charges. Its live store holds o1 and o2, charged and
//     waiting to be packed, and o3 and o4, waiting for the customer.
//   - The gate with v2 (charge first, no patch) against v1's snapshot fails,
//     listing exactly o1 and o2, with their diagnostics; with v3 it passes.
//   - v2 is deployed anyway: o1 and o2 get stuck; o3 and o4, confirmed now,
//     and the new o5 and o6 run the new path live, logging no marker.
//   - The gate with v3 (flow.Patched "charge-first") against a snapshot of
//     v2's store passes: replay decides the patch for o3…o6. With v4 (the
//     patch retired) it fails, listing o1 and o2: too early to retire it.
//   - v3 finishes o1…o6, each exactly once, and starts n1 and n2, which log
//     the marker. The gate with v4 against v3's snapshot passes.
//   - v4 finishes n1 and n2, passing over their markers.
func TestUpgradeStory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four programs")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	s, err := scenario.Build(ctx, dir)
	require.NoError(t, err)
	snap := func(n string) string { return filepath.Join(dir, "snapshot-"+n+".db") }

	// v1, live: o1 and o2 confirmed, reserved, charged; o3 and o4 waiting.
	v1, err := s.Hold(ctx, "v1", "-orders", "o1,o2,o3,o4", "-confirm", "o1,o2")
	require.NoError(t, err)
	defer v1.Kill()
	for _, r := range v1.Reports {
		assert.Equal(t, runtime.StateSuspended, r.State, r.StartKey)
	}
	require.NoError(t, v1.Snapshot(snap("v1")))

	// The gate with v2 against v1's live store: exactly o1 and o2 stranded.
	chargeLine, err := scenario.LineOf(".", "v2", "p.Charge(fc, o)")
	require.NoError(t, err)
	g, err := s.Verify(ctx, "v2", snap("v1"))
	require.NoError(t, err)
	assert.False(t, g.Passed)
	require.Len(t, g.Lines, 4)
	assert.Equal(t, []string{"o1", "o2"}, keys(g.Problems()), g.Text)
	for _, p := range g.Problems() {
		assert.Equal(t, "stuck", string(p.Verdict))
		require.NotNil(t, p.Failure)
		d := p.Failure
		assert.Equal(t, diag.OtherCall, d.Problem, p.StartKey)
		assert.Equal(t, int64(2), d.Step, "after the confirmation")
		assert.Contains(t, d.Logged, `service("warehouse").Reserve(`)
		assert.Contains(t, d.Got, `call service("payments").Charge(`)
		assert.Equal(t, v1.Build, d.WrittenBuild)
		assert.Equal(t, fmt.Sprintf("v2/main.go:%d", chargeLine), d.Site)
		assert.Contains(t, g.Text, d.Activation.String())
	}
	assert.Contains(t, g.Text, "replay gate FAIL")
	assert.Contains(t, g.Text, "code did:  call service(\"payments\").Charge(")
	// The same gate as a test of v2, as CI runs it.
	passed, out, err := s.GateTest(ctx, "v2", snap("v1"))
	require.NoError(t, err)
	assert.False(t, passed, out)
	assert.Contains(t, out, `(started with id "o1")`)
	assert.Contains(t, out, `(started with id "o2")`)
	assert.NotContains(t, out, `(started with id "o3")`)
	assert.Contains(t, out, "would strand 2 of 4 unfinished activations: 2 stuck")
	// v3 keeps the old path for them.
	g, err = s.Verify(ctx, "v3", snap("v1"))
	require.NoError(t, err)
	assert.True(t, g.Passed, g.Text)
	require.NoError(t, v1.Kill())
	seen1, err := s.Effects()
	require.NoError(t, err)

	// v2, deployed anyway: o1 and o2 stuck, untouched; the others and new
	// orders charge first, live, with no marker.
	v2, err := s.Hold(ctx, "v2", "-wake-all", "-orders", "o5,o6", "-confirm", "all")
	require.NoError(t, err)
	defer v2.Kill()
	for _, key := range []string{"o1", "o2"} {
		r, ok := v2.ByKey(key)
		require.True(t, ok)
		assert.Equal(t, runtime.StateFailed, r.State, key)
		require.NotNil(t, r.Failure)
		assert.Equal(t, diag.OtherCall, r.Failure.Problem)
	}
	for _, key := range []string{"o3", "o4", "o5", "o6"} {
		r, ok := v2.ByKey(key)
		require.True(t, ok)
		assert.Equal(t, runtime.StateSuspended, r.State, key)
	}
	seen2, err := s.Effects()
	require.NoError(t, err)
	for _, key := range []string{"o1", "o2"} {
		assert.Equal(t, ops(seen1, key), ops(seen2, key), "v2 did nothing for %s", key)
	}
	for _, key := range []string{"o3", "o4"} {
		assert.Equal(t, []string{"Confirm", "Charge", "Reserve", "Pack"}, ops(seen2, key), key)
	}
	require.NoError(t, v2.Snapshot(snap("v2")))

	// The gate with v3 against v2's live store passes: o1 and o2 by the old
	// branch, o3…o6 by the new one, which replay decides.
	g, err = s.Verify(ctx, "v3", snap("v2"))
	require.NoError(t, err)
	assert.True(t, g.Passed, g.Text)
	require.Len(t, g.Lines, 6)
	for _, l := range g.Lines {
		assert.Equal(t, "replays", string(l.Verdict), l.StartKey)
		if l.StartKey == "o1" || l.StartKey == "o2" {
			assert.Empty(t, l.Decided)
		} else {
			assert.Equal(t, []string{"charge-first"}, l.Decided, l.StartKey)
		}
	}
	passed, out, err = s.GateTest(ctx, "v3", snap("v2"))
	require.NoError(t, err)
	assert.True(t, passed, out)
	// Retiring the patch now would strand o1 and o2, which need the old
	// branch.
	g, err = s.Verify(ctx, "v4", snap("v2"))
	require.NoError(t, err)
	assert.False(t, g.Passed)
	assert.Equal(t, []string{"o1", "o2"}, keys(g.Problems()), g.Text)
	require.NoError(t, v2.Kill())

	// v3: every order of v1 and v2 finishes; n1 and n2 take the patched path
	// live and wait to be packed.
	v3, err := s.Hold(ctx, "v3", "-orders", "n1,n2", "-confirm", "all", "-pack", "o1,o2,o3,o4,o5,o6")
	require.NoError(t, err)
	defer v3.Kill()
	for _, r := range v3.Reports {
		if strings.HasPrefix(r.StartKey, "o") {
			assert.Equal(t, runtime.StateDone, r.State, r.StartKey)
			assert.Nil(t, r.Failure, r.StartKey)
			assert.Contains(t, r.Outcome, `Parcel: "parcel-`+r.StartKey+`"`, r.StartKey)
		} else {
			assert.Equal(t, runtime.StateSuspended, r.State, r.StartKey)
		}
	}
	seen3, err := s.Effects()
	require.NoError(t, err)
	for _, key := range []string{"o1", "o2"} {
		assert.Equal(t, []string{"Confirm", "Reserve", "Charge", "Pack", "Ship"}, ops(seen3, key), key)
	}
	for _, key := range []string{"o3", "o4", "o5", "o6"} {
		assert.Equal(t, []string{"Confirm", "Charge", "Reserve", "Pack", "Ship"}, ops(seen3, key), key)
	}
	require.NoError(t, v3.Snapshot(snap("v3")))
	g, err = s.Verify(ctx, "v4", snap("v3"))
	require.NoError(t, err)
	assert.True(t, g.Passed, "the patch may be retired now:\n%s", g.Text)
	require.NoError(t, v3.Kill())

	// v4, the patch retired: n1 and n2 replay past their markers and finish.
	r4, err := s.Run(ctx, "v4", "-pack", "all")
	require.NoError(t, err)
	require.Len(t, r4.Reports, 8)
	for _, r := range r4.Reports {
		assert.Equal(t, runtime.StateDone, r.State, r.StartKey)
	}
	seen4, err := s.Effects()
	require.NoError(t, err)
	for _, key := range []string{"n1", "n2"} {
		assert.Equal(t, []string{"Confirm", "Charge", "Reserve", "Pack", "Ship"}, ops(seen4, key), key)
	}
	// Across the four builds every host call took effect exactly once.
	calls := map[string]int{}
	for _, e := range seen4 {
		if e.Key != "" {
			calls[e.Key]++
		}
	}
	assert.Len(t, calls, 8*5, "five host calls for each of eight orders")
	for k, n := range calls {
		assert.Equal(t, 1, n, k)
	}
}
