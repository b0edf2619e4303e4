// Package driver runs closedcheck on packages the way the standalone
// closedcheck command does, printing what go vet prints.
//
// go vet analyses every dependency of the packages named, from source,
// one process per package. The standalone driver loads the packages named
// from source and their dependencies from export data (compiled by the go
// command, and cached by it), so a program linking a large dependency the
// flows never touch costs little: the analysis of what flows reach in a
// package not named (a third-party library, say) says so, and the driver
// then loads that package from source too and runs again. A package between
// two loaded from source is named too (go/packages would type-check only
// its declarations), the tests of a package loaded because flows reach it
// are left out, and packages of the standard library named (std) are
// dropped: the analyzer judges them by its table.
package driver

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
)

// Options configure a run.
type Options struct {
	Dir   string   // where patterns are resolved; "" is the current directory
	Tests bool     // analyse test files too
	Tags  []string // build tags
	JSON  bool     // print go vet's JSON instead of text
	Fix   bool     // apply suggested fixes instead of printing
	// Config is the analyzer's (Analysed is set by the driver).
	Config closedcheck.Config
}

// maxRounds bounds how often the driver loads packages a flow turned out
// to reach.
const maxRounds = 4

// Run analyses the packages matching patterns and writes diagnostics to
// stdout (JSON) or stderr (text), with paths relative to the current
// directory as go vet prints them. It returns the exit status go vet would:
// 1 when there are diagnostics (in text mode) or errors, else 0.
func Run(patterns []string, opts Options, stdout, stderr io.Writer) int {
	patterns = withoutStd(patterns, opts)
	if len(patterns) == 0 {
		fmt.Fprintln(stderr, "closedcheck: only packages of the standard library are named: closedcheck judges them by its table, there is nothing to analyse")
		return 0
	}
	source := map[string]bool{} // import paths loaded from source besides the patterns
	var graph *checker.Graph
	var roots map[*packages.Package]bool
	for round := 0; ; round++ {
		pkgs, err := load(patterns, slices.Sorted(maps.Keys(source)), opts)
		if err != nil {
			fmt.Fprintln(stderr, "closedcheck:", err)
			return 1
		}
		// A package between two loaded from source is loaded from source
		// too, but with its function bodies not type-checked: name it, so
		// that it is analysed rather than degraded.
		if between := intermediates(pkgs); len(between) > 0 {
			for _, path := range between {
				source[path] = true
			}
			if pkgs, err = load(patterns, slices.Sorted(maps.Keys(source)), opts); err != nil {
				fmt.Fprintln(stderr, "closedcheck:", err)
				return 1
			}
		}
		if n := printErrors(stderr, pkgs); n > 0 {
			return 1
		}
		analysed := map[string]bool{}
		for _, p := range pkgs {
			analysed[p.PkgPath] = true
		}
		cfg := opts.Config
		cfg.Analysed = func(path string) bool { return analysed[path] }
		a := closedcheck.NewAnalyzer(cfg)
		graph, err = checker.Analyze([]*analysis.Analyzer{a}, pkgs, nil)
		if err != nil {
			fmt.Fprintln(stderr, "closedcheck:", err)
			return 1
		}
		roots = map[*packages.Package]bool{}
		for _, p := range pkgs {
			roots[p] = !source[p.PkgPath]
		}
		more := false
		for _, act := range graph.Roots {
			if r, ok := act.Result.(*closedcheck.Result); ok {
				for _, m := range r.Unanalysed {
					if !source[m] && !analysed[m] {
						source[m], more = true, true
					}
				}
			}
		}
		if !more || round+1 == maxRounds {
			break
		}
	}
	return report(graph, roots, opts, stdout, stderr)
}

// withoutStd drops the packages of the standard library from patterns
// that name import paths (std, net/..., golang.org/x/tools/...):
// closedcheck judges the standard library by its table, and loading it
// from source costs minutes. Patterns of directories (./...) stay as they
// are; if the go command cannot list the patterns, the loader says why.
func withoutStd(patterns []string, opts Options) []string {
	if !slices.ContainsFunc(patterns, func(p string) bool { return !strings.HasPrefix(p, ".") && !filepath.IsAbs(p) }) {
		return patterns
	}
	args := []string{"list", "-e", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}
	if len(opts.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(opts.Tags, ","))
	}
	cmd := exec.Command("go", append(append(args, "--"), patterns...)...)
	cmd.Dir = opts.Dir
	out, err := cmd.Output()
	if err != nil {
		return patterns
	}
	return strings.Fields(string(out))
}

// load loads the packages matching patterns, and the extra import paths,
// from source; what they import, from export data.
func load(patterns, extra []string, opts Options) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Mode:  packages.LoadSyntax | packages.NeedModule,
		Dir:   opts.Dir,
		Tests: opts.Tests,
	}
	if len(opts.Tags) > 0 {
		cfg.BuildFlags = []string{"-tags=" + strings.Join(opts.Tags, ",")}
	}
	pkgs, err := packages.Load(cfg, append(slices.Clone(patterns), extra...)...)
	if err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s matched no packages", strings.Join(patterns, " "))
	}
	// The tests of a package loaded only because a flow reaches it are not
	// the program's: leave them out (what they import may not even be in
	// the module graph).
	isExtra := map[string]bool{}
	for _, path := range extra {
		isExtra[path] = true
	}
	return slices.DeleteFunc(pkgs, func(p *packages.Package) bool {
		if isExtra[p.PkgPath] {
			return p.ID != p.PkgPath // a variant compiled for its tests
		}
		base, test := strings.CutSuffix(p.PkgPath, "_test")
		if !test {
			base, test = strings.CutSuffix(p.PkgPath, ".test")
		}
		return test && isExtra[base]
	}), nil
}

// intermediates lists the packages loaded from source without being
// named: go/packages parses a package that leads from one named package to
// another, but type-checks only its declarations.
func intermediates(pkgs []*packages.Package) []string {
	named := map[string]bool{}
	for _, p := range pkgs {
		named[p.PkgPath] = true
	}
	var out []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		if !named[p.PkgPath] && len(p.Syntax) > 0 && !slices.Contains(out, p.PkgPath) {
			out = append(out, p.PkgPath)
		}
	})
	slices.Sort(out)
	return out
}

// printErrors prints the errors of the packages loaded, as go vet does,
// and returns how many there are.
func printErrors(w io.Writer, pkgs []*packages.Package) int {
	n := 0
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if e.Pos == "" || e.Pos == "-" {
				fmt.Fprintln(w, e.Msg)
			} else {
				fmt.Fprintln(w, shortPos(e.Pos)+": "+e.Msg)
			}
			n++
		}
	})
	return n
}

// report prints the diagnostics of the packages named (or applies their
// fixes) and returns the exit status.
func report(graph *checker.Graph, roots map[*packages.Package]bool, opts Options, stdout, stderr io.Writer) int {
	var acts []*checker.Action
	for _, act := range graph.Roots {
		if roots[act.Package] && !strings.HasSuffix(act.Package.PkgPath, ".test") {
			acts = append(acts, act)
		}
	}
	failed := false
	for _, act := range acts {
		if act.Err != nil {
			fmt.Fprintf(stderr, "closedcheck: %s: %v\n", act.Package.PkgPath, act.Err)
			failed = true
		}
	}
	// A package the patterns do not name whose analysis failed is why the
	// packages above it report "failed prerequisites": say what failed.
	if failed {
		for act := range graph.All() {
			if act.Err != nil && !roots[act.Package] && !strings.HasPrefix(act.Err.Error(), "failed prerequisites") {
				fmt.Fprintf(stderr, "closedcheck: %s: %v\n", act.Package.PkgPath, act.Err)
			}
		}
	}
	if opts.JSON {
		if err := printJSON(stdout, acts); err != nil {
			fmt.Fprintln(stderr, "closedcheck:", err)
			return 1
		}
		if failed {
			return 1
		}
		return 0
	}
	type diag struct {
		posn token.Position
		msg  string
		d    analysis.Diagnostic
		fset *token.FileSet
	}
	var diags []diag
	seen := map[string]bool{}
	for _, act := range acts {
		for _, d := range act.Diagnostics {
			posn := act.Package.Fset.Position(d.Pos)
			k := posn.String() + "\x00" + d.Message
			if seen[k] {
				continue // a file in a package and its test variant
			}
			seen[k] = true
			diags = append(diags, diag{posn, d.Message, d, act.Package.Fset})
		}
	}
	slices.SortStableFunc(diags, func(a, b diag) int {
		return cmp.Or(strings.Compare(a.posn.Filename, b.posn.Filename), cmp.Compare(a.posn.Line, b.posn.Line), cmp.Compare(a.posn.Column, b.posn.Column))
	})
	if opts.Fix {
		var fixes []fix
		for _, d := range diags {
			if len(d.d.SuggestedFixes) > 0 {
				fixes = append(fixes, fix{d.fset, d.d.SuggestedFixes[0]})
			}
		}
		if err := applyFixes(fixes); err != nil {
			fmt.Fprintln(stderr, "closedcheck:", err)
			return 1
		}
		if failed {
			return 1
		}
		return 0
	}
	for _, d := range diags {
		posn := d.posn
		posn.Filename = shortPath(posn.Filename)
		fmt.Fprintf(stderr, "%s: %s\n", posn, d.msg)
	}
	if failed || len(diags) > 0 {
		return 1
	}
	return 0
}

// shortPath is a file's name relative to the current directory when that
// is shorter, as the go command shows it.
func shortPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && len(rel) < len(path) {
		return rel
	}
	return path
}

func shortPos(pos string) string {
	file, rest, _ := strings.Cut(pos, ":")
	if rest == "" {
		return shortPath(file)
	}
	return shortPath(file) + ":" + rest
}

// printJSON prints go vet's JSON: per package, per analyzer, the
// diagnostics (or the error).
func printJSON(w io.Writer, acts []*checker.Action) error {
	type jsonDiag struct {
		Category string `json:"category,omitempty"`
		Posn     string `json:"posn"`
		Message  string `json:"message"`
	}
	tree := map[string]map[string]any{}
	for _, act := range acts {
		var v any
		if act.Err != nil {
			v = map[string]string{"error": act.Err.Error()}
		} else if len(act.Diagnostics) > 0 {
			var ds []jsonDiag
			for _, d := range act.Diagnostics {
				ds = append(ds, jsonDiag{Category: d.Category, Posn: act.Package.Fset.Position(d.Pos).String(), Message: d.Message})
			}
			v = ds
		} else {
			continue
		}
		if tree[act.Package.ID] == nil {
			tree[act.Package.ID] = map[string]any{}
		}
		tree[act.Package.ID][act.Analyzer.Name] = v
	}
	b, err := json.MarshalIndent(tree, "", "\t")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

type fix struct {
	fset *token.FileSet
	fix  analysis.SuggestedFix
}

// applyFixes applies the edits of fixes to their files, refusing edits
// that overlap.
func applyFixes(fixes []fix) error {
	type edit struct {
		start, end int
		text       []byte
	}
	byFile := map[string][]edit{}
	for _, f := range fixes {
		for _, e := range f.fix.TextEdits {
			tf := f.fset.File(e.Pos)
			if tf == nil {
				continue
			}
			end := e.End
			if !end.IsValid() {
				end = e.Pos
			}
			byFile[tf.Name()] = append(byFile[tf.Name()], edit{tf.Offset(e.Pos), tf.Offset(end), e.NewText})
		}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(byFile)) {
		edits := byFile[name]
		slices.SortStableFunc(edits, func(a, b edit) int { return cmp.Compare(a.start, b.start) })
		src, err := os.ReadFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var out []byte
		last := 0
		for i, e := range edits {
			if i > 0 && e.start < edits[i-1].end || e.start < last || e.end > len(src) {
				errs = append(errs, fmt.Errorf("%s: overlapping fixes", name))
				out = nil
				break
			}
			out = append(out, src[last:e.start]...)
			out = append(out, e.text...)
			last = e.end
		}
		if out == nil && len(edits) > 0 {
			continue
		}
		out = append(out, src[last:]...)
		if err := os.WriteFile(name, out, 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
