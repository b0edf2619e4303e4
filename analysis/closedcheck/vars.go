package closedcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// varInfo is what the package's own code does with a package variable.
type varInfo struct {
	obj      *types.Var
	init     ast.Expr  // its initializer, if any
	sentinel bool      // of an error type
	written  token.Pos // the first write after initialisation by the package's code (not its tests)
	// aliases are the package variables whose memory its initializer
	// shares (var live = &cfg): a write through it writes them too.
	aliases []*types.Var
	// escapes: a function of the package returns its memory, so importers
	// can write it through what they are given.
	escapes bool
	// initFn judges the initializer as if it were a function; initWriters
	// are the init functions (and functions only they call) that write it,
	// and initSrcs what they store in it.
	initFn      *fnInfo
	initWriters []*types.Func
	initSrcs    []initSrc
}

type initSrc struct {
	fi  *fnInfo
	src source
}

// varWrite is a write of a package variable found in a function.
type varWrite struct {
	v   *types.Var
	pos token.Pos
	how string // "" for a direct write; else how it is written (through an alias, by a call)
	// rooted: the expression written through starts with the variable (a
	// pointer variable's method): the identifier's judgement reports it.
	rooted bool
	// later: in a function literal not called where it is written (a
	// handler init stores in a table), whose code runs after
	// initialisation, when it is called
	later bool
}

// stdMutators write to the slice or map given as their first argument.
var stdMutators = map[string]bool{
	"sort.Strings": true, "sort.Ints": true, "sort.Float64s": true, "sort.Sort": true, "sort.Stable": true,
	"sort.Slice": true, "sort.SliceStable": true, "slices.Sort": true, "slices.SortFunc": true,
	"slices.SortStableFunc": true, "slices.Reverse": true, "maps.Copy": true, "maps.DeleteFunc": true,
	"maps.Insert": true, "slices.Delete": true, "slices.DeleteFunc": true, "slices.Replace": true,
	"slices.Insert": true, "slices.Compact": true, "slices.CompactFunc": true,
}

func varKey(v *types.Var) string { return v.Pkg().Path() + "." + v.Name() }

// collectVars finds the package's variables and their initializers.
func (p *pkgState) collectVars() {
	scope := p.pass.Pkg.Scope()
	for _, name := range scope.Names() {
		if v, ok := scope.Lookup(name).(*types.Var); ok {
			p.vars[v] = &varInfo{obj: v, sentinel: types.Implements(v.Type(), errorType)}
		}
	}
	for _, f := range p.pass.Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, n := range vs.Names {
					if v, ok := p.pass.TypesInfo.Defs[n].(*types.Var); ok && p.vars[v] != nil {
						p.vars[v].init = vs.Values[i]
					}
				}
			}
		}
	}
	p.initOnly = p.initOnlyFuncs()
}

// isTestFile reports whether pos is in a _test.go file.
func (p *pkgState) isTestFile(pos token.Pos) bool {
	return strings.HasSuffix(p.pass.Fset.Position(pos).Filename, "_test.go")
}

// writes finds, for every function, what it writes: parameters written in
// place and package variables (directly, through locals that alias them,
// by calls of functions that write what they are given); and what memory
// its results share. Local callees are resolved to a fixed point, foreign
// ones from their facts.
func (p *pkgState) writes() {
	fns := p.allFuncs()
	// A worklist: a function is walked again when a function of this
	// package it calls turns out to write what it is given, or to return
	// package memory.
	callers := map[*fnInfo][]*fnInfo{}
	work := slices.Clone(fns)
	queued := map[*fnInfo]bool{}
	for _, fi := range work {
		queued[fi] = true
	}
	for steps := 0; len(work) > 0 && steps < 8*len(fns)+8; steps++ {
		fi := work[0]
		work = work[1:]
		queued[fi] = false
		if fi.body == nil {
			continue
		}
		w := &writeWalk{p: p, fi: fi}
		w.run()
		changed := !slices.Equal(w.params, fi.paramWrites) || !slices.Equal(w.aliases, fi.aliases)
		fi.paramWrites, fi.aliases, fi.varWrites = w.params, w.aliases, w.vars
		for _, callee := range w.deps {
			if !slices.Contains(callers[callee], fi) {
				callers[callee] = append(callers[callee], fi)
			}
		}
		if changed {
			for _, c := range callers[fi] {
				if !queued[c] {
					queued[c] = true
					work = append(work, c)
				}
			}
		}
	}
	for _, fi := range fns {
		init := fi.decl != nil && ((fi.decl.Recv == nil && fi.decl.Name.Name == "init") || p.initOnly[fi.obj])
		for _, vw := range fi.varWrites {
			vi := p.vars[vw.v]
			switch {
			case vi == nil:
				if !isStd(vw.v.Pkg().Path()) && !isMembrane(vw.v.Pkg().Path()) {
					p.foreignWrites = append(p.foreignWrites, vw)
				}
			case p.isTestFile(vw.pos):
				p.foreignWrites = append(p.foreignWrites, vw) // a test's write: the whole program's concern
			case fi.decl == nil && !vw.later:
				// An initializer of another variable taking this one's address.
			case init && !vw.later:
				if !slices.Contains(vi.initWriters, fi.obj) {
					vi.initWriters = append(vi.initWriters, fi.obj)
				}
			case !vi.written.IsValid() || vw.pos < vi.written:
				vi.written = vw.pos
			}
		}
		for _, a := range fi.aliases {
			if v := p.varByKey(a); v != nil {
				p.vars[v].escapes = true
			}
		}
	}
	// What initialisation stores in variables, for tables filled by init.
	for _, fi := range fns {
		if fi.decl == nil || !((fi.decl.Recv == nil && fi.decl.Name.Name == "init") || p.initOnly[fi.obj]) {
			continue
		}
		ast.Inspect(fi.body, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != len(as.Rhs) {
				return true
			}
			for i, lhs := range as.Lhs {
				root, path := p.lvaluePath(lhs)
				if vi := p.vars[root]; vi != nil {
					vi.initSrcs = append(vi.initSrcs, initSrc{fi: fi, src: source{expr: as.Rhs[i], result: -1, path: path}})
				}
			}
			return true
		})
	}
	// Aliases between package variables.
	for v, vi := range p.vars {
		if vi.init != nil && vi.initFn != nil {
			w := &writeWalk{p: p, fi: vi.initFn}
			for _, a := range w.memOf(vi.init, 0) {
				if a != v && a.Parent() == a.Pkg().Scope() {
					vi.aliases = append(vi.aliases, a)
				}
			}
		}
	}
	// A write through a variable writes what it aliases.
	for changed := true; changed; {
		changed = false
		for _, vi := range p.vars {
			if !vi.written.IsValid() {
				continue
			}
			for _, a := range vi.aliases {
				if ai := p.vars[a]; ai != nil && !ai.written.IsValid() {
					ai.written = vi.written
					changed = true
				}
			}
		}
	}
}

// lvaluePath returns the package variable at the root of an lvalue and the
// path of fields and elements to what is written.
func (p *pkgState) lvaluePath(e ast.Expr) (*types.Var, []string) {
	root, path := lvalueRoot(p.pass.TypesInfo, e)
	switch x := root.(type) {
	case *ast.Ident:
		return p.packageVar(x), path
	case *ast.SelectorExpr:
		if _, isPkg := p.pass.TypesInfo.Uses[identOf(x.X)].(*types.PkgName); isPkg {
			return p.packageVar(x.Sel), path
		}
	}
	return nil, nil
}

func (p *pkgState) varByKey(key string) *types.Var {
	for v := range p.vars {
		if varKey(v) == key {
			return v
		}
	}
	return nil
}

// packageVar returns the package-level variable an identifier refers to.
func (p *pkgState) packageVar(id *ast.Ident) *types.Var {
	v, ok := p.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok || v.IsField() || v.Pkg() == nil || v.Parent() != v.Pkg().Scope() {
		return nil
	}
	return v
}

// rootVar returns the package-level variable at the root of an lvalue such
// as v, v.f, v[i], *v or v.f[i].g.
func (p *pkgState) rootVar(e ast.Expr) (*types.Var, *ast.Ident) {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return p.packageVar(x), x
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				if _, isPkg := p.pass.TypesInfo.Uses[id].(*types.PkgName); isPkg {
					return p.packageVar(x.Sel), x.Sel
				}
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		default:
			return nil, nil
		}
	}
}

// shares reports whether a value of type t can share memory with another
// (a copy of it refers to the same pointees).
func shares(t types.Type) bool {
	return sharesSeen(t, map[types.Type]bool{})
}

func sharesSeen(t types.Type, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Slice, *types.Map, *types.Chan, *types.Interface:
		return true
	case *types.Array:
		return sharesSeen(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if sharesSeen(u.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// initOnlyFuncs finds the package's functions called only during
// initialisation: from init, or from functions themselves init-only.
func (p *pkgState) initOnlyFuncs() map[*types.Func]bool {
	type ref struct {
		encl *types.Func // enclosing function declaration; nil at package level
		call bool        // the reference is the callee of a call
		init bool        // the enclosing declaration is an init function
	}
	refs := map[*types.Func][]ref{}
	for _, f := range p.pass.Files {
		for _, d := range f.Decls {
			var encl *types.Func
			isInit := false
			if fd, ok := d.(*ast.FuncDecl); ok {
				encl, _ = p.pass.TypesInfo.Defs[fd.Name].(*types.Func)
				isInit = fd.Recv == nil && fd.Name.Name == "init"
			}
			callees := map[*ast.Ident]bool{}
			ast.Inspect(d, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
						callees[id] = true
					}
				}
				if id, ok := n.(*ast.Ident); ok {
					if fn, ok := p.pass.TypesInfo.Uses[id].(*types.Func); ok && fn.Pkg() == p.pass.Pkg {
						refs[fn] = append(refs[fn], ref{encl: encl, call: callees[id], init: isInit})
					}
				}
				return true
			})
		}
	}
	initOnly := map[*types.Func]bool{}
	for changed := true; changed; {
		changed = false
		for fn, rs := range refs {
			if initOnly[fn] {
				continue
			}
			ok := len(rs) > 0
			for _, r := range rs {
				if !r.call || !(r.init || (r.encl != nil && initOnly[r.encl])) {
					ok = false
					break
				}
			}
			if ok {
				initOnly[fn] = true
				changed = true
			}
		}
	}
	return initOnly
}

// initTaint: reading a variable never written after initialisation is fine,
// unless the initialisation itself is not closed (var region =
// os.Getenv("REGION"), or an init function reading the clock). Function
// literals in an initializer run only when called: they are not part of it.
func (j *judge) initTaint(v *types.Var) {
	p := j.p
	vi := p.vars[v]
	var from *fnInfo
	var r *Reason
	if vi.initFn != nil {
		if rs := p.siteReasons(j.fi, vi.initFn, nil, true); len(rs) > 0 {
			from, r = vi.initFn, rs[0]
		}
	}
	for _, w := range vi.initWriters {
		// What init runs, not the literals it stores (judged where they
		// are called).
		if wi := p.funcs[w]; wi != nil && from == nil {
			if rs := p.siteReasons(j.fi, wi, nil, true); len(rs) > 0 {
				from, r = wi, rs[0]
			}
		}
	}
	if from == nil {
		return
	}
	j.s.results = append(j.s.results, result{local: from, outerOnly: true}) // report the cause where it is
	j.problem("package variable "+v.Name(), "is initialised by code that is not closed ("+strings.Join(p.local(r.Chain), " → ")+": "+r.What+", at "+r.Pos+"), so it differs between incarnations", KindVar)
}
