package restarttest_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/restarttest"
)

// TestContinueAsNewAcrossAnUpgrade runs the renewal flow under build 1,
// which continues as new once a month, and kills it while month 4 waits to
// be due; build 2, whose flow also notifies behind a patch, replays the run
// build 1 left — month 4 alone, without the patch — and runs every later
// month live with it. Each month is charged once, each run with keys of its
// own, and the log the second build replayed was one month's.
func TestContinueAsNewAcrossAnUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs and kills one")
	}
	dir := t.TempDir()
	v1, v2 := build(t, dir, "renewv1"), build(t, dir, "renewv2")
	store, journal := filepath.Join(dir, "renew.db"), filepath.Join(dir, "bills.jsonl")
	args := func(extra ...string) []string {
		return append([]string{"-store", store, "-journal", journal}, extra...)
	}

	p := startProc(t, v1, args("-until", "4")...)
	waiting := strings.Fields(p.until(t, "WAITING"))
	require.Len(t, waiting, 4)
	assert.Equal(t, "3", waiting[2], "months 1 to 3 each continued as new: month 4 is run 3")
	assert.Equal(t, "2", waiting[3], "its log holds its own month: Charge and Due")
	p.kill(t)

	p = startProc(t, v2, args()...)
	done := strings.Fields(p.until(t, "DONE"))
	require.NoError(t, p.cmd.Wait())
	assert.Equal(t, []string{"DONE", "12", "11"}, done, "the outcome, after 11 continuations")

	bills, err := restarttest.ReadBills(journal)
	require.NoError(t, err)
	charges, notifies := map[int]restarttest.Bill{}, map[int]restarttest.Bill{}
	keys := map[string]bool{}
	for _, b := range bills {
		switch b.Op {
		case "Charge":
			_, dup := charges[b.Month]
			assert.False(t, dup, "month %d is charged once", b.Month)
			charges[b.Month] = b
		case "Notify":
			notifies[b.Month] = b
		}
		assert.False(t, keys[b.Key], "%s: no two calls share a key", b.Key)
		keys[b.Key] = true
	}
	require.Len(t, charges, 12)
	for m := 1; m <= 12; m++ {
		c := charges[m]
		want := "renew-v1"
		if m > 4 {
			want = "renew-v2"
		}
		assert.Equal(t, want, c.Build, "month %d is charged by %s", m, want)
		run := ""
		if m > 1 {
			run = "~" + strconv.Itoa(m-1)
		}
		assert.True(t, strings.HasPrefix(strings.SplitN(c.Key, "/", 2)[0][32:], run), "month %d: key %s is run %d's", m, c.Key, m-1)
		_, notified := notifies[m]
		assert.Equal(t, m > 4, notified, "month %d: notified only by runs build 2 ran live", m)
	}
}
