package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRunsSmall runs the benchmark on tiny sizes, so CI keeps it working. It
// asserts nothing about time.
func TestRunsSmall(t *testing.T) {
	require.NoError(t, run(pgtest.Server(t), 40, 20, 2))
}
