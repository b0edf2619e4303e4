package gen

import (
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"go/types"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
)

// fuzzImports are the packages fuzzed sources may import, type-checked once.
var fuzzImports = sync.OnceValues(func() (map[string]*types.Package, error) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedTypes | packages.NeedImports | packages.NeedDeps},
		"context", "time", "errors", "io", FlowPkg, FlowPkg+"/codec", FlowPkg+"/flowimpl")
	if err != nil {
		return nil, err
	}
	out := map[string]*types.Package{}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		if p.Types != nil {
			out[p.PkgPath] = p.Types
		}
	})
	return out, nil
})

type mapImporter map[string]*types.Package

func (m mapImporter) Import(path string) (*types.Package, error) {
	if p, ok := m[path]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no package %s", path)
}

const fuzzHeader = `package p

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

var (
	_ = context.Background
	_ = errors.New
	_ io.Reader
	_ time.Duration
	_ flow.Context
)

type Rec struct {
	Name string
	N    int
}

//flowgen:host
type Base interface {
	Get(ctx context.Context, k string) (string, error)
}
`

// typeCheck parses and checks one file as package example.com/p, the way
// go/packages would, keeping partial results on errors.
func typeCheck(fset *token.FileSet, name, src string, imp types.Importer) (*packages.Package, []error) {
	f, perr := goparser.ParseFile(fset, name, src, goparser.ParseComments|goparser.SkipObjectResolution)
	if f == nil {
		return nil, []error{perr}
	}
	var errs []error
	if perr != nil {
		errs = append(errs, perr)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: imp, Error: func(err error) { errs = append(errs, err) }}
	pkg, _ := conf.Check("example.com/p", fset, []*ast.File{f}, info)
	name2 := "p"
	if f.Name != nil {
		name2 = f.Name.Name
	}
	return &packages.Package{Name: name2, PkgPath: "example.com/p", Fset: fset, Syntax: []*ast.File{f},
		Types: pkg, TypesInfo: info, GoFiles: []string{name}}, errs
}

// FuzzGenerate places directives and declarations anywhere and checks that
// the generator never panics, and that whatever it accepts produces a file
// that type-checks together with its input.
func FuzzGenerate(f *testing.F) {
	seeds := []struct {
		directive, decl string
		place           uint8
	}{
		{"//flowgen:host", "type H interface {\n\tDo(ctx context.Context, n int) (Rec, error)\n}", 0},
		{"//flowgen:flow", "func F(fc flow.Context, b Base, k string) (string, error) {\n\treturn b.Get(fc, k)\n}", 0},
		{"//flowgen:flow name=x.Y", "func F(fc flow.Context) error { return nil }", 0},
		{"//flowgen:host name=a.B", "type H interface {\n\tBase\n\tPut(ctx context.Context, r *Rec, v flow.Vow[int]) error\n}", 0},
		{"//flowgen:host", "type H struct{}", 0},
		{"//flowgen:flow", "func (Rec) M(fc flow.Context) error { return nil }", 0},
		{"//flowgen:flow", "func F[T any](fc flow.Context, t T) {}", 0},
		{"//flowgen:host", "type H interface {\n\tM(ctx context.Context, ch chan int, f func()) (io.Reader, error)\n}", 0},
		{"//flowgen:flow", "func F(fc flow.Context, xs ...Rec) (map[string][]*Rec, error) { return nil, nil }", 1},
		{"//flowgen:flows", "func F(fc flow.Context) {}", 2},
		{"//flowgen:host", "type (\n\tA interface{ M(ctx context.Context) }\n\tB int\n)", 3},
		{"// flowgen:flow", "var x = 1", 0},
		{"//flowgen:flow", "func F(fc flow.Context, b Base) (Base, error) { return b, nil }", 0},
		{"//flowgen:host", "type H interface {\n\tM(context.Context, time.Time, time.Duration, [4]byte, map[int]bool) (a, b int, err error)\n}", 0},
		// Users' names the generator would like for itself, or that hide
		// imports and types.
		{"//flowgen:host", "type H interface {\n\tM(ctx2 context.Context, e, d string, codec int, flow bool, time time.Time, string string, Rec Rec, p []byte) (Rec, error)\n}", 0},
		{"//flowgen:flow", "func F(fc flow.Context, b Base, e, d, res, ctx, id, h, args, r string, errors int) (string, error) {\n\treturn b.Get(fc, e)\n}", 0},
	}
	for _, s := range seeds {
		f.Add(s.directive, s.decl, s.place)
	}
	imports, err := fuzzImports()
	if err != nil {
		f.Fatal(err)
	}
	imp := mapImporter(imports)
	f.Fuzz(func(t *testing.T, directive, decl string, place uint8) {
		var src string
		switch place % 5 {
		case 0: // doc comment
			src = fuzzHeader + "\n" + directive + "\n" + decl + "\n"
		case 1: // doc comment after a blank comment line
			src = fuzzHeader + "\n// Doc.\n//\n" + directive + "\n" + decl + "\n"
		case 2: // floating
			src = fuzzHeader + "\n" + directive + "\n\n" + decl + "\n"
		case 3: // twice
			src = fuzzHeader + "\n" + directive + "\n" + directive + "\n" + decl + "\n"
		default: // inside a function body
			src = fuzzHeader + "\nfunc g() {\n" + directive + "\n}\n" + decl + "\n"
		}
		fset := token.NewFileSet()
		p, typeErrs := typeCheck(fset, "/fuzz/p.go", src, imp)
		if p == nil {
			return
		}
		m, problems := build(p, knownHosts([]*packages.Package{p}), knownFlows([]*packages.Package{p}))
		if len(typeErrs) > 0 || len(problems) > 0 || len(m.Hosts)+len(m.Flows) == 0 {
			for _, e := range problems {
				if !strings.Contains(e.Error(), "flowgen: ") {
					t.Fatalf("problem without the flowgen prefix: %v", e)
				}
			}
			return
		}
		out, err := emit(m)
		if err != nil {
			t.Fatalf("emit: %v\ninput:\n%s", err, src)
		}
		// The generated file and the input type-check together.
		fset2 := token.NewFileSet()
		f1, err := goparser.ParseFile(fset2, "p.go", src, goparser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		f2, err := goparser.ParseFile(fset2, OutputName, out, goparser.ParseComments)
		if err != nil {
			t.Fatalf("generated code does not parse: %v\n%s", err, out)
		}
		var errs []string
		conf := types.Config{Importer: imp, Error: func(err error) { errs = append(errs, err.Error()) }}
		_, _ = conf.Check("example.com/p", fset2, []*ast.File{f1, f2}, nil)
		if len(errs) > 0 {
			t.Fatalf("generated code does not type-check: %s\ninput:\n%s\noutput:\n%s", strings.Join(errs, "\n"), src, out)
		}
	})
}
