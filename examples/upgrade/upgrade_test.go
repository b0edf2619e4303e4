package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/examples/upgrade/payments"
	"github.com/asyncflow-go/asyncflow/examples/upgrade/scenario"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// effectsOf returns the effects, other than approvals, made by activation act.
func effectsOf(effects []payments.Effect, act string) []string {
	var out []string
	for _, e := range effects {
		if e.Activation == act {
			out = append(out, e.Op+" "+e.Args)
		}
	}
	return out
}

// TestUpgrade builds three versions of a program and runs them one after
// another, as separate processes, on one store: v1 is killed while its
// activations sleep; v2 no longer matches the payouts' logs and must leave
// them stuck and untouched while the others finish; v3 reproduces the old
// path with flow.Patched and finishes everything.
func TestUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three programs")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	s, err := scenario.Build(ctx, t.TempDir())
	require.NoError(t, err)

	// v1: three payouts and two welcomes, all asleep waiting for approval,
	// then SIGKILL.
	cmd, build1, err := s.StartUntilReady(ctx, "v1", "-payouts", "p1,p2,p3", "-welcomes", "w1,w2")
	require.NoError(t, err)
	require.NoError(t, scenario.Kill(cmd))
	seen1, err := s.Effects()
	require.NoError(t, err)
	var payoutActs, payoutVows, welcomeActs []string
	for _, e := range seen1 {
		switch {
		case e.Op == "Reserve":
			payoutActs = append(payoutActs, e.Activation)
		case e.Op == "Send":
			welcomeActs = append(welcomeActs, e.Activation)
		}
	}
	for _, e := range seen1 {
		if e.Op == "Request" && slices.Contains(payoutActs, e.Activation) {
			payoutVows = append(payoutVows, e.Vow)
		}
	}
	require.Len(t, payoutActs, 3, "each payout reserved before it slept")
	require.Len(t, payoutVows, 3, "each payout asked for approval")
	require.Len(t, welcomeActs, 2)
	require.Len(t, seen1, 10, "v1: 3×(Reserve, Request) + 2×(Send, Request)")
	before, err := s.Snapshot(ctx, payoutActs, payoutVows)
	require.NoError(t, err)
	require.Len(t, before.Log, 6, "two log entries per payout")

	// v2: a fee computed before reserving. The payouts replay and diverge at
	// step 0; the welcomes finish once approved.
	r2, err := s.Run(ctx, "v2", "-wake-all", "-approve", "payments.Welcome")
	require.NoError(t, err)
	require.Len(t, r2.Reports, 5)
	feeLine, err := scenario.LineOf(".", "v2", "l.Fee(fc, cents)")
	require.NoError(t, err)
	for i, key := range []string{"p1", "p2", "p3"} {
		rep, ok := r2.ByKey(key)
		require.True(t, ok, key)
		require.Equal(t, runtime.StateFailed, rep.State, key)
		d := rep.Failure
		require.NotNil(t, d)
		cents := 1000 * (i + 1)
		assert.Equal(t, diag.OtherCall, d.Problem)
		assert.Equal(t, int64(0), d.Step)
		assert.Contains(t, d.Logged, fmt.Sprintf(`service("ledger").Reserve("acct-%s", %d)`, key, cents))
		assert.Equal(t, fmt.Sprintf(`call service("ledger").Fee(%d)`, cents), d.Got)
		assert.Equal(t, fmt.Sprintf("v2/main.go:%d", feeLine), d.Site)
		assert.Equal(t, int64(1), d.WrittenGen)
		assert.Equal(t, build1, d.WrittenBuild)
		assert.Equal(t, int64(2), d.FailedGen)
		assert.Equal(t, r2.Build, d.FailedBuild)
		assert.NotEqual(t, build1, r2.Build)
		assert.Equal(t, "payments.Payout", d.Flow)
	}
	for _, key := range []string{"w1", "w2"} {
		rep, ok := r2.ByKey(key)
		require.True(t, ok)
		assert.Equal(t, runtime.StateDone, rep.State)
		assert.Equal(t, `"welcomed customer-`+key+`"`, rep.Outcome)
	}
	seen2, err := s.Effects()
	require.NoError(t, err)
	new2 := seen2[len(seen1):]
	for _, act := range payoutActs {
		assert.Empty(t, effectsOf(new2, act), "v2 causes no effect for a stuck payout")
	}
	for _, key := range []string{"w1", "w2"} {
		rep, _ := r2.ByKey(key)
		assert.Contains(t, welcomeActs, rep.ID)
		assert.Equal(t, []string{"Send customer-" + key + ": your account is open"}, effectsOf(new2, rep.ID))
	}
	approvals := 0
	for _, e := range new2 {
		if e.Op == "approve" {
			approvals++
			assert.NotContains(t, payoutVows, e.Vow, "no payout was approved under v2")
		}
	}
	assert.Equal(t, 2, approvals)
	after, err := s.Snapshot(ctx, payoutActs, payoutVows)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the stuck payouts' log rows and vows are exactly as v1 left them")

	// v3: flow.Patched keeps the old path for the old payouts; new payouts
	// take the new one, with the fee.
	r3, err := s.Run(ctx, "v3", "-approve", "all", "-payouts", "n1,n2")
	require.NoError(t, err)
	require.Len(t, r3.Reports, 7)
	for _, rep := range r3.Reports {
		assert.Equal(t, runtime.StateDone, rep.State, rep.StartKey)
		assert.Nil(t, rep.Failure)
		if rep.Flow == "payments.Payout" {
			assert.Equal(t, `"tx-hold-`+rep.ID[:8]+`"`, rep.Outcome, rep.StartKey)
		}
	}
	seen3, err := s.Effects()
	require.NoError(t, err)
	new3 := seen3[len(seen2):]
	for _, act := range payoutActs {
		got := effectsOf(new3, act)
		require.Len(t, got, 1, "an old payout only transfers: no fee, no second reserve or request")
		assert.True(t, strings.HasPrefix(got[0], "Transfer hold-"+act[:8]), got[0])
	}
	for i, key := range []string{"n1", "n2"} {
		rep, _ := r3.ByKey(key)
		cents := 1000 * (i + 1)
		assert.Equal(t, []string{
			fmt.Sprintf("Fee %d", cents),
			fmt.Sprintf("Reserve acct-%s %d", key, cents+cents/100),
			fmt.Sprintf("Request acct-%s %d", key, cents+cents/100),
			fmt.Sprintf("Transfer hold-%s acct-%s %d", rep.ID[:8], key, cents+cents/100),
		}, effectsOf(new3, rep.ID), "a new payout takes the new path")
	}
	// Across all three builds every effect happened exactly once.
	keys := map[string]int{}
	for _, e := range seen3 {
		if e.Key != "" {
			keys[e.Key]++
		}
	}
	for k, n := range keys {
		assert.Equal(t, 1, n, k)
	}
	done, err := s.Snapshot(ctx, payoutActs, nil)
	require.NoError(t, err)
	assert.Empty(t, done.Log, "a finished activation's log is deleted")
}
