package crashtest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/crashtest"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

func readEffects(t *testing.T, path string) []crashtest.Effect {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []crashtest.Effect
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e crashtest.Effect
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestCrashAndRestart runs many flows in a real process and kills it with
// SIGKILL, at random moments or right after a host effect, a seeded number
// of times, then lets it finish. Every outcome must be right, the store
// intact, and every effect must have happened at least once and, counted by
// idempotency key, exactly once.
//
// Each call passes on what earlier calls returned, and the host returns a
// fresh receipt at every execution. So a call made again after a crash
// carries the same arguments only if every result it depends on was durable
// before the call first reached the world (invariant 1).
func TestCrashAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a real process many times")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ASYNCFLOW_CRASH_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (rerun with ASYNCFLOW_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	const flows = 120
	rounds := 8 + rng.IntN(6)

	dir := t.TempDir()
	bin := filepath.Join(dir, "crashprog")
	build := exec.Command("go", "build", "-o", bin, "github.com/asyncflow-go/asyncflow/internal/crashtest/crashprog")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	storePath, journal := filepath.Join(dir, "crash.db"), filepath.Join(dir, "effects.jsonl")
	args := func(extra ...string) []string {
		return append([]string{"-store", storePath, "-journal", journal, "-flows", strconv.Itoa(flows)}, extra...)
	}

	selfKilled := map[int]bool{} // pids that killed themselves right after an effect
	for r := range rounds {
		before := len(readEffects(t, journal))
		var cmd *exec.Cmd
		mode := "external"
		if r%3 == 0 {
			k := 1 + rng.IntN(100)
			cmd = exec.Command(bin, args("-kill-after-effect", strconv.Itoa(k))...)
			mode = "self after effect " + strconv.Itoa(k)
		} else {
			cmd = exec.Command(bin, args()...)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		if mode == "external" {
			delay := time.Duration(10+rng.IntN(140)) * time.Millisecond
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			mode += " after " + delay.String()
		}
		err := cmd.Wait()
		killed := false
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				killed = true
			}
		}
		if !killed {
			require.NoError(t, err, "round %d (%s): %s", r, mode, stderr.String())
		}
		if killed && strings.HasPrefix(mode, "self") {
			selfKilled[cmd.Process.Pid] = true
		}
		t.Logf("round %d: killed=%v (%s), %d new effects", r, killed, mode, len(readEffects(t, journal))-before)
	}

	// The last run finishes everything.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	final := exec.CommandContext(ctx, bin, args()...)
	var stderr strings.Builder
	final.Stderr = &stderr
	stdout, err := final.Output()
	require.NoError(t, err, stderr.String())
	require.Contains(t, string(stdout), "ALL DONE")
	outcomes := map[string]int64{}
	for _, line := range strings.Split(string(stdout), "\n") {
		var o struct {
			Account string `json:"account"`
			Outcome int64  `json:"outcome"`
		}
		if json.Unmarshal([]byte(line), &o) == nil && o.Account != "" {
			outcomes[o.Account] = o.Outcome
		}
	}
	require.Len(t, outcomes, flows)

	// Effects: one key per expected call; every execution of a key made the
	// same call, with the same prev.
	effects := readEffects(t, journal)
	byKey := map[string][]crashtest.Effect{}
	byStep := map[string][]crashtest.Effect{} // account/step → executions
	for _, e := range effects {
		byKey[e.Key] = append(byKey[e.Key], e)
		k := e.Account + "/" + strconv.Itoa(e.Step)
		byStep[k] = append(byStep[k], e)
	}
	require.Len(t, byKey, flows*crashtest.Steps*3, "one key per expected effect")
	repeated := 0
	for key, es := range byKey {
		first := es[0]
		for _, e := range es[1:] {
			assert.Equal(t, first.Account, e.Account, key)
			assert.Equal(t, first.Step, e.Step, key)
			assert.Equal(t, first.Prev, e.Prev, "%s: made again with another prev: a result reached the world before it was durable", key)
		}
		if len(es) > 1 {
			repeated++
		}
	}
	receipts := func(acct string, step int) map[int64]bool {
		out := map[int64]bool{}
		for _, e := range byStep[acct+"/"+strconv.Itoa(step)] {
			out[e.Receipt] = true
		}
		return out
	}
	xors := func(acct string, step int) map[int64]bool {
		out := map[int64]bool{}
		for a := range receipts(acct, step+1) {
			for b := range receipts(acct, step+2) {
				out[a^b] = true
			}
		}
		return out
	}
	for i := range flows {
		acct := crashtest.Account(i)
		for s := range 3 * crashtest.Steps {
			es := byStep[acct+"/"+strconv.Itoa(s)]
			require.NotEmpty(t, es, "effect %s step %d happened", acct, s)
			prev := es[0].Prev
			switch {
			case s == 0:
				assert.Zero(t, prev)
			case s%3 == 0:
				assert.True(t, xors(acct, s-3)[prev], "%s step %d: prev is what the two calls before returned", acct, s)
			default:
				assert.True(t, receipts(acct, s-s%3)[prev], "%s step %d: prev is what the call before returned", acct, s)
			}
		}
		assert.True(t, xors(acct, 3*(crashtest.Steps-1))[outcomes[acct]], "%s: the outcome is what its last calls returned", acct)
	}
	// At least one kill landed between an effect and the logging of its
	// result: that process's last effect was made again, with its key.
	landed := 0
	for pid := range selfKilled {
		var last *crashtest.Effect
		for i := range effects {
			if effects[i].PID == pid {
				last = &effects[i]
			}
		}
		if last != nil && len(byKey[last.Key]) > 1 {
			landed++
		}
	}
	require.NotEmpty(t, selfKilled, "no self-kill round reached its effect")
	assert.Equal(t, len(selfKilled), landed, "every effect cut off by a kill was made again with its key")
	t.Logf("%d effects, %d distinct keys, %d keys made more than once", len(effects), len(byKey), repeated)

	// The store is intact.
	st, err := sqlitestore.Open(t.Context(), storePath, sqlitestore.Options{})
	require.NoError(t, err)
	defer st.Close(context.Background())
	require.NoError(t, st.Check(t.Context()))
}
