package closedcheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// Config adjusts the analyzer. The zero value is the documented behaviour.
type Config struct {
	// Allow lists functions (by types.Func.FullName, e.g.
	// "example.com/metrics.Count") treated as closed whatever they do.
	Allow []string
	// Deny lists functions treated as not closed, with the reason shown.
	Deny map[string]string
}

// Analyzer is closedcheck with the default configuration. Its -allow flag
// adds functions treated as closed.
var Analyzer = NewAnalyzer(Config{})

// NewAnalyzer returns the analyzer with a configuration.
func NewAnalyzer(cfg Config) *analysis.Analyzer {
	c := &checker{cfg: cfg}
	a := &analysis.Analyzer{
		Name:      "closedcheck",
		Doc:       Doc,
		URL:       "https://pkg.go.dev/github.com/asyncflow-go/asyncflow/analysis/closedcheck",
		Run:       c.run,
		FactTypes: []analysis.Fact{new(funcFact), new(packageFact), new(hostFact), new(varFact)},
	}
	a.Flags.Func("allow", "comma-separated functions (types.Func.FullName) to treat as closed", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.cfg.Allow = append(c.cfg.Allow, f)
			}
		}
		return nil
	})
	return a
}

// Doc is the analyzer's documentation; the full rule list is in doc.go.
const Doc = `prove flows are closed

closedcheck checks each //flowgen:flow function and everything it reaches by
static calls, across packages, for what would make replay diverge or reach
the world behind the membrane's back: goroutines, channels, sync, mutable
package state, wall clocks, timers, randomness, I/O and ambient authority,
random map iteration order, and calls whose target cannot be known. See the
package documentation for every rule and its blind spots.`

type checker struct {
	cfg Config
}

func (c *checker) allowed(fullName string) bool { return slices.Contains(c.cfg.Allow, fullName) }

// pkgState is the analysis of one package.
type pkgState struct {
	c        *checker
	pass     *analysis.Pass
	hosts    map[*types.TypeName]bool
	flows    []*ast.FuncDecl
	funcs    map[*types.Func]*fnInfo
	initFns  []*fnInfo // variable initializers, judged like functions
	initOnly map[*types.Func]bool
	impls    map[*types.Named][]types.Type // implementations of unexported interfaces
	vars     map[*types.Var]*varInfo
	ignore   map[*token.File][]span // suppressed line ranges
	// reported sites, so a site reached by two flows is reported once
	reported map[token.Pos]bool
}

type span struct{ from, to int } // lines, inclusive

func (c *checker) run(pass *analysis.Pass) (any, error) {
	path := pass.Pkg.Path()
	if isStd(path) || isMembrane(path) {
		return nil, nil // the table judges the standard library; flow is the membrane
	}
	p := &pkgState{c: c, pass: pass, hosts: map[*types.TypeName]bool{}, funcs: map[*types.Func]*fnInfo{},
		vars: map[*types.Var]*varInfo{}, ignore: map[*token.File][]span{}, reported: map[token.Pos]bool{},
		impls: map[*types.Named][]types.Type{}}
	p.directives()
	p.collectVars()
	p.collectInitializers()
	p.collectFuncs()
	// Verdicts for every function; those that say something (not closed,
	// or obligations for callers) are exported as facts for importers.
	p.verdicts()
	pass.ExportPackageFact(&packageFact{})
	for _, fn := range p.sortedFuncs() {
		info := p.funcs[fn]
		if info.reason != nil || len(info.obligations) > 0 {
			pass.ExportObjectFact(fn, &funcFact{Reason: info.reason, Obligations: info.obligations})
		}
	}
	for _, fd := range p.flows {
		p.reportFlow(fd)
	}
	return nil, nil
}

func (p *pkgState) sortedFuncs() []*types.Func {
	fns := make([]*types.Func, 0, len(p.funcs))
	for fn := range p.funcs {
		fns = append(fns, fn)
	}
	slices.SortFunc(fns, func(a, b *types.Func) int { return int(a.Pos() - b.Pos()) })
	return fns
}

func (p *pkgState) isGeneratedFile(pos token.Pos) bool {
	return directive.IsGenerated(p.pass.Fset.Position(pos).Filename)
}

// directives reads //flowgen:flow, //flowgen:host and //closedcheck:ignore.
func (p *pkgState) directives() {
	for _, f := range p.pass.Files {
		if p.isGeneratedFile(f.Pos()) {
			continue
		}
		tf := p.pass.Fset.File(f.Pos())
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if directive.Has(d.Doc, directive.VerbFlow) && d.Recv == nil && d.Body != nil {
					p.flows = append(p.flows, d)
				}
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					continue
				}
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					if !directive.Has(directive.TypeDoc(d, ts), directive.VerbHost) {
						continue
					}
					if tn, ok := p.pass.TypesInfo.Defs[ts.Name].(*types.TypeName); ok && types.IsInterface(tn.Type()) {
						p.hosts[tn] = true
						p.pass.ExportObjectFact(tn, &hostFact{})
					}
				}
			}
		}
		// Suppressions: a comment on a line, or on the line above a
		// statement (then the whole statement), or in a function's doc.
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				reason, ok := directive.IgnoreReason(c.Text)
				if !ok {
					continue
				}
				if reason == "" {
					p.pass.Report(analysis.Diagnostic{Pos: c.Pos(), Message: "//closedcheck:ignore needs a reason: say why the code is closed"})
					continue
				}
				p.ignore[tf] = append(p.ignore[tf], p.ignoredSpan(f, tf, c, tf.Line(c.Pos())))
			}
		}
	}
}

// ignoredSpan is what a //closedcheck:ignore comment covers: the function
// whose doc it is in; if it starts its line, that line and the statement on
// the next (all its lines); otherwise its own line.
func (p *pkgState) ignoredSpan(f *ast.File, tf *token.File, c *ast.Comment, line int) span {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil && fd.Doc.Pos() <= c.Pos() && c.End() <= fd.Doc.End() {
			return span{tf.Line(fd.Pos()), tf.Line(fd.End())}
		}
	}
	if !p.startsLine(tf, c) {
		return span{line, line}
	}
	covered := span{line, line + 1}
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil || tf.Line(n.Pos()) > line+1 {
			return false
		}
		switch n.(type) {
		case ast.Stmt, ast.Decl, ast.Spec:
			if tf.Line(n.Pos()) == line+1 {
				if end := tf.Line(n.End()); end > covered.to {
					covered.to = end
				}
			}
		}
		return true
	})
	return covered
}

// startsLine reports whether only indentation precedes the comment.
func (p *pkgState) startsLine(tf *token.File, c *ast.Comment) bool {
	src, err := p.pass.ReadFile(tf.Name())
	if err != nil {
		return true
	}
	start := tf.Offset(tf.LineStart(tf.Line(c.Pos())))
	off := tf.Offset(c.Pos())
	if start < 0 || off > len(src) || start > off {
		return true
	}
	return strings.TrimSpace(string(src[start:off])) == ""
}

func (p *pkgState) suppressed(pos token.Pos) bool {
	tf := p.pass.Fset.File(pos)
	if tf == nil {
		return false
	}
	line := tf.Line(pos)
	for _, s := range p.ignore[tf] {
		if s.from <= line && line <= s.to {
			return true
		}
	}
	return false
}

// analysed reports whether closedcheck analysed a package, so that a
// function of it without a fact is closed. The package fact is visible for
// the package's own imports (and, in go vet, only for those: a method of a
// type of a deeper package is then known from its own fact or its absence).
func (p *pkgState) analysed(pkg *types.Package) bool {
	if p.pass.ImportPackageFact(pkg, &packageFact{}) {
		return true
	}
	return !slices.Contains(p.pass.Pkg.Imports(), pkg)
}

// isHost reports whether t is a //flowgen:host interface, here or imported.
func (p *pkgState) isHost(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	if n.Origin() != n {
		obj = n.Origin().Obj()
	}
	if p.hosts[obj] {
		return true
	}
	return p.pass.ImportObjectFact(obj, &hostFact{})
}

// funcName names a function in a chain, qualified by its package's name
// (facts carry it to other packages); local reports drop this package's.
func (p *pkgState) funcName(fn *types.Func) string {
	name := fn.Name()
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
		recv := sig.Recv().Type()
		if ptr, ok := recv.(*types.Pointer); ok {
			recv = ptr.Elem()
		}
		if n, ok := types.Unalias(recv).(*types.Named); ok {
			name = n.Obj().Name() + "." + name
		}
	}
	if fn.Pkg() != nil {
		name = fn.Pkg().Name() + "." + name
	}
	return name
}

// local drops this package's qualifier from names in a chain.
func (p *pkgState) local(chain []string) []string {
	prefix := p.pass.Pkg.Name() + "."
	out := make([]string, len(chain))
	for i, c := range chain {
		out[i] = strings.TrimPrefix(c, prefix)
	}
	return out
}

func (p *pkgState) position(pos token.Pos) string {
	ps := p.pass.Fset.Position(pos)
	return fmt.Sprintf("%s:%d:%d", shortFile(ps.Filename), ps.Line, ps.Column)
}

// shortFile keeps the last two elements of a path: pkg/file.go.
func shortFile(path string) string {
	dir, file := filepath.Split(path)
	return filepath.Join(filepath.Base(dir), file)
}
