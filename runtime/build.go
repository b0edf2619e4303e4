package runtime

import "github.com/asyncflow-go/asyncflow/runtime/internal/buildid"

// buildID identifies the running build: see package buildid.
func buildID() string { return buildid.ID() }
