package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// TestRunsSmall runs the benchmark on tiny sizes, so CI keeps it working. It
// asserts nothing about time.
func TestRunsSmall(t *testing.T) {
	out, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer out.Close()
	require.NoError(t, run(t.TempDir(), config{iterations: 400, every: 20, checks: 4, baseline: 100, sync: sqlitestore.SyncNormal}, out))
	b, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	t.Log(string(b))
}
