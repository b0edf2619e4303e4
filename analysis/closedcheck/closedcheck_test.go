package closedcheck_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
)

// run checks the diagnostics, suggested fixes and facts of topic packages
// against their // want comments.
func run(t *testing.T, pkgs ...string) {
	t.Helper()
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), closedcheck.Analyzer, pkgs...)
}

func TestClocks(t *testing.T) { run(t, "clocks") }

func TestRandomness(t *testing.T) { run(t, "randomness") }
func TestGoroutines(t *testing.T) { run(t, "goroutines") }
func TestGlobals(t *testing.T)    { run(t, "globals") }
func TestAmbient(t *testing.T)    { run(t, "ambient") }
func TestContexts(t *testing.T)   { run(t, "contexts") }
func TestLogging(t *testing.T)    { run(t, "logging") }
func TestMaps(t *testing.T)       { run(t, "maporder") }
func TestDynamic(t *testing.T)    { run(t, "dynamic") }
func TestGenerics(t *testing.T)   { run(t, "generics") }
func TestRecursion(t *testing.T)  { run(t, "recursion") }

// TestChainAcrossPackages checks the facts each package exports, and the
// diagnostics of flows that reach code three packages away.
func TestChainAcrossPackages(t *testing.T) {
	run(t, "example.com/leaf", "example.com/mid", "example.com/top")
}
func TestIgnore(t *testing.T)         { run(t, "ignore") }
func TestMembrane(t *testing.T)       { run(t, "membrane") }
func TestClosed(t *testing.T)         { run(t, "orders") }
func TestRealistic(t *testing.T)      { run(t, "realistic") }
func TestFixAddsImports(t *testing.T) { run(t, "fiximports") }

// TestWholeProgram: exported variables nothing writes are closed to read;
// a main or test package that writes one a flow reads is reported there.
func TestWholeProgram(t *testing.T) {
	run(t, "example.com/settings", "example.com/locale", "example.com/billing", "example.com/server")
}

// TestInterfaces: calls through exported interfaces of another package,
// judged against what the factories return, or every implementation.
func TestInterfaces(t *testing.T) {
	run(t, "example.com/strategy", "example.com/ifaces", "example.com/ifacesclock")
}

// TestFunctionValues: function values in fields and elements of values
// never written after initialisation, here and in another package.
func TestFunctionValues(t *testing.T) { run(t, "example.com/ops", "funcvals") }

// TestIterators: ranges over functions are calls of them with the loop
// body as yield; map order is judged where the iterator is consumed.
func TestIterators(t *testing.T) { run(t, "iterators") }

// TestAliases: package state written through locals, parameters and
// package-level pointers that refer to it.
func TestAliases(t *testing.T) { run(t, "aliases") }

// TestCorpus: flows after public workflow samples and after the
// non-determinism bugs users report, each closed or not as its comments say.
func TestCorpus(t *testing.T) {
	run(t, "corpus/fulfil", "corpus/sagalib", "corpus/saga", "corpus/subscribe", "corpus/batch",
		"corpus/dsl", "corpus/dslext", "corpus/pricing", "corpus/ops")
}

// TestCorpusMore: more flows after samples, most of them closed.
func TestCorpusMore(t *testing.T) {
	run(t, "corpus/clientlib", "corpus/client", "corpus/cart", "corpus/patterns", "corpus/registry", "corpus/di")
}

// TestRobust: inputs that crashed the analysis once, and odd corners of
// Go; a crash would be reported as "cannot be proved closed".
func TestRobust(t *testing.T) { run(t, "example.com/ptrlib", "example.com/cornerlib", "robust") }

// TestInternalError: a bug met in the analysis of a package (simulated)
// does not fail the packages above it; the package is degraded, and what
// reaches it cannot be proved closed, with the reason.
func TestInternalError(t *testing.T) {
	defer closedcheck.FailAfterFacts("example.com/faulty")()
	run(t, "example.com/faulty", "faultuser")
}
