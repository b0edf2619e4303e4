package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunsSmall runs the benchmark on tiny sizes, so CI keeps it working. It
// asserts nothing about time.
func TestRunsSmall(t *testing.T) {
	require.NoError(t, run(t.TempDir(), config{single: 40, lone: 8, handler: 5, concurrent: 20, calls: 2, replay: 50}))
}

// TestResidentChild measures a few parked activations in this process.
func TestResidentChild(t *testing.T) {
	require.NoError(t, residentChild(t.TempDir()+"/r.db", 20))
}
