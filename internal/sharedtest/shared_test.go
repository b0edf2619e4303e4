package sharedtest_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

func decodeString(b []byte) (string, error) {
	var s string
	err := codec.Unmarshal(b, &s)
	return s, err
}

const lease = 2 * time.Second

// TestProcessesSurviveKillsAndStops runs three host processes on one
// database with 200 flows that wait on vows (answered by whichever process
// gets to them) and on timers, and, for a seeded random while, kills one
// with SIGKILL (starting it again a little later) or stops one with SIGSTOP
// for longer than a lease and lets it go on with SIGCONT. Then every flow
// must have finished once, with the outcome its effects give; every effect
// made once per idempotency key, with the arguments its chain gives; and
// every log entry appended by the activation's owner at its current lease,
// before any takeover: nothing from a fenced process.
func TestProcessesSurviveKillsAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("runs, kills and stops real processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ASYNCFLOW_SHARED_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (rerun with ASYNCFLOW_SHARED_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5ca1ab1e))
	const flows, rounds = 200, 4
	c := newCluster(t, "-flows", strconv.Itoa(flows), "-rounds", strconv.Itoa(rounds),
		"-lease", lease.String(), "-poll", "250ms", "-auto-answer", "3s")
	live := []*proc{c.start("v1"), c.start("v1"), c.start("v1")}
	conn := c.conn()
	done := func() int { return count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 4`) }
	failed := func() {
		t.Helper()
		require.Zero(t, count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 3`), "no activation fails")
	}

	// Chaos for a seeded number of actions, while flows are in flight.
	actions := 6 + rng.IntN(5)
	var kills, stops int
	stoppedOnce := map[*proc]bool{}
	for i := 0; i < actions && done() < flows; i++ {
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
		failed()
		k := rng.IntN(len(live))
		p := live[k]
		if rng.IntN(5) < 3 {
			c.kill(p)
			kills++
			t.Logf("action %d: kill -9 %s (%d of %d flows done)", i, p.name, done(), flows)
			time.Sleep(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
			live[k] = c.start("v1")
			continue
		}
		pause := 2*lease + time.Duration(rng.IntN(1000))*time.Millisecond
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGSTOP))
		stops++
		stoppedOnce[p] = true
		t.Logf("action %d: SIGSTOP %s for %s (%d of %d flows done)", i, p.name, pause, done(), flows)
		time.Sleep(pause)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGCONT))
	}
	t.Logf("%d kills, %d stops; waiting for the flows to finish", kills, stops)
	until(t, conn, 2*time.Minute, "every flow to finish", func() bool {
		failed()
		return done() == flows
	})
	for _, p := range live {
		c.stop(p)
	}

	outs := outcomes(t, conn)
	require.Len(t, outs, flows)
	for key, out := range outs {
		assert.True(t, strings.HasPrefix(out, "v1:"), "%s: %s", key, out)
	}
	checkEffects(t, conn, flows, rounds, outs)
	entries, fences := checkFencing(t, conn)
	repeats := count(t, conn, `SELECT count(*) FROM (SELECT key FROM testhost.attempts GROUP BY key HAVING count(*) > 1) r`)
	t.Logf("%d log entries audited, %d takeovers, %d effects made again with their key", entries, fences, repeats)
	if kills+stops > 0 {
		assert.Positive(t, fences, "a process that died or stopped was fenced")
	}
	learned := 0
	for p := range stoppedOnce {
		b, err := os.ReadFile(p.log)
		require.NoError(t, err)
		if strings.Contains(string(b), "lease lapsed and was taken over") {
			learned++
			t.Logf("%s learned it was fenced when it went on", p.name)
		}
	}
	if stops > 0 {
		assert.Positive(t, learned, "a stopped process went on, fenced, and learned it")
	}
	assert.Zero(t, count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE owner IS NOT NULL`), "done activations are owned by none")
}

// TestRollingDeploy runs builds v1 and v2 on one database. v2 notes every
// answer before going on, and has no patch for activations that went past
// an answer under v1: those cannot replay on v2. Flows start on v1; half go
// past their first answer. Then v1 is replaced by v2 — one v1 process
// stopped cleanly, one killed — and every answer arrives: v2 finishes the
// activations it can run, and fails the others once, recording the failure
// for its build and leaving them alone; a v1 process started later finishes
// those. Each activation finishes on the build that can run it, once, and
// no effect is made twice.
func TestRollingDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes of two builds")
	}
	const flows, rounds = 40, 2
	c := newCluster(t, "-rounds", strconv.Itoa(rounds), "-lease", lease.String(), "-poll", "250ms")
	conn := c.conn()
	v1a := c.start("v1", "-flows", strconv.Itoa(flows))
	v1b := c.start("v1")
	until(t, conn, time.Minute, "every flow to wait for its first answer", func() bool {
		return count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 2`) == flows
	})
	// Half of them go past their first answer on v1.
	_, err := conn.Exec(t.Context(), `UPDATE testhost.asks SET release = true WHERE round = 0 AND account < 'acct-020'`)
	require.NoError(t, err)
	until(t, conn, time.Minute, "half the flows to wait for their second answer", func() bool {
		return count(t, conn, `SELECT count(*) FROM testhost.asks WHERE round = 1`) == flows/2 &&
			count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 2`) == flows
	})

	// The deploy: v2 comes up, v1 goes away.
	v2a := c.start("v2")
	v2b := c.start("v2")
	c.stop(v1a)
	c.kill(v1b)
	_, err = conn.Exec(t.Context(), `UPDATE testhost.asks SET release = true`)
	require.NoError(t, err)
	release := func() {
		_, err := conn.Exec(t.Context(), `UPDATE testhost.asks SET release = true WHERE NOT release`)
		require.NoError(t, err)
	}
	until(t, conn, time.Minute, "v2 to finish what it can run and fail the rest", func() bool {
		release()
		return count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 4`) == flows/2 &&
			count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 3`) == flows/2
	})
	assert.Equal(t, flows/2, count(t, conn, `SELECT count(*) FROM asyncflow.failures WHERE build = 'v2'`),
		"each is failed for v2")
	assert.Zero(t, count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 3 AND start_key >= 'work-020'`),
		"the failed ones are those that went past an answer on v1")
	// v2 does not try them again: a few polls later, one failure each.
	time.Sleep(4 * 250 * time.Millisecond)
	failures := func(p *proc) int {
		b, err := os.ReadFile(p.log)
		require.NoError(t, err)
		return strings.Count(string(b), `msg="asyncflow: activation stuck`)
	}
	assert.Equal(t, flows/2, failures(v2a)+failures(v2b), "v2 fails each once")
	assert.Zero(t, count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 3 AND owner IS NOT NULL`),
		"a failed activation is left to other builds")

	// A v1 process comes back (a rollback, or the old build kept for the
	// old activations): it finishes them.
	v1c := c.start("v1")
	until(t, conn, time.Minute, "v1 to finish the rest", func() bool {
		release()
		return count(t, conn, `SELECT count(*) FROM asyncflow.activations WHERE state = 4`) == flows
	})
	for _, p := range []*proc{v2a, v2b, v1c} {
		c.stop(p)
	}
	assert.Equal(t, flows/2, failures(v2a)+failures(v2b), "and never again")

	outs := outcomes(t, conn)
	require.Len(t, outs, flows)
	for i := range flows {
		key := "work-" + strconv.Itoa(1000 + i)[1:]
		want := "v2:"
		if i < flows/2 {
			want = "v1:"
		}
		assert.True(t, strings.HasPrefix(outs[key], want), "%s finished on the build that can run it: %s", key, outs[key])
	}
	checkEffects(t, conn, flows, rounds, outs)
	assert.Equal(t, flows/2*rounds, count(t, conn, `SELECT count(*) FROM testhost.notes`), "v2's notes, for the flows v2 ran")
	checkFencing(t, conn)
}
