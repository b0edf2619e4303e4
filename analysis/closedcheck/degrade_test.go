package closedcheck_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
)

// TestBodiesNotTypeChecked: go/packages, asked for top and bottom, loads
// middle (between them) from source but type-checks only its declarations.
// The analysis of middle once crashed on it, failing every package above;
// it is now degraded: middle's functions cannot be proved closed, and the
// flow that calls them says why.
func TestBodiesNotTypeChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	testdata, err := filepath.Abs("testdata")
	require.NoError(t, err)
	cfg := &packages.Config{Mode: packages.LoadSyntax, Dir: filepath.Join(testdata, "src", "partial"),
		Env: append(os.Environ(), "GOPATH="+testdata, "GO111MODULE=off", "GOWORK=off", "GOFLAGS=")}
	pkgs, err := packages.Load(cfg, "partial/top", "partial/bottom")
	require.NoError(t, err)
	require.Zero(t, packages.PrintErrors(pkgs))
	g, err := checker.Analyze([]*analysis.Analyzer{closedcheck.Analyzer}, pkgs, nil)
	require.NoError(t, err)
	var middle *checker.Action
	var msgs []string
	for act := range g.All() {
		assert.NoError(t, act.Err, act.Package.PkgPath)
		if act.Package.PkgPath == "partial/middle" {
			middle = act
		}
		if act.Package.PkgPath == "partial/top" {
			for _, d := range act.Diagnostics {
				msgs = append(msgs, d.Message)
			}
		}
	}
	require.NotNil(t, middle, "middle is analysed as a dependency")
	require.NotEmpty(t, middle.Package.Syntax, "middle is loaded from source")
	var fact string
	for _, f := range middle.AllPackageFacts() {
		if f.Package.Path() == "partial/middle" {
			fact = fmt.Sprint(f.Fact)
		}
	}
	assert.Equal(t, "unanalysed: its function bodies were not type-checked (loaded as a dependency, not named)", fact)
	require.Len(t, msgs, 2, "a summary and the call")
	assert.Contains(t, msgs[0], "flow Digest is not closed: Digest → middle.Hash: cannot prove closed: its function bodies were not type-checked")
}
