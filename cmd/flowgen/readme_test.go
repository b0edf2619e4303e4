package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

// readmeSteps returns the shell commands of the README section named
// heading: its indented lines, with backslash continuations joined.
func readmeSteps(t *testing.T, readme, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(readme)
	require.NoError(t, err)
	var cmds []string
	in, pending := false, ""
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			in = strings.TrimLeft(line, "# ") == heading
			continue
		}
		if !in || !strings.HasPrefix(line, "    ") {
			continue
		}
		line = strings.TrimSpace(line)
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending += cont + " "
			continue
		}
		cmds = append(cmds, pending+line)
		pending = ""
	}
	require.NotEmpty(t, cmds, "no commands under %q in %s", heading, readme)
	return cmds
}

const checkoutFlow = `// Package payout pays out after an approval.
package payout

import (
	"context"
	"errors"

	"github.com/asyncflow-go/asyncflow/flow"
)

//go:generate go tool flowgen

// ErrDenied is returned when the approval is refused.
var ErrDenied = errors.New("denied")

//flowgen:host
type Ledger interface {
	Transfer(ctx context.Context, from, to string, cents int64) (string, error)
}

//flowgen:host
type Approvals interface {
	Request(ctx context.Context, to string, cents int64) (flow.Vow[bool], error)
}

//flowgen:flow
func Payout(fc flow.Context, l Ledger, a Approvals, to string, cents int64) (string, error) {
	v, err := a.Request(fc, to, cents)
	if err != nil {
		return "", err
	}
	ok, err := flow.Await(fc, v)
	if err != nil || !ok {
		return "", ErrDenied
	}
	return l.Transfer(fc, "treasury", to, cents)
}
`

// TestReadmeCheckoutSteps runs the README's steps for using asyncflow from a
// checkout, as written, in a new module: they must make flowgen, closedcheck
// and asyncflow tools of it and generate, check and vet its flows.
func TestReadmeCheckoutSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands in a new module")
	}
	root := testmod.Root(t, ".")
	steps := readmeSteps(t, filepath.Join(root, "README.md"), "Using it from a checkout")

	dir := t.TempDir()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goLine := "go 1.26.0"
	for _, l := range strings.Split(string(mod), "\n") {
		if strings.HasPrefix(l, "go ") {
			goLine = l
		}
	}
	files := map[string]string{
		"go.mod":           fmt.Sprintf("module example.com/app\n\n%s\n", goLine),
		"payout/payout.go": checkoutFlow,
	}
	// The checkout's go.sum, so go mod tidy finds every checksum without
	// the network; the modules themselves are in the module cache.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	files["go.sum"] = string(sum)
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}

	ran := 0
	for _, step := range steps {
		if strings.Contains(step, "app.db") {
			// The operators' command on a store: the store is made below.
			continue
		}
		step = strings.ReplaceAll(step, "/path/to/asyncflow", root)
		if strings.Contains(step, "@latest") {
			continue
		}
		cmd := exec.Command("sh", "-c", step)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "README step %q:\n%s", step, out)
		ran++
	}
	assert.GreaterOrEqual(t, ran, 6, "README steps run: %q", steps)
	_, err = os.Stat(filepath.Join(dir, "payout", "flowgen_gen.go"))
	require.NoError(t, err, "go generate wrote no flowgen_gen.go")

	// The operators' command runs as a tool of the module, on a store file
	// that is not there: a clear error, and no file made.
	cmd := exec.Command("go", "tool", "asyncflow", "-store", "app.db", "list")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "app.db")
	_, err = os.Stat(filepath.Join(dir, "app.db"))
	assert.True(t, os.IsNotExist(err), "asyncflow list made a store file")
}
