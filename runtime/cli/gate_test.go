package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// ops runs the operators' command of a team's own build — opshost ops,
// with the flows of variant registered — with args.
func ops(t *testing.T, variant string, args ...string) result {
	t.Helper()
	return runBin(t, hostBin, append([]string{"ops", variant}, args...)...)
}

// TestBackupAndVerify is the deploy procedure from the operator's side: a
// snapshot of the running process's store through its handler, then the
// replay gate on it with the build about to be deployed — which passes for
// a build that reproduces the logs and fails, naming each activation and
// why, for one that does not.
func TestBackupAndVerify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	const token = "s3cret-token-for-tests"

	h := startHost(t, "-store", path, "-build", "v1", "-start", "order-1,order-2,order-3", "-answer", "order-3", "-token", token)
	live := []string{"-addr", h.addr, "-token", token}
	waitState(t, "suspended", append(live, "show", "order-1")...)
	waitState(t, "suspended", append(live, "show", "order-2")...)
	waitState(t, "done", append(live, "show", "order-3")...)

	snaps := t.TempDir()
	snap := filepath.Join(snaps, "snap.db")
	out := ok(t, append(live, "backup", snap)...)
	assert.Contains(t, out, "Backed up 3 activations (2 unfinished) to "+snap)
	entries, err := os.ReadDir(snaps)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left beside the copy")

	// Bad input: clear errors, exit codes, nothing written or overwritten.
	sum := dirSums(t, snaps)
	r := af(t, append(live, "backup", snap)...)
	assert.Equal(t, 4, r.code, r.err)
	assert.Contains(t, r.err, "the file exists")
	r = af(t, "-addr", h.addr, "-token", "wrong", "backup", filepath.Join(snaps, "b.db"))
	assert.Equal(t, 7, r.code, r.err)
	r = af(t, append(live, "backup")...)
	assert.Equal(t, 2, r.code, r.err)
	r = af(t, append(live, "backup", filepath.Join(snaps, "no", "such", "dir.db"))...)
	assert.Equal(t, 2, r.code, r.err)
	r = af(t, "-store", path, "backup", filepath.Join(snaps, "c.db"))
	assert.Equal(t, 6, r.code, "the running process holds the store: %s", r.err)
	assert.Equal(t, sum, dirSums(t, snaps), "refused backups wrote nothing")

	// The running build replays its own store.
	out = ok(t, append(live, "verify")...)
	assert.Contains(t, out, "2 unfinished")

	// asyncflow itself has no flows: it says where verify of a snapshot runs.
	r = af(t, "verify", snap)
	assert.Equal(t, 4, r.code, r.err)
	assert.Contains(t, r.err, "registers no flows")
	assert.Contains(t, r.err, "runtime/cli")

	// The team's command with v1's flows: every unfinished activation
	// replays.
	r = ops(t, "v1", "verify", snap)
	assert.Equal(t, 0, r.code, "%s%s", r.out, r.err)

	// With v2's: both waiting orders would be stuck, each with its
	// diagnostic; exit 9.
	r = ops(t, "v2", "verify", snap)
	assert.Equal(t, 9, r.code, "%s%s", r.out, r.err)
	assert.Contains(t, r.out, "order-1")
	assert.Contains(t, r.out, "order-2")
	assert.Contains(t, r.out, `Echo("hello order-1")`)
	assert.Contains(t, r.err, "2 of 2 unfinished activations do not replay")
	r = ops(t, "v2", "verify", "-json", snap)
	assert.Equal(t, 9, r.code, r.err)
	var rep verify.Report
	require.NoError(t, json.Unmarshal([]byte(r.out), &rep))
	assert.Equal(t, 2, rep.Stuck)
	assert.Equal(t, 2, rep.Activations)
	require.Len(t, rep.Problems, 2)
	require.NotNil(t, rep.Problems[0].Failure)
	assert.Equal(t, "other-arguments", string(rep.Problems[0].Failure.Problem))

	// A snapshot that is missing, or not a store.
	r = ops(t, "v1", "verify", filepath.Join(snaps, "missing.db"))
	assert.Equal(t, 5, r.code, r.err)
	junk := filepath.Join(snaps, "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte("not a store at all"), 0o644))
	r = ops(t, "v1", "verify", junk)
	assert.Equal(t, 5, r.code, r.err)
	assert.Equal(t, 0, af(t, "-store", snap, "list").code, "the snapshot is a store the command reads")

	// The live store is left as it was by all of this.
	a := showJSON(t, append(live, "show", "order-1")...)
	assert.Equal(t, "suspended", string(a.State))
	h.stop()

	// A store no process holds is backed up from the file, and the copy
	// says the same as the original.
	copy2 := filepath.Join(snaps, "from-file.db")
	out = ok(t, "-store", path, "backup", copy2)
	assert.Contains(t, out, "Backed up 3 activations (2 unfinished)")
	assert.Equal(t, ok(t, "-store", path, "list"), ok(t, "-store", copy2, "list"))
}
