package closedcheck_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
)

// BenchmarkAnalyzeChains analyses a package of 500 functions in 50 call
// chains ten deep, one flow at the top of each; half the chains end in
// time.Now. Loading is done once; each iteration is the analysis.
func BenchmarkAnalyzeChains(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	flowDir := filepath.Join(src, "github.com", "asyncflow-go", "asyncflow", "flow")
	stub, err := os.ReadFile(filepath.Join("testdata", "src", "github.com", "asyncflow-go", "asyncflow", "flow", "flow.go"))
	if err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.MkdirAll(flowDir, 0o755))
	must(os.WriteFile(filepath.Join(flowDir, "flow.go"), stub, 0o644))
	var sb strings.Builder
	sb.WriteString("package chains\n\nimport (\n\t\"strings\"\n\t\"time\"\n\n\t\"github.com/asyncflow-go/asyncflow/flow\"\n)\n\nvar _ = time.Now\n\n")
	for c := range 50 {
		fmt.Fprintf(&sb, "//flowgen:flow\nfunc Flow%d(fc flow.Context, s string) string { return f%d_0(s) }\n\n", c, c)
		for d := range 10 {
			next := fmt.Sprintf("f%d_%d(strings.ToUpper(s)) + s[:0]", c, d+1)
			if d == 9 {
				next = "strings.Repeat(s, 2)"
				if c%2 == 1 {
					next = "s + time.Now().String()"
				}
			}
			fmt.Fprintf(&sb, "func f%d_%d(s string) string {\n\tparts := strings.Split(s, \",\")\n\tfor i := range parts {\n\t\tparts[i] = strings.TrimSpace(parts[i])\n\t}\n\treturn strings.Join(parts, \",\") + %s\n}\n\n", c, d, next)
		}
	}
	pkgDir := filepath.Join(src, "chains")
	must(os.MkdirAll(pkgDir, 0o755))
	must(os.WriteFile(filepath.Join(pkgDir, "chains.go"), []byte(sb.String()), 0o644))
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: dir, Env: append(os.Environ(), "GOPATH="+dir, "GO111MODULE=off", "GOWORK=off")}
	pkgs, err := packages.Load(cfg, "chains")
	must(err)
	if packages.PrintErrors(pkgs) > 0 {
		b.Fatal("load errors")
	}
	// CPU time per analysis, besides wall time: on a shared machine the
	// wall time is what the others leave; the CPU time is what it costs.
	var before syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &before))
	b.ResetTimer()
	for b.Loop() {
		g, err := checker.Analyze([]*analysis.Analyzer{closedcheck.Analyzer}, pkgs, nil)
		must(err)
		n := 0
		for act := range g.All() {
			if act.IsRoot {
				n += len(act.Diagnostics)
			}
		}
		if n != 50 { // 25 flows, each with a summary and a cause
			b.Fatalf("%d diagnostics", n)
		}
	}
	var after syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &after))
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
