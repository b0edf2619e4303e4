package closedcheck

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/token"
	"go/types"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// staticCallee returns the function a call statically calls (its generic
// origin), if any: not an interface method, not a function value.
func (p *pkgState) staticCallee(call *ast.CallExpr) *types.Func {
	if fn := typeutil.StaticCallee(p.pass.TypesInfo, call); fn != nil {
		return fn.Origin()
	}
	return nil
}

// flowContextName returns the name of a flow.Context in scope at the
// current position: a parameter of the enclosing function or literals.
func (w *walker) flowContextName() string {
	check := func(ft *ast.FuncType) string {
		for _, f := range ft.Params.List {
			t := w.typeOf(f.Type)
			if t == nil {
				continue
			}
			if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == directive.FlowPkg && n.Obj().Name() == "Context" {
				for _, name := range f.Names {
					if name.Name != "_" {
						return name.Name
					}
				}
			}
		}
		return ""
	}
	for i := len(w.stack) - 1; i >= 0; i-- {
		if lit, ok := w.stack[i].(*ast.FuncLit); ok {
			if n := check(lit.Type); n != "" {
				return n
			}
		}
	}
	if w.fi.decl == nil {
		return "" // a package variable's initializer
	}
	return check(w.fi.decl.Type)
}

// flowImportName returns the name the flow package is imported under in the
// file holding pos, and whether it is imported at all.
func (w *walker) flowImportName(pos token.Pos) (string, bool) {
	f := w.file(pos)
	if f == nil {
		return "", false
	}
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == directive.FlowPkg {
			if imp.Name != nil {
				return imp.Name.Name, true
			}
			return "flow", true
		}
	}
	return "flow", false
}

func (w *walker) file(pos token.Pos) *ast.File {
	for _, f := range w.p.pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}

// fixFor offers the mechanical rewrites: time.Now() → flow.Now(fc) and
// time.Sleep(d) → flow.Sleep(fc, d), when a flow.Context is in scope.
func (w *walker) fixFor(call *ast.CallExpr, full string) *analysis.SuggestedFix {
	var fn string
	switch full {
	case "time.Now":
		fn = "Now"
	case "time.Sleep":
		fn = "Sleep"
	default:
		return nil
	}
	fc := w.flowContextName()
	if fc == "" {
		return nil
	}
	flowName, imported := w.flowImportName(call.Pos())
	if !imported {
		return nil
	}
	args := fc
	for _, a := range call.Args {
		args += ", " + w.source(a)
	}
	return &analysis.SuggestedFix{
		Message:   "use " + flowName + "." + fn,
		TextEdits: []analysis.TextEdit{{Pos: call.Pos(), End: call.End(), NewText: []byte(flowName + "." + fn + "(" + args + ")")}},
	}
}

func (w *walker) source(e ast.Expr) string {
	var buf bytes.Buffer
	if err := format.Node(&buf, w.p.pass.Fset, e); err != nil {
		return ""
	}
	return buf.String()
}

// sortedRangeFix rewrites a range over a map with ordered keys into a range
// over its sorted keys.
func (w *walker) sortedRangeFix(r *ast.RangeStmt) *analysis.SuggestedFix {
	if r.Tok != token.DEFINE || r.Key == nil {
		return nil
	}
	m, ok := w.typeOf(r.X).Underlying().(*types.Map)
	if !ok || !ordered(m.Key()) {
		return nil
	}
	switch ast.Unparen(r.X).(type) {
	case *ast.Ident, *ast.SelectorExpr:
	default:
		return nil // evaluating it twice could differ
	}
	key, ok := r.Key.(*ast.Ident)
	if !ok || key.Name == "_" {
		return nil
	}
	mapSrc := w.source(r.X)
	edits := []analysis.TextEdit{{Pos: r.Key.Pos(), End: r.X.End(),
		NewText: []byte("_, " + key.Name + " := range slices.Sorted(maps.Keys(" + mapSrc + "))")}}
	if val, ok := r.Value.(*ast.Ident); ok && val.Name != "_" {
		// The value is read first thing in the body: on the line after the
		// brace, so that a comment after the brace stays on the for line.
		decl := val.Name + " := " + mapSrc + "[" + key.Name + "]"
		at, text := r.Body.Lbrace+1, "\n"+decl
		tf := w.p.pass.Fset.File(r.Body.Lbrace)
		if line := tf.Line(r.Body.Lbrace); line < tf.LineCount() && tf.Line(r.Body.Rbrace) > line {
			at, text = tf.LineStart(line+1), decl+"\n"
		}
		edits = append(edits, analysis.TextEdit{Pos: at, End: at, NewText: []byte(text)})
	}
	edits = append(edits, w.importEdits(r.Pos(), "maps", "slices")...)
	return &analysis.SuggestedFix{Message: "range over sorted keys", TextEdits: edits}
}

func ordered(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsOrdered != 0
}

// importEdits adds imports the file lacks.
func (w *walker) importEdits(pos token.Pos, paths ...string) []analysis.TextEdit {
	f := w.file(pos)
	if f == nil {
		return nil
	}
	have := map[string]bool{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		have[p] = true
	}
	var text []byte
	for _, p := range paths {
		if !have[p] {
			text = append(text, []byte("\t"+strconv.Quote(p)+"\n")...)
		}
	}
	if len(text) == 0 {
		return nil
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		if gd.Lparen.IsValid() {
			return []analysis.TextEdit{{Pos: gd.Lparen + 1, End: gd.Lparen + 1, NewText: append([]byte("\n"), bytes.TrimSuffix(text, []byte("\n"))...)}}
		}
		return []analysis.TextEdit{{Pos: gd.End(), End: gd.End(), NewText: append([]byte("\nimport (\n"), append(text, ')')...)}}
	}
	return []analysis.TextEdit{{Pos: f.Name.End(), End: f.Name.End(), NewText: append([]byte("\n\nimport (\n"), append(text, ')')...)}}
}
