package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/adminhttp"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// TestExitCodes: each error the command can meet, wrapped as the runtime
// and the handler wrap them, exits with the code the help promises.
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{runtime.ErrUnknownActivation, exitNotFound},
		{runtime.ErrNotFailed, exitRefused},
		{runtime.ErrFinished, exitRefused},
		{runtime.ErrAmbiguous, exitRefused},
		{runtime.ErrNoRuntime, exitRefused},
		{runtime.ErrElsewhere, exitRefused}, // another process of a PostgreSQL store runs it
		{errExists, exitRefused},
		{errNoFlows, exitRefused},
		{store.ErrNotStore, exitNotStore},
		{store.ErrNewerSchema, exitNotStore},
		{store.ErrLocked, exitInUse},
		{adminhttp.ErrUnauthorized, exitUnauthorized},
		{adminhttp.ErrForbidden, exitUnauthorized},
		{runtime.ErrUnknownState, exitUsage},
		{errors.New("anything else"), exitFailed},
	} {
		err := fmt.Errorf("runtime: terminate 0123: %w", c.err)
		code, _ := exitCode(err)
		assert.Equal(t, c.code, code, "%v", err)
	}
}
