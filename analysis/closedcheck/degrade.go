package closedcheck

import (
	"fmt"
	"go/ast"
	"go/types"
	"runtime"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// A package closedcheck cannot judge — its function bodies were not
// type-checked, or the analysis met an inconsistency it did not expect (a
// bug: it panicked) — is not an error that stops the analysis of the
// packages above it. It is degraded: its package fact says why, every
// function of it gets a fact that says it is not closed for that reason,
// its flows are reported with it, and importers treat it as a package not
// analysed. The verdicts stay conservative: never "closed" by accident.

// faultHook, set by tests only, is called once a package's facts are
// exported: a panic there stands for a bug met late in the analysis.
var faultHook func(path string)

// maxNesting bounds the recursion of the analysis. Go cannot recover
// from a stack overflow (it ends the process, and go vet with it); a
// recursion without end, a bug, becomes a panic the package survives.
const maxNesting = 20000

// enter notes one more level of recursion; call what it returns on the
// way out.
func (p *pkgState) enter() func() {
	p.nesting++
	if p.nesting > maxNesting {
		panic(fmt.Sprintf("recursion deeper than %d", maxNesting))
	}
	return p.leave
}

func (p *pkgState) leave() { p.nesting-- }

// degrade marks the package as not analysed, for why.
func degrade(pass *analysis.Pass, why string) {
	defer func() { _ = recover() }() // the package fact is out: importers know
	pass.ExportPackageFact(&packageFact{Unanalysed: why})
	if pass.TypesInfo == nil {
		return
	}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			pos := pass.Fset.Position(fd.Name.Pos())
			r := &Reason{Chain: []string{funcName(fn)}, What: "cannot prove closed: " + why,
				Pos: fmt.Sprintf("%s:%d:%d", shortFile(pos.Filename), pos.Line, pos.Column), Kind: KindUnanalysed}
			pass.ExportObjectFact(fn, &funcFact{Reasons: []*Reason{r}})
		}
	}
	for _, f := range pass.Files {
		if directive.IsGenerated(pass.Fset.Position(f.Pos()).Filename) {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && isFlowDecl(fd) {
				pass.Report(analysis.Diagnostic{Pos: fd.Name.Pos(), Category: KindUnanalysed.String(),
					Message: fmt.Sprintf("flow %s cannot be proved closed: %s", fd.Name.Name, why)})
			}
		}
	}
}

// bodiesChecked reports whether the package's function bodies were
// type-checked. go/packages skips them in a package loaded from source only
// because a package named depends on it through it (types.Config's
// IgnoreFuncBodies): its declarations are typed, its bodies are not.
func bodiesChecked(pass *analysis.Pass) bool {
	info := pass.TypesInfo
	if info == nil {
		return false
	}
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || len(fd.Body.List) == 0 {
				continue
			}
			// The first identifier of a body is always recorded: a use, a
			// definition, a label, or the blank identifier as a type-checked
			// expression's operand.
			found, typed := false, false
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if found {
					return false
				}
				if id, ok := n.(*ast.Ident); ok {
					found = true
					_, def := info.Defs[id]
					_, use := info.Uses[id]
					_, tv := info.Types[id]
					typed = def || use || tv
				}
				return true
			})
			if found {
				return typed
			}
		}
	}
	return true
}

// internalError describes a panic recovered from the analysis: its value
// and where in closedcheck it was raised.
func internalError(r any) string {
	where := ""
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		fr, more := frames.Next()
		if strings.Contains(fr.Function, "/analysis/closedcheck.") && !strings.HasSuffix(fr.Function, ".enter") {
			where = fmt.Sprintf(" at %s:%d", shortFile(fr.File), fr.Line)
			break
		}
		if !more {
			break
		}
	}
	return fmt.Sprintf("internal error in closedcheck (%v%s); please report it", r, where)
}

// unanalysedPkg names a package whose code has no verdicts in a message.
func (p *pkgState) unanalysedPkg(pkg *types.Package) string {
	var pf packageFact
	if p.pass.ImportPackageFact(pkg, &pf) && pf.Unanalysed != "" {
		return "a package closedcheck could not analyse (" + pf.Unanalysed + ")"
	}
	return "a package closedcheck did not analyse"
}

// whyUnanalysed says why a package's code has no verdicts.
func (p *pkgState) whyUnanalysed(pkg *types.Package) string {
	var pf packageFact
	if p.pass.ImportPackageFact(pkg, &pf) && pf.Unanalysed != "" {
		return "closedcheck could not analyse its package: " + pf.Unanalysed
	}
	return "its package was not analysed"
}
