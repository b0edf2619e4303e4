package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/pgtest"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-child" {
		main() // the benchmark's other processes are this binary too
		return
	}
	pgtest.Main(m)
}

// TestRunsSmall runs the benchmark on tiny sizes, so CI keeps it working. It
// asserts nothing about time.
func TestRunsSmall(t *testing.T) {
	srv := pgtest.Server(t)
	require.NoError(t, run(srv, 40, 20, 2))
	require.NoError(t, runMulti(srv, 20, 2, 5, 5, time.Second))
}
