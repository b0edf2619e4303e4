package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSeedAndMeasure seeds a small store and measures a start in this
// process, so CI keeps the benchmark working. It asserts nothing about time.
func TestSeedAndMeasure(t *testing.T) {
	path := t.TempDir() + "/r.db"
	due, err := seed(path, 50)
	require.NoError(t, err)
	stdout := os.Stdout
	r, w, err := os.Pipe()
	require.NoError(t, err)
	os.Stdout = w
	err = measure(path, due)
	os.Stdout = stdout
	w.Close()
	require.NoError(t, err)
	buf := make([]byte, 4096)
	n, _ := r.Read(buf)
	require.Contains(t, string(buf[:n]), "due_ms")
}
