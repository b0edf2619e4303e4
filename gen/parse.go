package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// FlowPkg is the import path of the flow package.
const FlowPkg = directive.FlowPkg

// hostKey names a host interface across packages.
type hostKey struct{ pkg, name string }

// knownHosts finds the //flowgen:host interfaces of every package loaded, so
// flows can use host interfaces of packages generated in the same run.
func knownHosts(pkgs []*packages.Package) map[hostKey]string {
	known := map[hostKey]string{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, s := range gd.Specs {
					ts := s.(*ast.TypeSpec)
					dir, ok := directive.Find(directive.TypeDoc(gd, ts), directive.VerbHost)
					if !ok {
						continue
					}
					durable := p.Name + "." + ts.Name.Name
					if v, ok := dir.Option("name"); ok {
						durable = v
					}
					known[hostKey{p.PkgPath, ts.Name.Name}] = durable
				}
			}
		}
	}
	return known
}

type parser struct {
	known map[hostKey]string
	flows map[hostKey]bool // the //flowgen:flow functions of every package loaded
	p     *packages.Package
	fset  *token.FileSet
	errs  []error
	hosts map[*types.TypeName]*HostInterface
	model *Package
}

func (ps *parser) errorf(pos token.Pos, format string, args ...any) {
	ps.errs = append(ps.errs, Problem{Pos: ps.fset.Position(pos), Msg: fmt.Sprintf(format, args...)})
}

// build reads a type-checked package into the model.
func build(p *packages.Package, known map[hostKey]string, flows map[hostKey]bool) (*Package, []error) {
	ps := &parser{p: p, fset: p.Fset, hosts: map[*types.TypeName]*HostInterface{}, known: known, flows: flows}
	m := &Package{Name: p.Name, Path: p.PkgPath, Types: p.Types}
	if len(p.GoFiles) > 0 {
		m.Dir = filepath.Dir(p.GoFiles[0])
	} else if len(p.CompiledGoFiles) > 0 {
		m.Dir = filepath.Dir(p.CompiledGoFiles[0])
	}
	m.Out = filepath.Join(m.Dir, directive.GeneratedFile)
	ps.model = m
	if p.Types == nil || p.TypesInfo == nil {
		return m, nil
	}

	type hostDecl struct {
		spec    *ast.TypeSpec
		dir     directive.Directive
		policy  []directive.Directive            // //flowgen:retry and //flowgen:timeout beside it
		methods map[string][]directive.Directive // those of its methods, by name
		h       *HostInterface
	}
	type flowDecl struct {
		decl *ast.FuncDecl
		dir  directive.Directive
	}
	var hostDecls []hostDecl
	var flowDecls []flowDecl
	for _, f := range ps.sortedFiles() {
		if directive.IsGenerated(ps.fset.Position(f.Pos()).Filename) {
			continue
		}
		used := map[token.Pos]bool{}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					dirs := ps.directives(specDoc(d, s), used)
					if len(dirs) == 0 {
						continue
					}
					ts, ok := s.(*ast.TypeSpec)
					if !ok || d.Tok != token.TYPE {
						ps.errorf(dirs[0].Pos, "%s%s must be in the doc comment of a type or function declaration", directive.Flowgen, dirs[0].Verb)
						continue
					}
					var hosts []directive.Directive
					var policy []directive.Directive
					for _, dir := range dirs {
						switch dir.Verb {
						case directive.VerbHost:
							hosts = append(hosts, dir)
						case directive.VerbRetry, directive.VerbTimeout:
							policy = append(policy, dir)
						default:
							ps.errorf(dir.Pos, "%s%s is for functions; an interface type takes %s%s", directive.Flowgen, dir.Verb, directive.Flowgen, directive.VerbHost)
						}
					}
					if len(hosts) == 0 {
						for _, dir := range policy {
							ps.errorf(dir.Pos, "%s%s goes with %s%s: put it beside that directive or on a method of a host interface", directive.Flowgen, dir.Verb, directive.Flowgen, directive.VerbHost)
						}
						continue
					}
					methods := ps.methodDirectives(ts, used)
					for _, dir := range hosts {
						hostDecls = append(hostDecls, hostDecl{spec: ts, dir: dir, policy: policy, methods: methods})
					}
				}
			case *ast.FuncDecl:
				for _, dir := range ps.directives(d.Doc, used) {
					if dir.Verb != directive.VerbFlow {
						ps.errorf(dir.Pos, "%s%s is for interface types; a function takes %s%s", directive.Flowgen, dir.Verb, directive.Flowgen, directive.VerbFlow)
						continue
					}
					flowDecls = append(flowDecls, flowDecl{d, dir})
				}
			}
		}
		ps.strayDirectives(f, used)
	}

	// Host interfaces first: methods and flows refer to them.
	for i, hd := range hostDecls {
		hostDecls[i].h = ps.hostInterface(hd.spec, hd.dir)
	}
	for _, h := range m.Hosts {
		ps.methods(h)
	}
	seen := map[string]token.Position{}
	for _, h := range m.Hosts {
		if prev, dup := seen[h.Durable]; dup {
			ps.errs = append(ps.errs, Problem{Pos: h.Pos, Msg: fmt.Sprintf("host interface durable name %q is also used at %s", h.Durable, shortPos(prev))})
		}
		seen[h.Durable] = h.Pos
	}
	flowNames := map[string]token.Position{}
	var bodies []*ast.FuncDecl
	for _, fd := range flowDecls {
		bodies = append(bodies, fd.decl)
		fl := ps.flow(fd.decl, fd.dir)
		if fl == nil {
			continue
		}
		if prev, dup := flowNames[fl.Durable]; dup {
			ps.errs = append(ps.errs, Problem{Pos: fl.Pos, Msg: fmt.Sprintf("flow durable name %q is also used at %s; give one another with %s%s name=…", fl.Durable, shortPos(prev), directive.Flowgen, directive.VerbFlow)})
			continue
		}
		flowNames[fl.Durable] = fl.Pos
		m.Flows = append(m.Flows, fl)
	}
	ps.errorVars()
	for _, hd := range hostDecls { // the retryable errors are the sentinels
		if hd.h != nil {
			ps.policies(hd.h, hd.policy, hd.methods)
		}
	}
	ps.checkCollisions()
	ps.inlineCalls(bodies)
	slices.SortStableFunc(ps.errs, func(a, b error) int {
		pa, _ := a.(Problem)
		pb, _ := b.(Problem)
		if c := strings.Compare(pa.Pos.Filename, pb.Pos.Filename); c != 0 {
			return c
		}
		if pa.Pos.Line != pb.Pos.Line {
			return pa.Pos.Line - pb.Pos.Line
		}
		return pa.Pos.Column - pb.Pos.Column
	})
	return m, ps.errs
}

// shortPos writes a position within the package: file name, line, column.
func shortPos(p token.Position) string {
	return fmt.Sprintf("%s:%d:%d", filepath.Base(p.Filename), p.Line, p.Column)
}

func (ps *parser) sortedFiles() []*ast.File {
	files := slices.Clone(ps.p.Syntax)
	slices.SortFunc(files, func(a, b *ast.File) int {
		return strings.Compare(ps.fset.Position(a.Pos()).Filename, ps.fset.Position(b.Pos()).Filename)
	})
	return files
}

func (ps *parser) hostInterface(ts *ast.TypeSpec, dir directive.Directive) *HostInterface {
	obj, ok := ps.p.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if !ok || obj == nil {
		return nil
	}
	if ts.Assign.IsValid() {
		ps.errorf(ts.Pos(), "//flowgen:host on the alias %s is not supported: mark the interface it names", ts.Name.Name)
		return nil
	}
	if ts.TypeParams != nil {
		ps.errorf(ts.Pos(), "generic interface %s is not supported: a host interface needs one fixed set of method signatures; instantiate it in a named non-generic interface", ts.Name.Name)
		return nil
	}
	named, _ := obj.Type().(*types.Named)
	iface, isIface := obj.Type().Underlying().(*types.Interface)
	if named == nil || !isIface {
		ps.errorf(ts.Pos(), "//flowgen:host on %s is not supported: it is a %s, not an interface; flows reach the host through interfaces", ts.Name.Name, kindOf(obj.Type().Underlying()))
		return nil
	}
	if !iface.IsMethodSet() {
		ps.errorf(ts.Pos(), "interface %s is not supported: it has a type set (a constraint), not only methods", ts.Name.Name)
		return nil
	}
	h := &HostInterface{Name: obj.Name(), Durable: ps.model.Name + "." + obj.Name(), Pos: ps.fset.Position(ts.Pos()), Type: named}
	if v, ok := dir.Option("name"); ok {
		h.Durable = v
	}
	ps.hosts[obj] = h
	ps.model.Hosts = append(ps.model.Hosts, h)
	return h
}

func kindOf(t types.Type) string {
	switch t.(type) {
	case *types.Struct:
		return "struct"
	case *types.Basic:
		return "basic type"
	case *types.Signature:
		return "func type"
	case *types.Map:
		return "map"
	case *types.Slice:
		return "slice"
	case *types.Chan:
		return "channel"
	}
	return "non-interface type"
}

func (ps *parser) methods(h *HostInterface) {
	iface := h.Type.Underlying().(*types.Interface)
	for i := range iface.NumMethods() {
		fn := iface.Method(i)
		sig := fn.Type().(*types.Signature)
		m := &Method{Host: h, Name: fn.Name(), Pos: ps.fset.Position(fn.Pos()), Variadic: sig.Variadic()}
		where := h.Name + "." + fn.Name()
		params := sig.Params()
		if params.Len() == 0 || !isContext(params.At(0).Type()) {
			ps.errorf(fn.Pos(), "method %s is not supported: its first parameter must be context.Context; the runtime passes each call's context, with its idempotency key", where)
			continue
		}
		m.Ctx = userName(params.At(0).Name())
		var ok bool
		m.Params, ok = ps.params(params, "of "+where)
		results := sig.Results()
		for j := range results.Len() {
			v := results.At(j)
			if isError(v.Type()) && j == results.Len()-1 {
				m.HasError = true
				continue
			}
			p, err := ps.param(v.Name(), v.Type(), fmt.Sprintf("result %d of %s", j+1, where))
			if err != nil {
				ps.errs = append(ps.errs, Problem{Pos: ps.fset.Position(v.Pos()), Msg: err.Error()})
				ok = false
				continue
			}
			m.Results = append(m.Results, p)
		}
		if ok {
			h.Methods = append(h.Methods, m)
		}
	}
}

// userName is a parameter's name as the model keeps it: "" for none or _.
func userName(name string) string {
	if name == "_" {
		return ""
	}
	return name
}

// params checks the parameters after the first (the context) and reports
// each that cannot cross.
func (ps *parser) params(params *types.Tuple, of string) ([]*Param, bool) {
	var out []*Param
	ok := true
	for j := 1; j < params.Len(); j++ {
		v := params.At(j)
		p, err := ps.param(v.Name(), v.Type(), fmt.Sprintf("parameter %s %s", nameOr(v.Name(), j), of))
		if err != nil {
			ps.errs = append(ps.errs, Problem{Pos: ps.fset.Position(v.Pos()), Msg: err.Error()})
			ok = false
			continue
		}
		out = append(out, p)
	}
	return out, ok
}

func nameOr(name string, i int) string {
	if userName(name) == "" {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}

func (ps *parser) flow(d *ast.FuncDecl, dir directive.Directive) *Flow {
	obj, ok := ps.p.TypesInfo.Defs[d.Name].(*types.Func)
	if !ok || obj == nil {
		return nil
	}
	name := d.Name.Name
	if d.Recv != nil {
		ps.errorf(d.Pos(), "//flowgen:flow on the method %s is not supported: a flow is a top-level function; move the receiver's state into parameters", name)
		return nil
	}
	if d.Type.TypeParams != nil {
		ps.errorf(d.Pos(), "generic flow %s is not supported: a flow's log must decode into one set of parameter types; write a non-generic flow that calls the generic code", name)
		return nil
	}
	sig := obj.Type().(*types.Signature)
	fl := &Flow{Name: name, Durable: ps.model.Name + "." + name, Pos: ps.fset.Position(d.Pos()), Variadic: sig.Variadic()}
	if v, ok := dir.Option("name"); ok {
		fl.Durable = v
	}
	params := sig.Params()
	if params.Len() == 0 || !isFlowType(params.At(0).Type(), "Context") {
		ps.errorf(d.Pos(), "flow %s is not supported: its first parameter must be flow.Context; the runtime passes the activation through it", name)
		return nil
	}
	fl.Params, ok = ps.flowParams(params, name)
	results := sig.Results()
	n := results.Len()
	if n > 0 && isError(results.At(n-1).Type()) {
		fl.HasError = true
		n--
	}
	switch {
	case n > 1:
		ps.errorf(d.Pos(), "flow %s is not supported: it returns %d values besides error, and an outcome is one value; return a struct", name, n)
		return nil
	case n == 1:
		p, err := ps.param("", results.At(0).Type(), "the result of flow "+name)
		if err != nil {
			ps.errs = append(ps.errs, Problem{Pos: fl.Pos, Msg: err.Error()})
			return nil
		}
		if p.Kind == KindHost {
			ps.errorf(d.Pos(), "the result of flow %s: host interface %s is not supported as an outcome: an outcome is a value anyone can read; return its key", name, p.Host.Name)
			return nil
		}
		fl.Result = p
	}
	if !ok {
		return nil
	}
	return fl
}

// errorVars collects exported package-level Err… variables of type error.
func (ps *parser) errorVars() {
	scope := ps.p.Types.Scope()
	var vars []*types.Var
	for _, name := range scope.Names() {
		v, ok := scope.Lookup(name).(*types.Var)
		if !ok || !v.Exported() || !strings.HasPrefix(name, "Err") || len(name) == 3 {
			continue
		}
		if !types.Implements(v.Type(), errorType.Underlying().(*types.Interface)) {
			continue
		}
		if directive.IsGenerated(ps.fset.Position(v.Pos()).Filename) {
			continue
		}
		vars = append(vars, v)
	}
	slices.SortFunc(vars, func(a, b *types.Var) int {
		pa, pb := ps.fset.Position(a.Pos()), ps.fset.Position(b.Pos())
		if c := strings.Compare(pa.Filename, pb.Filename); c != 0 {
			return c
		}
		return pa.Offset - pb.Offset
	})
	for _, v := range vars {
		ps.model.Errors = append(ps.model.Errors, &ErrorVar{Name: v.Name(), Code: ps.model.Name + "." + v.Name()})
	}
}

// checkCollisions reports user declarations that clash with generated names.
func (ps *parser) checkCollisions() {
	scope := ps.p.Types.Scope()
	decls := ps.model.Declares()
	slices.SortStableFunc(decls, func(a, b Declared) int { return strings.Compare(a.Name, b.Name) })
	for i, d := range decls {
		if i > 0 && decls[i-1].Name == d.Name {
			continue
		}
		obj := scope.Lookup(d.Name)
		if obj == nil || directive.IsGenerated(ps.fset.Position(obj.Pos()).Filename) {
			continue
		}
		ps.errorf(obj.Pos(), "%s is declared here, but flowgen declares it for %s; rename yours", d.Name, d.For)
	}
}
