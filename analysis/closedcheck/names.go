package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// Names of variables, packages and expressions.

// lookupVar finds a package variable by key in this package or the
// packages it imports.
func (p *pkgState) lookupVar(key string) *types.Var {
	i := len(key) - 1
	for i >= 0 && key[i] != '.' {
		i--
	}
	if i <= 0 {
		return nil
	}
	if pkg := p.packageByPath(key[:i]); pkg != nil {
		if v, ok := pkg.Scope().Lookup(key[i+1:]).(*types.Var); ok {
			return v
		}
	}
	// Not in what this package sees of the other (an unexported variable
	// missing from export data): a stand-in with its name.
	if v, ok := p.stubs[key]; ok {
		return v
	}
	path := key[:i]
	pkg := types.NewPackage(path, path[strings.LastIndex(path, "/")+1:])
	v := types.NewVar(token.NoPos, pkg, key[i+1:], types.Typ[types.Invalid])
	pkg.Scope().Insert(v)
	if p.stubs == nil {
		p.stubs = map[string]*types.Var{}
	}
	p.stubs[key] = v
	return v
}

// packageByPath finds a package among this one and those it imports,
// directly or not.
func (p *pkgState) packageByPath(path string) *types.Package {
	if p.pkgIndex == nil {
		p.pkgIndex = map[string]*types.Package{}
		var add func(*types.Package)
		add = func(pkg *types.Package) {
			if _, ok := p.pkgIndex[pkg.Path()]; ok {
				return
			}
			p.pkgIndex[pkg.Path()] = pkg
			for _, imp := range pkg.Imports() {
				add(imp)
			}
		}
		add(p.pass.Pkg)
	}
	return p.pkgIndex[path]
}

// describe names an expression for a message: x, x.f, x[…].
func describe(e ast.Expr) string {
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return describe(x.X) + "." + x.Sel.Name
	case *ast.IndexExpr:
		return describe(x.X) + "[…]"
	case *ast.StarExpr:
		return "*" + describe(x.X)
	case *ast.UnaryExpr:
		return x.Op.String() + describe(x.X)
	case *ast.CallExpr:
		return describe(x.Fun) + "(…)"
	}
	return "a value"
}
