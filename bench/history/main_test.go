package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunsSmall runs the benchmark on a small store, so CI keeps it working.
// It asserts nothing about time.
func TestRunsSmall(t *testing.T) {
	require.NoError(t, run(t.TempDir(), 300, 30, 1, false))
}
