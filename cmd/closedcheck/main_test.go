package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	bin := filepath.Join(dir, "closedcheck")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))

	mod := filepath.Join(dir, "mod")
	require.NoError(t, os.MkdirAll(filepath.Join(mod, "shop"), 0o755))
	goLine := "go 1.26.0"
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "go ") {
				goLine = l
			}
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte(fmt.Sprintf("module example.com/m\n\n%s\n\nrequire github.com/asyncflow-go/asyncflow v0.0.0\n\nreplace github.com/asyncflow-go/asyncflow => %s\n", goLine, root)), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "shop", "shop.go"), []byte(flows), 0o644))

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
