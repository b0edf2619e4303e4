package closedcheck

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
)

// Console output is not an effect: it leaves the process and the flow never
// reads it back. A logger that writes into a buffer the flow keeps is
// different: with a timestamp in each line (log.LstdFlags, slog's handlers
// by default), that text differs between incarnations.

// Flags of package log that put the wall clock in each line.
const logTimeFlags = 1 | 2 | 4 // Ldate | Ltime | Lmicroseconds

// stdChecks judges calls of the standard library that are allowed, but not
// in every use.
func (w *walker) stdChecks(call *ast.CallExpr, fn *types.Func, full string) {
	args := call.Args
	switch full {
	case "log.New":
		if len(args) == 3 && w.timeFlags(args[2]) && w.kept(args[0]) {
			w.problem(funPos(call), "log.New", "writes wall-clock timestamps into "+describe(args[0])+", which stays in the process: text the flow keeps is not console output; use flags 0, or log to os.Stderr", KindClock)
		}
	case "(*log.Logger).SetFlags":
		if nc := w.logNew(call.Fun); nc != nil && len(args) == 1 && w.timeFlags(args[0]) && w.kept(nc.Args[0]) {
			w.problem(funPos(call), "(*log.Logger).SetFlags", "puts wall-clock timestamps into "+describe(nc.Args[0])+", which stays in the process: text the flow keeps is not console output", KindClock)
		}
	case "(*log.Logger).SetOutput":
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			if c, ok := ast.Unparen(sel.X).(*ast.CallExpr); ok {
				if f := w.p.staticCallee(c); f != nil && f.FullName() == "log.Default" {
					w.problem(funPos(call), "(*log.Logger).SetOutput", "changes the host's global logger", KindLog)
					return
				}
			}
		}
		if nc := w.logNew(call.Fun); nc != nil && len(args) == 1 && len(nc.Args) == 3 && w.timeFlags(nc.Args[2]) && w.kept(args[0]) {
			w.problem(funPos(call), "(*log.Logger).SetOutput", "sends wall-clock timestamps into "+describe(args[0])+", which stays in the process: text the flow keeps is not console output", KindClock)
		}
	case "log/slog.NewTextHandler", "log/slog.NewJSONHandler":
		if len(args) == 2 && w.kept(args[0]) && !w.dropsTime(args[1]) {
			w.problem(funPos(call), stdName(fn), "writes wall-clock timestamps into "+describe(args[0])+", which stays in the process: text the flow keeps is not console output; drop slog.TimeKey in HandlerOptions.ReplaceAttr, or log to os.Stderr", KindClock)
		}
	}
}

// timeFlags reports whether log flags can hold a timestamp.
func (w *walker) timeFlags(e ast.Expr) bool {
	tv, ok := w.p.pass.TypesInfo.Types[e]
	if !ok || tv.Value == nil {
		return true
	}
	n, ok := constant.Int64Val(constant.ToInt(tv.Value))
	return !ok || n&logTimeFlags != 0
}

// logNew finds the log.New call that made the logger a method is called on.
func (w *walker) logNew(fun ast.Expr) *ast.CallExpr {
	sel, ok := ast.Unparen(fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	e := ast.Unparen(sel.X)
	for range 4 {
		if v := w.localVar(e); v != nil {
			if once := w.fi.assignedOnce(v); once != nil {
				e = ast.Unparen(once)
				continue
			}
			return nil
		}
		break
	}
	if c, ok := e.(*ast.CallExpr); ok {
		if f := w.p.staticCallee(c); f != nil && f.FullName() == "log.New" && len(c.Args) == 3 {
			return c
		}
	}
	return nil
}

// kept reports whether a writer holds what is written in the process: a
// buffer, a builder, a value of a type of its own, made here. Console
// writers (os.Stdout, os.Stderr, io.Discard, log.Writer()) and writers that
// cannot be traced are not.
func (w *walker) kept(e ast.Expr) bool {
	info := w.p.pass.TypesInfo
	for range 4 {
		e = ast.Unparen(e)
		if w.console(e) {
			return false
		}
		switch x := e.(type) {
		case *ast.UnaryExpr:
			if x.Op != token.AND {
				return false
			}
			switch y := ast.Unparen(x.X).(type) {
			case *ast.CompositeLit:
				return true
			case *ast.SelectorExpr: // &s.buf
				return isStruct(w.typeOf(y))
			}
			v := w.localVar(x.X)
			return v != nil && isStruct(v.Type())
		case *ast.CallExpr:
			if b, ok := info.Uses[identOf(x.Fun)].(*types.Builtin); ok && b.Name() == "new" {
				return true
			}
			return false
		case *ast.Ident:
			v := w.localVar(x)
			if v == nil || v.Parent() == v.Pkg().Scope() {
				return false
			}
			once := w.fi.assignedOnce(v)
			if once == nil {
				return false
			}
			e = once
			continue
		}
		return false
	}
	return false
}

func isStruct(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := t.Underlying().(*types.Struct)
	return ok && types.TypeString(t, nil) != "os.File"
}

func (w *walker) console(e ast.Expr) bool {
	info := w.p.pass.TypesInfo
	switch x := ast.Unparen(e).(type) {
	case *ast.SelectorExpr:
		if v, ok := info.Uses[x.Sel].(*types.Var); ok && v.Pkg() != nil {
			switch v.Pkg().Path() + "." + v.Name() {
			case "os.Stdout", "os.Stderr", "io.Discard":
				return true
			}
		}
	case *ast.CallExpr:
		if fn := w.p.staticCallee(x); fn != nil && (fn.FullName() == "log.Writer" || fn.FullName() == "(*log.Logger).Writer") {
			return true
		}
	}
	return false
}

// dropsTime reports whether slog handler options may remove the time
// attribute: a ReplaceAttr is set (or the options cannot be traced).
func (w *walker) dropsTime(e ast.Expr) bool {
	e = ast.Unparen(e)
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return false
	}
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = ast.Unparen(u.X)
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return true
	}
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "ReplaceAttr" {
				return true
			}
		}
	}
	return false
}
