package gen

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// knownFlows finds the //flowgen:flow functions of every package loaded, so
// that a flow calling another directly can be pointed to its Child form.
func knownFlows(pkgs []*packages.Package) map[hostKey]bool {
	known := map[hostKey]bool{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
					if _, ok := directive.Find(fd.Doc, directive.VerbFlow); ok {
						known[hostKey{p.PkgPath, fd.Name.Name}] = true
					}
				}
			}
		}
	}
	return known
}

// inlineCalls notes every call, in a flow's body, of another flow's
// function: it is allowed — the callee runs inline, as part of the caller,
// in the caller's log — but a flow that means to start the other as an
// activation of its own calls its Child function.
func (ps *parser) inlineCalls(bodies []*ast.FuncDecl) {
	for _, d := range bodies {
		if d.Body == nil {
			continue
		}
		ast.Inspect(d.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := typeutil.Callee(ps.p.TypesInfo, call).(*types.Func)
			if !ok || fn.Pkg() == nil || !ps.isFlow(fn) {
				return true
			}
			child := "Child" + fn.Name()
			if fn.Pkg() != ps.p.Types {
				child = fn.Pkg().Name() + "." + child
			}
			ps.model.Notes = append(ps.model.Notes, Problem{Pos: ps.fset.Position(call.Pos()),
				Msg: "note: flow " + d.Name.Name + " calls the flow " + fn.Name() + " directly, which runs it inline, in " + d.Name.Name +
					"'s log, not as an activation of its own; to start it as a child, call " + child + "(fc, …) and await its outcome"})
			return true
		})
	}
}

// isFlow reports whether fn is a //flowgen:flow function: of a package
// loaded in this run, or of one whose generated file declares its Child
// function.
func (ps *parser) isFlow(fn *types.Func) bool {
	if sig, ok := fn.Type().(*types.Signature); !ok || sig.Recv() != nil {
		return false
	}
	if ps.flows[hostKey{fn.Pkg().Path(), fn.Name()}] {
		return true
	}
	child, ok := fn.Pkg().Scope().Lookup("Child" + fn.Name()).(*types.Func)
	if !ok {
		return false
	}
	sig := child.Type().(*types.Signature)
	return sig.Params().Len() > 0 && isFlowType(sig.Params().At(0).Type(), "Context") &&
		sig.Results().Len() == 1 && isFlowType(sig.Results().At(0).Type(), "Vow")
}
