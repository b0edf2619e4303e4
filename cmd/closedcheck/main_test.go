package main_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

const flows = `package shop

import (
	"context"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Shop interface {
	Pay(ctx context.Context, cents int64) error
}

//flowgen:flow
func Late(fc flow.Context, s Shop) error {
	if time.Now().Hour() > 17 {
		return nil
	}
	return s.Pay(fc, 100)
}

//flowgen:flow
func OnTime(fc flow.Context, s Shop) error {
	return s.Pay(fc, 100)
}
`

// TestCommand builds closedcheck and runs it on a module: on its own, with
// -json, and as go vet's tool.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "closedcheck")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	mod := testmod.Write(t, "example.com/m", "", map[string]string{"shop/shop.go": flows})

	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = mod
		b, err := cmd.CombinedOutput()
		return string(b), err
	}

	// On its own: diagnostics on stderr, exit status 3.
	text, err := run(bin, "./...")
	require.Error(t, err)
	assert.Contains(t, text, "shop.go:16:6: flow Late is not closed: Late → time.Now: reads the wall clock")
	assert.Contains(t, text, "shop.go:17:10: time.Now: reads the wall clock")
	assert.NotContains(t, text, "OnTime")

	// -json.
	text, err = run(bin, "-json", "./...")
	require.NoError(t, err, text)
	var report map[string]map[string][]struct {
		Posn    string `json:"posn"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal([]byte(text), &report), text)
	diags := report["example.com/m/shop"]["closedcheck"]
	require.Len(t, diags, 2)
	assert.Contains(t, diags[0].Message, "flow Late is not closed")

	// go vet's tool.
	text, err = run("go", "vet", "-vettool="+bin, "./...")
	require.Error(t, err)
	assert.Contains(t, text, "flow Late is not closed")
}
