package gen

import (
	"go/types"
	"strconv"
)

// scope allocates the identifiers of one generated function. Users'
// parameter names are kept as written; the generator's own locals (the
// encoder, the decoder, results, receivers) are chosen around them, so a
// user's parameter a or d survives in the generated API. A user's name is
// replaced only where Go leaves no choice: it is blank, or it would hide a
// name the function's body refers to from outside (a type of the package, a
// name flowgen declares, a predeclared type or constant, nil).
type scope struct {
	file *fileNames
	used map[string]bool
}

// fileNames are the names a generated file's bodies may refer to from
// outside their functions.
type fileNames struct {
	// hidden are names a user's parameter must not take: bodies refer to
	// them (imports are renamed instead, see emitter.importNames).
	hidden map[string]bool
	// avoid are names the generator's own locals do not take: every name
	// of the package, its imports and the universe.
	avoid map[string]bool
}

func newFileNames(m *Package, imports map[string]string) *fileNames {
	fn := &fileNames{hidden: map[string]bool{}, avoid: map[string]bool{}}
	for _, name := range types.Universe.Names() {
		fn.avoid[name] = true
		switch types.Universe.Lookup(name).(type) {
		case *types.TypeName, *types.Const, *types.Nil:
			fn.hidden[name] = true
		}
	}
	fn.hidden["panic"] = true
	for _, name := range imports {
		fn.avoid[name] = true
	}
	if m.Types != nil {
		for _, name := range m.Types.Scope().Names() {
			fn.avoid[name] = true
			if _, ok := m.Types.Scope().Lookup(name).(*types.TypeName); ok {
				fn.hidden[name] = true
			}
		}
	}
	for _, d := range m.Declares() {
		fn.avoid[d.Name] = true
		fn.hidden[d.Name] = true
	}
	for _, f := range m.Flows {
		fn.avoid[f.Name] = true
		fn.hidden[f.Name] = true
	}
	return fn
}

// newScope starts the names of one function whose users' parameter names
// are users (blank ones included, as ""): they are reserved first, so the
// generator's names never take them.
func (fn *fileNames) newScope(users ...[]*Param) *scope {
	s := &scope{file: fn, used: map[string]bool{}}
	for _, ps := range users {
		for _, p := range ps {
			s.reserve(p.Name)
		}
	}
	return s
}

func (s *scope) reserve(name string) {
	if name != "" && !s.file.hidden[name] {
		s.used[name] = true
	}
}

// child starts a nested scope (a case of a switch), which sees the names of
// s.
func (s *scope) child() *scope {
	c := &scope{file: s.file, used: make(map[string]bool, len(s.used))}
	for n := range s.used {
		c.used[n] = true
	}
	return c
}

// user returns the identifier for a user's name: the name itself where Go
// allows it, or a fresh one made from fallback.
func (s *scope) user(name, fallback string) string {
	if name != "" && !s.file.hidden[name] {
		s.used[name] = true
		return name
	}
	if name != "" {
		fallback = name
	}
	return s.fresh(fallback)
}

// fresh returns base, or base with the first number that makes it free.
func (s *scope) fresh(base string) string {
	name := base
	for i := 1; s.used[name] || s.file.avoid[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	s.used[name] = true
	return name
}

// params names a list of users' parameters: their own names, or a0, a1, …
// by position.
func (s *scope) params(ps []*Param) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = s.user(p.Name, "a"+strconv.Itoa(i))
	}
	return names
}
