package gen

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// OutputName is the name of the file flowgen writes in each package.
const OutputName = directive.GeneratedFile

// Config says what to generate for.
type Config struct {
	// Dir is the directory patterns are resolved in; default the current one.
	Dir string
	// Patterns are package patterns; default ".".
	Patterns []string
	// Tags are build tags, as for go build -tags.
	Tags []string
	// Env is the environment of the go command; default os.Environ().
	Env []string
}

// File is one generated file.
type File struct {
	Path    string // absolute
	Package string // import path
	Content []byte
	// Notes point out what is allowed but likely unintended in the
	// package, such as a flow calling another flow's function directly;
	// they fail nothing.
	Notes []Problem
}

// Problem is an error in the input, at a position.
type Problem struct {
	Pos token.Position
	Msg string
}

func (p Problem) Error() string {
	if !p.Pos.IsValid() {
		return "flowgen: " + p.Msg
	}
	return fmt.Sprintf("%s: flowgen: %s", relPos(p.Pos), p.Msg)
}

// relPos prints a position relative to the working directory when shorter.
func relPos(p token.Position) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p.Filename); err == nil && !strings.HasPrefix(rel, "..") {
			p.Filename = rel
		}
	}
	return p.String()
}

// Generate loads the packages and computes their generated files. It writes
// nothing. Problems in the input are returned joined, each as
// file:line:col: flowgen: message; files are returned for the packages that
// had none.
func Generate(ctx context.Context, cfg Config) ([]File, error) {
	pkgs, err := load(ctx, cfg)
	if err != nil {
		return nil, err
	}
	known, flows := knownHosts(pkgs), knownFlows(pkgs)
	// Names the generated files of this run will declare, by package name,
	// so that uses of them from other packages are not errors.
	foreign := map[string]bool{}
	models := make([]*Package, len(pkgs))
	problems := make([][]error, len(pkgs))
	for i, lp := range pkgs {
		models[i], problems[i] = build(lp, known, flows)
		for _, d := range models[i].Declares() {
			foreign[lp.Name+"."+d.Name] = true
		}
	}
	var files []File
	var errs []error
	for i, lp := range pkgs {
		f, perrs := generateOne(lp, models[i], problems[i], foreign)
		if len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		if f != nil {
			files = append(files, *f)
		}
	}
	return files, errors.Join(errs...)
}

// undefinedName matches the type error of a name flowgen itself declares,
// which user code may use before the first generation.
var undefinedName = regexp.MustCompile(`^undefined: ((?:\w+\.)?\w+)$`)

func load(ctx context.Context, cfg Config) ([]*packages.Package, error) {
	patterns := cfg.Patterns
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "."
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	var flags []string
	if len(cfg.Tags) > 0 {
		flags = append(flags, "-tags="+strings.Join(cfg.Tags, ","))
	}
	const mode = packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
		packages.NeedTypesInfo | packages.NeedImports | packages.NeedModule
	// First find the packages and their files, so that every generated file
	// can be emptied by an overlay: a stale or deleted generated file must
	// never stop regeneration.
	probe, err := packages.Load(&packages.Config{Context: ctx, Mode: packages.NeedName | packages.NeedFiles, Dir: absDir, Env: env, BuildFlags: flags}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("flowgen: load %s: %w", strings.Join(patterns, " "), err)
	}
	overlay := map[string][]byte{}
	for _, p := range probe {
		for _, f := range append(append([]string(nil), p.GoFiles...), p.IgnoredFiles...) {
			if directive.IsGenerated(f) {
				overlay[f] = []byte("package " + p.Name + "\n")
			}
		}
	}
	pkgs, err := packages.Load(&packages.Config{Context: ctx, Mode: mode, Dir: absDir, Env: env, BuildFlags: flags, Overlay: overlay, Tests: false}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("flowgen: load %s: %w", strings.Join(patterns, " "), err)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("flowgen: no packages match %s", strings.Join(patterns, " "))
	}
	slices.SortFunc(pkgs, func(a, b *packages.Package) int { return strings.Compare(a.PkgPath, b.PkgPath) })
	return pkgs, nil
}

// loadErrors returns a package's errors, less those about names the
// generated file will declare.
func loadErrors(p *packages.Package, generated map[string]bool) []error {
	var errs []error
	for _, e := range p.Errors {
		if m := undefinedName.FindStringSubmatch(e.Msg); m != nil && generated[m[1]] {
			continue
		}
		if e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") {
			continue // compiler output; the type errors of the source check say the same
		}
		pos := e.Pos
		if pos == "" || pos == "-" {
			errs = append(errs, fmt.Errorf("flowgen: %s: %s", p.PkgPath, e.Msg))
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %s", relFile(pos), e.Msg))
	}
	return errs
}

func relFile(pos string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, pos); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return pos
}

// generateOne computes the generated file of one package. A package without
// directives gets no file, or, if it has a stale one, a File with nil
// Content: remove it.
func generateOne(p *packages.Package, m *Package, problems []error, foreign map[string]bool) (*File, []error) {
	if len(m.Hosts) == 0 && len(m.Flows) == 0 && len(problems) == 0 {
		// Nothing to generate: this package's own errors are not ours to
		// report.
		for _, f := range p.GoFiles {
			if directive.IsGenerated(f) {
				return &File{Path: f, Package: m.Path}, nil
			}
		}
		return nil, nil
	}
	declared := map[string]bool{}
	for n := range foreign {
		declared[n] = true
	}
	for _, d := range m.Declares() {
		declared[d.Name] = true
	}
	if errs := loadErrors(p, declared); len(errs) > 0 {
		return nil, errs
	}
	if len(problems) > 0 {
		return nil, problems
	}
	content, err := emit(m)
	if err != nil {
		return nil, []error{err}
	}
	return &File{Path: m.Out, Package: m.Path, Content: content, Notes: m.Notes}, nil
}
