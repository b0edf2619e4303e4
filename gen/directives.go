package gen

import (
	"go/ast"
	"go/token"
	"strings"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// Reading //flowgen: directives: which doc comments hold them, which verbs
// and options they may have, and those that stand where none belongs.

// strayDirectives reports //flowgen: comments that are not in a doc comment
// (used holds those that were), and directives written with a space after
// "//", which Go does not treat as directives.
func (ps *parser) strayDirectives(f *ast.File, used map[token.Pos]bool) {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if used[c.Pos()] {
				continue
			}
			if _, ok := directive.Parse(c); ok {
				ps.errorf(c.Pos(), "%s is not in the doc comment of a declaration; put it right above the type or function it marks", firstWord(c.Text))
			} else if directive.Misspelled(c.Text) {
				ps.errorf(c.Pos(), "%q is not a directive: write %s%s with no space after //", c.Text, directive.Flowgen, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(c.Text, "//")), "flowgen:")))
			}
		}
	}
}

// specDoc is the doc comment of a spec: its own, or an unparenthesised
// declaration's.
func specDoc(d *ast.GenDecl, s ast.Spec) *ast.CommentGroup {
	switch s := s.(type) {
	case *ast.TypeSpec:
		return directive.TypeDoc(d, s)
	case *ast.ValueSpec:
		if s.Doc != nil {
			return s.Doc
		}
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

// directives checks the //flowgen: directives of a doc comment and returns
// the valid ones; used records every directive seen.
func (ps *parser) directives(doc *ast.CommentGroup, used map[token.Pos]bool) []directive.Directive {
	var out []directive.Directive
	for _, d := range directive.InDoc(doc) {
		used[d.Pos] = true
		switch d.Verb {
		case directive.VerbFlow, directive.VerbHost:
		case directive.VerbRetry, directive.VerbTimeout:
			out = append(out, d) // options checked with the policy
			continue
		case "":
			ps.errorf(d.Pos, "empty directive %s; use %s%s or %s%s", directive.Flowgen, directive.Flowgen, directive.VerbFlow, directive.Flowgen, directive.VerbHost)
			continue
		default:
			ps.errorf(d.Pos, "unknown directive %s%s; use %s%s or %s%s", directive.Flowgen, d.Verb, directive.Flowgen, directive.VerbFlow, directive.Flowgen, directive.VerbHost)
			continue
		}
		ok := true
		for _, o := range d.Options {
			k, v, found := strings.Cut(o, "=")
			if !found || k != "name" || v == "" {
				ps.errorf(d.Pos, "unknown option %q in %s%s; the only option is name=<durable name>", o, directive.Flowgen, d.Verb)
				ok = false
				continue
			}
			if !validDurable(v) {
				ps.errorf(d.Pos, "durable name %q: use letters, digits, '.', '_', '-' and '/'", v)
				ok = false
			}
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
