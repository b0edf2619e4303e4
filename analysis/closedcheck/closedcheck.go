package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
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
	// Analysed, if set, says which packages the driver analyses; the others
	// are seen through their export data only, and what a flow reaches in
	// them is "cannot prove closed". Nil: every package (as go vet does).
	Analysed func(path string) bool
}

// Analyzer is closedcheck with the default configuration. Its -allow flag
// adds functions treated as closed.
var Analyzer = NewAnalyzer(Config{})

// NewAnalyzer returns the analyzer with a configuration.
func NewAnalyzer(cfg Config) *analysis.Analyzer {
	c := &checker{cfg: cfg}
	a := &analysis.Analyzer{
		Name:       "closedcheck",
		Doc:        Doc,
		URL:        "https://pkg.go.dev/github.com/asyncflow-go/asyncflow/analysis/closedcheck",
		Run:        c.run,
		FactTypes:  []analysis.Fact{new(funcFact), new(packageFact), new(hostFact), new(varFact), new(typeFact)},
		ResultType: reflect.TypeFor[*Result](),
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

// Result is what the analysis of a package tells a driver.
type Result struct {
	// Unanalysed are the packages, not analysed (see Config.Analysed),
	// whose code the package's flows reach: analysed too, the verdicts on
	// those flows become exact.
	Unanalysed []string
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

// full is fn.FullName(), computed once per function.
func (p *pkgState) full(fn *types.Func) string {
	if s, ok := p.fullNames[fn]; ok {
		return s
	}
	s := fn.FullName()
	p.fullNames[fn] = s
	return s
}

// configured reports whether the configuration allows fn (true, "") or
// denies it (false, why).
func (p *pkgState) configured(fn *types.Func) (allowed bool, denied string) {
	if len(p.c.cfg.Allow) == 0 && len(p.c.cfg.Deny) == 0 {
		return false, ""
	}
	name := p.full(fn)
	return p.c.allowed(name), p.c.cfg.Deny[name]
}

// pkgState is the analysis of one package.
type pkgState struct {
	c         *checker
	pass      *analysis.Pass
	hosts     map[*types.TypeName]bool
	flows     []*ast.FuncDecl
	funcs     map[*types.Func]*fnInfo
	initFns   []*fnInfo // variable initializers, judged like functions
	all       []*fnInfo
	initOnly  map[*types.Func]bool
	impls     map[string][]types.Type // implementations of interfaces, by key
	vars      map[*types.Var]*varInfo
	ignore    map[*token.File][]span // suppressed line ranges
	pkgIndex  map[string]*types.Package
	stubs     map[string]*types.Var // variables of other packages known only by key
	fullNames map[*types.Func]string
	impFacts  *[]ImplFact // implementations listed by the imports' package facts
	// values stored in function-valued fields of the package's types
	fieldStores map[string][]fieldStore
	storesDone  bool
	storeCache  map[*ast.CallExpr][]Store
	stdObls     map[*types.Func][]Obligation
	// writes of other packages' variables (and of this one's by its tests)
	foreignWrites []varWrite
	// root: a main or test package, where the whole program is visible
	root  bool
	cycle bool // a round met a call within a cycle
	// reported causes at sites, so a site reached by two flows is reported once
	reported map[reportKey]bool
	nesting  int // recursion depth of the analysis (see enter)
}

type span struct{ from, to int } // lines, inclusive

func (c *checker) run(pass *analysis.Pass) (res any, err error) {
	path := pass.Pkg.Path()
	if isStd(path) || isMembrane(path) || len(pass.Files) == 0 || strings.HasSuffix(path, ".test") {
		// The table judges the standard library; flow is the membrane; a
		// test binary's generated main holds no code of the user's.
		return &Result{}, nil
	}
	if !bodiesChecked(pass) {
		degrade(pass, "its function bodies were not type-checked (loaded as a dependency, not named)")
		return &Result{Unanalysed: []string{path}}, nil
	}
	defer func() {
		// A bug here must not take down go vet, nor the analysis of the
		// packages above this one: the package is degraded to "cannot
		// prove closed", with the panic as the reason (see degrade.go).
		if r := recover(); r != nil {
			degrade(pass, internalError(r))
			res, err = &Result{}, nil
		}
	}()
	p := &pkgState{c: c, pass: pass, hosts: map[*types.TypeName]bool{}, funcs: map[*types.Func]*fnInfo{},
		vars: map[*types.Var]*varInfo{}, ignore: map[*token.File][]span{}, reported: map[reportKey]bool{},
		impls: map[string][]types.Type{}, fullNames: map[*types.Func]string{}, stdObls: map[*types.Func][]Obligation{}}
	p.root = pass.Pkg.Name() == "main"
	for _, f := range pass.Files {
		p.root = p.root || p.isTestFile(f.Pos())
	}
	p.directives()
	p.collectVars()
	p.collectFuncs()
	p.computeStores()
	p.storesDone = true
	p.writes()
	p.collectFieldStores()
	p.walkFuncs()
	p.verdicts()
	p.exportFacts()
	if faultHook != nil {
		faultHook(path)
	}
	for _, fd := range p.flows {
		p.reportFlow(fd)
	}
	p.wholeProgram()
	return p.result(), nil
}

// result lists the packages not analysed that the flows reach.
func (p *pkgState) result() *Result {
	r := &Result{}
	for _, fd := range p.flows {
		fn, _ := p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
		if fi := p.funcs[fn]; fi != nil {
			for _, reason := range fi.v.reasons {
				if reason.Missing != "" && !slices.Contains(r.Unanalysed, reason.Missing) {
					r.Unanalysed = append(r.Unanalysed, reason.Missing)
				}
			}
		}
	}
	slices.Sort(r.Unanalysed)
	return r
}

// isFlowDecl reports whether a declaration is a flow.
func isFlowDecl(fd *ast.FuncDecl) bool {
	return directive.Has(fd.Doc, directive.VerbFlow) && fd.Recv == nil && fd.Body != nil
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
				if isFlowDecl(d) {
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
	var pf packageFact
	known := p.pass.ImportPackageFact(pkg, &pf)
	if known && pf.Unanalysed != "" {
		return false // degraded: see degrade.go
	}
	if p.c.cfg.Analysed != nil {
		return p.c.cfg.Analysed(pkg.Path())
	}
	if known {
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
