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
)

// reportFlow reports a flow that is not closed: a summary at its
// declaration, and each cause at its line in this package (a cause in
// another package at the call that leads to it).
func (p *pkgState) reportFlow(fd *ast.FuncDecl) {
	fn, ok := p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
	if !ok {
		return
	}
	fi := p.funcs[fn]
	if fi == nil || len(fi.v.reasons) == 0 {
		return
	}
	type pending struct {
		s   *site
		msg string
		key string
	}
	var sites []pending
	causes := map[string]bool{}
	type part struct {
		f     *fnInfo
		lit   *ast.FuncLit
		outer bool
	}
	visited := map[part]bool{}
	var visit func(f *fnInfo, chain []string, lit *ast.FuncLit, outer bool)
	visit = func(f *fnInfo, chain []string, lit *ast.FuncLit, outer bool) {
		if visited[part{f, lit, outer}] || visited[part{f, nil, false}] {
			return
		}
		visited[part{f, lit, outer}] = true
		chain = append(slices.Clone(chain), f.name)
		for _, s := range f.sites {
			if outer && !f.outer(s) || lit != nil && (s.lit == nil || s.lit.Pos() < lit.Pos() || s.lit.End() > lit.End()) {
				continue
			}
			for _, r := range s.results {
				switch {
				case r.problem != nil:
					causes[r.problem.key()] = true
					full := p.local(append(slices.Clone(chain), r.problem.Chain...))
					sites = append(sites, pending{s, fmt.Sprintf("%s: %s (flow %s: %s)", r.problem.Chain[0], r.problem.What, fd.Name.Name, strings.Join(full, " → ")), r.problem.key()})
				case r.local != nil:
					visit(r.local, chain, r.lit, r.outerOnly)
				case r.foreign != nil:
					causes[r.foreign.key()] = true
					full := p.local(append(slices.Clone(chain), r.foreign.Chain...))
					sites = append(sites, pending{s, fmt.Sprintf("%s is not closed: %s: %s, at %s (flow %s: %s)", r.subject, strings.Join(p.local(r.foreign.Chain), " → "), r.foreign.What, r.foreign.Pos, fd.Name.Name, strings.Join(full, " → ")), r.foreign.key()})
				case r.via != nil:
					sites = append(sites, pending{s, fmt.Sprintf("%s: is called through an interface whose value cannot be traced, and its implementation %s is not closed: %s: %s, at %s (flow %s)", r.subject, r.viaImpl, strings.Join(p.local(r.via.Chain), " → "), r.via.What, r.via.Pos, fd.Name.Name), "via " + r.viaImpl})
				}
			}
		}
	}
	visit(fi, nil, nil, false)
	first := fi.v.reasons[0]
	msg := fmt.Sprintf("flow %s is not closed: %s: %s, at %s", fd.Name.Name, strings.Join(p.local(first.Chain), " → "), first.What, first.Pos)
	if n := max(len(causes), len(fi.v.reasons)); n > 1 {
		msg += fmt.Sprintf(" (and %d more)", n-1)
	}
	p.pass.Report(analysis.Diagnostic{Pos: fd.Name.Pos(), Message: msg, Category: first.Kind.String()})
	for _, ps := range sites {
		p.report(ps.s, ps.msg, ps.key)
	}
}

type reportKey struct {
	pos   token.Pos
	cause string
}

// report reports a cause at a site once (a site reached by two flows is
// reported for the first).
func (p *pkgState) report(s *site, msg, cause string) {
	k := reportKey{s.pos, cause}
	if p.reported[k] {
		return
	}
	p.reported[k] = true
	d := analysis.Diagnostic{Pos: s.pos, Message: msg, Category: s.kind.String()}
	if s.fix != nil {
		d.SuggestedFixes = []analysis.SuggestedFix{*s.fix}
	}
	p.pass.Report(d)
}

// funcName names a function in a chain, qualified by its package's name
// (facts carry it to other packages); local reports drop this package's.
func (p *pkgState) funcName(fn *types.Func) string { return funcName(fn) }

func funcName(fn *types.Func) string {
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
