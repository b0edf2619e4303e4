package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// FlowPkg is the import path of the flow package.
const FlowPkg = "github.com/asyncflow-go/asyncflow/flow"

// directive is one //flowgen: comment.
type directive struct {
	verb string
	opts map[string]string
	pos  token.Pos
}

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
					doc := specDoc(gd, s)
					if doc == nil {
						continue
					}
					for _, c := range doc.List {
						fields := strings.Fields(strings.TrimPrefix(c.Text, "//flowgen:"))
						if !strings.HasPrefix(c.Text, "//flowgen:") || len(fields) == 0 || fields[0] != "host" {
							continue
						}
						durable := p.Name + "." + ts.Name.Name
						for _, o := range fields[1:] {
							if v, ok := strings.CutPrefix(o, "name="); ok {
								durable = v
							}
						}
						known[hostKey{p.PkgPath, ts.Name.Name}] = durable
					}
				}
			}
		}
	}
	return known
}

type parser struct {
	known map[hostKey]string
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
func build(p *packages.Package, known map[hostKey]string) (*Package, []error) {
	ps := &parser{p: p, fset: p.Fset, hosts: map[*types.TypeName]*HostInterface{}, known: known}
	m := &Package{Name: p.Name, Path: p.PkgPath, Types: p.Types}
	if len(p.GoFiles) > 0 {
		m.Dir = filepath.Dir(p.GoFiles[0])
	} else if len(p.CompiledGoFiles) > 0 {
		m.Dir = filepath.Dir(p.CompiledGoFiles[0])
	}
	m.Out = filepath.Join(m.Dir, OutputName)
	ps.model = m
	if p.Types == nil || p.TypesInfo == nil {
		return m, nil
	}

	type flowDecl struct {
		decl *ast.FuncDecl
		dir  directive
	}
	var hostSpecs []*ast.TypeSpec
	hostDirs := map[*ast.TypeSpec]directive{}
	var flows []flowDecl
	for _, f := range ps.sortedFiles() {
		if filepath.Base(ps.fset.Position(f.Pos()).Filename) == OutputName {
			continue
		}
		used := map[*ast.Comment]bool{}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					doc := specDoc(d, s)
					dirs := ps.directives(doc, used)
					if len(dirs) == 0 {
						continue
					}
					ts, ok := s.(*ast.TypeSpec)
					if !ok || d.Tok != token.TYPE {
						ps.errorf(dirs[0].pos, "//flowgen:%s must be in the doc comment of a type or function declaration", dirs[0].verb)
						continue
					}
					for _, dir := range dirs {
						if dir.verb != "host" {
							ps.errorf(dir.pos, "//flowgen:%s is for functions; an interface type takes //flowgen:host", dir.verb)
							continue
						}
						hostSpecs = append(hostSpecs, ts)
						hostDirs[ts] = dir
					}
				}
			case *ast.FuncDecl:
				for _, dir := range ps.directives(d.Doc, used) {
					if dir.verb != "flow" {
						ps.errorf(dir.pos, "//flowgen:%s is for interface types; a function takes //flowgen:flow", dir.verb)
						continue
					}
					flows = append(flows, flowDecl{d, dir})
				}
			}
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if used[c] {
					continue
				}
				if strings.HasPrefix(c.Text, "//flowgen:") {
					ps.errorf(c.Pos(), "%s is not in the doc comment of a declaration; put it right above the type or function it marks", firstWord(c.Text))
				} else if looksLikeDirective(c.Text) {
					ps.errorf(c.Pos(), "%q is not a directive: write //flowgen:%s with no space after //", c.Text, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(c.Text, "//")), "flowgen:")))
				}
			}
		}
	}

	// Host interfaces first: methods and flows refer to them.
	for _, ts := range hostSpecs {
		ps.hostInterface(ts, hostDirs[ts])
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
	for _, fd := range flows {
		fl := ps.flow(fd.decl, fd.dir)
		if fl == nil {
			continue
		}
		if prev, dup := flowNames[fl.Durable]; dup {
			ps.errs = append(ps.errs, Problem{Pos: fl.Pos, Msg: fmt.Sprintf("flow durable name %q is also used at %s; give one another with //flowgen:flow name=…", fl.Durable, shortPos(prev))})
			continue
		}
		flowNames[fl.Durable] = fl.Pos
		m.Flows = append(m.Flows, fl)
	}
	ps.errorVars()
	ps.checkCollisions()
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

func specDoc(d *ast.GenDecl, s ast.Spec) *ast.CommentGroup {
	if ts, ok := s.(*ast.TypeSpec); ok && ts.Doc != nil {
		return ts.Doc
	}
	if vs, ok := s.(*ast.ValueSpec); ok && vs.Doc != nil {
		return vs.Doc
	}
	if !d.Lparen.IsValid() {
		return d.Doc
	}
	return nil
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

func looksLikeDirective(text string) bool {
	t := strings.TrimPrefix(text, "//")
	if t == text || !strings.HasPrefix(t, " ") && !strings.HasPrefix(t, "\t") {
		return false
	}
	t = strings.TrimSpace(t)
	return strings.HasPrefix(t, "flowgen:host") || strings.HasPrefix(t, "flowgen:flow")
}

// directives parses the //flowgen: lines of a doc comment.
func (ps *parser) directives(doc *ast.CommentGroup, used map[*ast.Comment]bool) []directive {
	if doc == nil {
		return nil
	}
	var out []directive
	for _, c := range doc.List {
		if !strings.HasPrefix(c.Text, "//flowgen:") {
			continue
		}
		used[c] = true
		fields := strings.Fields(strings.TrimPrefix(c.Text, "//flowgen:"))
		if len(fields) == 0 {
			ps.errorf(c.Pos(), "empty directive //flowgen:; use //flowgen:flow or //flowgen:host")
			continue
		}
		d := directive{verb: fields[0], opts: map[string]string{}, pos: c.Pos()}
		if d.verb != "flow" && d.verb != "host" {
			ps.errorf(c.Pos(), "unknown directive //flowgen:%s; use //flowgen:flow or //flowgen:host", d.verb)
			continue
		}
		ok := true
		for _, f := range fields[1:] {
			k, v, found := strings.Cut(f, "=")
			if !found || k != "name" || v == "" {
				ps.errorf(c.Pos(), "unknown option %q in //flowgen:%s; the only option is name=<durable name>", f, d.verb)
				ok = false
				continue
			}
			if !validDurable(v) {
				ps.errorf(c.Pos(), "durable name %q: use letters, digits, '.', '_', '-' and '/'", v)
				ok = false
				continue
			}
			d.opts[k] = v
		}
		if ok {
			out = append(out, d)
		}
	}
	return out
}

func validDurable(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-', r == '/':
		default:
			return false
		}
	}
	return s != ""
}

func (ps *parser) hostInterface(ts *ast.TypeSpec, dir directive) {
	obj, ok := ps.p.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if !ok || obj == nil {
		return
	}
	if ts.Assign.IsValid() {
		ps.errorf(ts.Pos(), "//flowgen:host on the alias %s is not supported: mark the interface it names", ts.Name.Name)
		return
	}
	if ts.TypeParams != nil {
		ps.errorf(ts.Pos(), "generic interface %s is not supported: a host interface needs one fixed set of method signatures; instantiate it in a named non-generic interface", ts.Name.Name)
		return
	}
	named, _ := obj.Type().(*types.Named)
	iface, isIface := obj.Type().Underlying().(*types.Interface)
	if named == nil || !isIface {
		ps.errorf(ts.Pos(), "//flowgen:host on %s is not supported: it is a %s, not an interface; flows reach the host through interfaces", ts.Name.Name, kindOf(obj.Type().Underlying()))
		return
	}
	if !iface.IsMethodSet() {
		ps.errorf(ts.Pos(), "interface %s is not supported: it has a type set (a constraint), not only methods", ts.Name.Name)
		return
	}
	h := &HostInterface{Name: obj.Name(), Durable: ps.model.Name + "." + obj.Name(), Pos: ps.fset.Position(ts.Pos()), Type: named}
	if v, ok := dir.opts["name"]; ok {
		h.Durable = v
	}
	ps.hosts[obj] = h
	ps.model.Hosts = append(ps.model.Hosts, h)
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
		m := &Method{Name: fn.Name(), Pos: ps.fset.Position(fn.Pos()), Variadic: sig.Variadic()}
		where := h.Name + "." + fn.Name()
		params := sig.Params()
		if params.Len() == 0 || !isContext(params.At(0).Type()) {
			ps.errorf(fn.Pos(), "method %s is not supported: its first parameter must be context.Context; the runtime passes each call's context, with its idempotency key", where)
			continue
		}
		var ok bool
		m.Params, ok = ps.params(params, "of "+where)
		results := sig.Results()
		for j := range results.Len() {
			v := results.At(j)
			if isError(v.Type()) && j == results.Len()-1 {
				m.HasError = true
				continue
			}
			p, err := ps.param(v.Name(), v.Type(), fmt.Sprintf("result %d of %s", j+1, where), true)
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

// params checks the parameters after the first (the context) and reports
// each that cannot cross.
func (ps *parser) params(params *types.Tuple, of string) ([]*Param, bool) {
	var out []*Param
	ok := true
	for j := 1; j < params.Len(); j++ {
		v := params.At(j)
		p, err := ps.param(v.Name(), v.Type(), fmt.Sprintf("parameter %s %s", nameOr(v.Name(), j), of), false)
		if err != nil {
			ps.errs = append(ps.errs, Problem{Pos: ps.fset.Position(v.Pos()), Msg: err.Error()})
			ok = false
			continue
		}
		if p.Name == "" || p.Name == "_" {
			p.Name = fmt.Sprintf("a%d", j-1)
		}
		out = append(out, p)
	}
	return out, ok
}

func nameOr(name string, i int) string {
	if name == "" || name == "_" {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}

func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

func isFlowType(t types.Type, name string) bool { return isNamed(t, FlowPkg, name) }

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

var errorType = types.Universe.Lookup("error").Type()

func isError(t types.Type) bool { return types.Identical(t, errorType) }

// param checks that a value of type t can cross the membrane.
func (ps *parser) param(name string, t types.Type, what string, result bool) (*Param, error) {
	p := &Param{Name: name, Type: t}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if h, ok := ps.hosts[n.Obj()]; ok {
			p.Kind, p.Host = KindHost, h
			return p, nil
		}
		if h := ps.foreignHost(n); h != nil {
			p.Kind, p.Host = KindHost, h
			return p, nil
		}
	}
	if why, fix := ps.supported(t, map[types.Type]bool{}); why != "" {
		return nil, fmt.Errorf("%s: %s is not supported: %s; %s", what, ps.typeString(t), why, fix)
	}
	return p, nil
}

// typeString writes a type the way its user's code would: other packages by
// their names.
func (ps *parser) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == ps.p.Types {
			return ""
		}
		return p.Name()
	})
}

// foreignHost recognises a host interface of another package by the
// <Name>Host variable flowgen declared for it there.
func (ps *parser) foreignHost(n *types.Named) *HostInterface {
	obj := n.Obj()
	if obj.Pkg() == nil || obj.Pkg() == ps.p.Types {
		return nil
	}
	if h, ok := ps.hosts[obj]; ok {
		return h
	}
	if durable, ok := ps.known[hostKey{obj.Pkg().Path(), obj.Name()}]; ok {
		h := &HostInterface{Name: obj.Name(), Durable: durable, Type: n, PkgPath: obj.Pkg().Path()}
		ps.hosts[obj] = h
		return h
	}
	v, ok := obj.Pkg().Scope().Lookup(obj.Name() + "Host").(*types.Var)
	if !ok || !isNamed(v.Type(), FlowPkg+"/flowimpl", "HostInterface") {
		return nil
	}
	args := types.Unalias(v.Type()).(*types.Named).TypeArgs()
	if args.Len() != 1 || !types.Identical(args.At(0), n) {
		return nil
	}
	h := &HostInterface{Name: obj.Name(), Type: n, PkgPath: obj.Pkg().Path()}
	ps.hosts[obj] = h
	return h
}

// supported returns why t cannot cross, and how to fix it, or "" if it can.
func (ps *parser) supported(t types.Type, seen map[types.Type]bool) (why, fix string) {
	if seen[t] {
		return "", ""
	}
	seen[t] = true
	switch {
	case isFlowType(t, "Future"):
		return "a flow.Future belongs to the activation that made it", "await it and pass the value"
	case isFlowType(t, "Context"):
		return "a flow.Context cannot cross the membrane", "pass the values it would carry"
	case isFlowType(t, "Vow"):
		return ps.supported(types.Unalias(t).(*types.Named).TypeArgs().At(0), seen)
	case isFlowType(t, "Ref"), isError(t):
		return "", ""
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		if n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && (n.Obj().Name() == "Time" || n.Obj().Name() == "Duration") {
			return "", ""
		}
		if _, ok := ps.hosts[n.Obj()]; ok {
			return "host interfaces cross only as parameters and results themselves, not inside other values", "pass it as a separate parameter"
		}
		if hasMethods(n, "MarshalFlow") && hasMethods(types.NewPointer(n), "UnmarshalFlow") {
			return "", ""
		}
		if hasMethods(n, "MarshalText") && hasMethods(types.NewPointer(n), "UnmarshalText") {
			return "", ""
		}
		if n.TypeParams().Len() > 0 && n.TypeArgs().Len() == 0 {
			return "uninstantiated generic types have no encoding", "instantiate it"
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			return "complex numbers have no durable form", "use two float64 fields"
		case u.Kind() == types.UnsafePointer:
			return "unsafe pointers have no durable form", "pass the data they point to"
		case u.Kind() == types.Uintptr:
			return "a uintptr is an address, meaningless in another process", "pass a uint64"
		case u.Kind() == types.UntypedNil:
			return "nil has no type", "use a typed value"
		}
		return "", ""
	case *types.Pointer:
		return ps.supported(u.Elem(), seen)
	case *types.Slice:
		return ps.supported(u.Elem(), seen)
	case *types.Array:
		return ps.supported(u.Elem(), seen)
	case *types.Map:
		if why, fix := ps.supported(u.Key(), seen); why != "" {
			return why, fix
		}
		return ps.supported(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			tag := reflect.StructTag(u.Tag(i))
			if v, ok := tag.Lookup("flow"); ok && strings.Split(v, ",")[0] == "-" {
				continue
			}
			if f.Name() == "_" {
				continue
			}
			if !f.Exported() {
				return fmt.Sprintf("field %s of %s is unexported, and values cross by copy through exported fields only", f.Name(), ps.typeString(t)),
					"export it, or tag it `flow:\"-\"` to leave it out"
			}
			if why, fix := ps.supported(f.Type(), seen); why != "" {
				return fmt.Sprintf("field %s: %s", f.Name(), why), fix
			}
		}
		return "", ""
	case *types.Interface:
		if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg() != ps.p.Types {
			return "interfaces other than //flowgen:host interfaces and error cannot cross, and " + n.Obj().Pkg().Name() + "." + n.Obj().Name() + " has no generated " + n.Obj().Name() + "Host",
				"if it is a //flowgen:host interface, run flowgen in its package first"
		}
		return "interfaces other than //flowgen:host interfaces and error cannot cross: the other side would not know the concrete type", "use a concrete type, or mark the interface //flowgen:host"
	case *types.Chan:
		return "channels are not durable and cannot cross the membrane", "return a flow.Vow and settle it instead"
	case *types.Signature:
		return "functions cannot cross the membrane", "make it a method of a //flowgen:host interface"
	case *types.TypeParam:
		return "type parameters have no fixed encoding", "use a concrete type"
	}
	return "it has no encoding", "use a supported type"
}

func hasMethods(t types.Type, names ...string) bool {
	ms := types.NewMethodSet(t)
	for _, n := range names {
		if ms.Lookup(nil, n) == nil {
			return false
		}
	}
	return true
}

func (ps *parser) flow(d *ast.FuncDecl, dir directive) *Flow {
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
	if v, ok := dir.opts["name"]; ok {
		fl.Durable = v
	}
	params := sig.Params()
	if params.Len() == 0 || !isFlowType(params.At(0).Type(), "Context") {
		ps.errorf(d.Pos(), "flow %s is not supported: its first parameter must be flow.Context; the runtime passes the activation through it", name)
		return nil
	}
	fl.Params, ok = ps.params(params, "of flow "+name)
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
		v := results.At(0)
		p, err := ps.param("", v.Type(), "the result of flow "+name, true)
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
		if filepath.Base(ps.fset.Position(v.Pos()).Filename) == OutputName {
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

// generatedNames lists the package-level names the generated file declares.
func generatedNames(m *Package) map[string]string {
	names := map[string]string{}
	for _, h := range m.Hosts {
		for _, n := range []string{h.Name + "Ref", h.Name + "Host", "Provide" + h.Name, "Provide" + h.Name + "Resolver", "Async" + h.Name, h.Name + "Async", proxyName(h), "dispatch" + h.Name} {
			names[n] = "host interface " + h.Name
		}
		for _, meth := range h.Methods {
			if len(meth.Results) > 1 {
				names[resultStructName(h, meth)] = "host interface " + h.Name
			}
		}
	}
	for _, f := range m.Flows {
		for _, n := range []string{"Register" + f.Name, f.Name + "Handle", "run" + f.Name} {
			names[n] = "flow " + f.Name
		}
	}
	return names
}

func proxyName(h *HostInterface) string {
	return strings.ToLower(h.Name[:1]) + h.Name[1:] + "Proxy"
}

func resultStructName(h *HostInterface, m *Method) string {
	return h.Name + m.Name + "Results"
}

// checkCollisions reports user declarations that clash with generated names.
func (ps *parser) checkCollisions() {
	scope := ps.p.Types.Scope()
	gen := generatedNames(ps.model)
	names := make([]string, 0, len(gen))
	for n := range gen {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		why := gen[name]
		obj := scope.Lookup(name)
		if obj == nil || filepath.Base(ps.fset.Position(obj.Pos()).Filename) == OutputName {
			continue
		}
		ps.errorf(obj.Pos(), "%s is declared here, but flowgen declares it for %s; rename yours", name, why)
	}
}
