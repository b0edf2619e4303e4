package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunsSmall runs the benchmark on tiny sizes, so CI keeps it working. It
// asserts nothing about time.
func TestRunsSmall(t *testing.T) {
	require.NoError(t, run(t.TempDir(), 20, 1))
}
