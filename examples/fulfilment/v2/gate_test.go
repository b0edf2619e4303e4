package main

import (
	"os"
	"testing"

	"github.com/asyncflow-go/asyncflow/flowtest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// TestReplayGate is the gate a CI pipeline runs before this build is
// deployed: every unfinished activation of a snapshot of the live store
// (rt.Admin().Backup) must replay with this build. FULFILMENT_SNAPSHOT names
// the snapshot; the fulfilment example's test sets it.
func TestReplayGate(t *testing.T) {
	snapshot := os.Getenv("FULFILMENT_SNAPSHOT")
	if snapshot == "" {
		t.Skip("FULFILMENT_SNAPSHOT names no snapshot of the live store")
	}
	flowtest.ReplayStore(t, snapshot, func(r runtime.Registry) { register(r, nil) })
}
