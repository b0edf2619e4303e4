package closedcheck_test

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
)

// diagnosticsOnly passes analysistest's complaints on, except about facts
// no // want comment expects: every function gets a fact, and the topic
// tests are about diagnostics. TestFacts checks facts.
type diagnosticsOnly struct{ *testing.T }

func (d diagnosticsOnly) Errorf(format string, args ...any) {
	if msg := fmt.Sprintf(format, args...); strings.Contains(msg, "unexpected fact") {
		return
	}
	d.T.Helper()
	d.T.Errorf(format, args...)
}

func run(t *testing.T, pkgs ...string) {
	t.Helper()
	analysistest.RunWithSuggestedFixes(diagnosticsOnly{t}, analysistest.TestData(), closedcheck.Analyzer, pkgs...)
}

func TestClocks(t *testing.T) { run(t, "clocks") }

func TestRandomness(t *testing.T) { run(t, "randomness") }
func TestGoroutines(t *testing.T) { run(t, "goroutines") }
func TestGlobals(t *testing.T)    { run(t, "globals") }
func TestAmbient(t *testing.T)    { run(t, "ambient") }
func TestContexts(t *testing.T)   { run(t, "contexts") }
func TestLogging(t *testing.T)    { run(t, "logging") }
func TestMaps(t *testing.T)       { run(t, "maps") }
func TestDynamic(t *testing.T)    { run(t, "dynamic") }
func TestGenerics(t *testing.T)   { run(t, "generics") }
func TestRecursion(t *testing.T)  { run(t, "recursion") }

// TestChainAcrossPackages checks the facts each package exports, and the
// diagnostics of flows that reach code three packages away.
func TestChainAcrossPackages(t *testing.T) {
	analysistest.Run(diagnosticsOnly{t}, analysistest.TestData(), closedcheck.Analyzer, "example.com/top")
	analysistest.Run(t, analysistest.TestData(), closedcheck.Analyzer, "example.com/leaf", "example.com/mid")
}
func TestIgnore(t *testing.T) {
	analysistest.Run(diagnosticsOnly{t}, analysistest.TestData(), closedcheck.Analyzer, "ignore")
}
func TestMembrane(t *testing.T) { run(t, "membrane") }
func TestClosed(t *testing.T)   { run(t, "orders") }
func TestRealistic(t *testing.T) {
	analysistest.Run(diagnosticsOnly{t}, analysistest.TestData(), closedcheck.Analyzer, "realistic")
}
func TestFixAddsImports(t *testing.T) { run(t, "fiximports") }
