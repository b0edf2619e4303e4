// Package directive reads the comment directives asyncflow's tools share
// (//flowgen:flow, //flowgen:host, //closedcheck:ignore) and names what the
// generator and the analyzer must agree on: the flow package's import path
// and the name of the file flowgen writes.
//
// Directives follow the Go convention: "//" then the tool name, a colon and
// the verb, with no space after "//". They are read from Doc.List, because
// CommentGroup.Text drops them.
package directive

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"strings"
)

// Names shared by the generator, the analyzer and the runtime.
const (
	// FlowPkg is the import path of the package flows import.
	FlowPkg = "github.com/asyncflow-go/asyncflow/flow"
	// GeneratedFile is the name of the file flowgen writes in a package.
	GeneratedFile = "flowgen_gen.go"

	// Flowgen is the prefix of the generator's directives.
	Flowgen = "//flowgen:"
	// Ignore is the analyzer's suppression directive.
	Ignore = "//closedcheck:ignore"
)

// Verbs of //flowgen: directives.
const (
	VerbFlow = "flow"
	VerbHost = "host"
	// VerbRetry and VerbTimeout declare how a host interface's calls are
	// retried and how long each attempt may take: on the interface, beside
	// VerbHost, or on one of its methods.
	VerbRetry   = "retry"
	VerbTimeout = "timeout"
)

// IsGenerated reports whether filename is a file flowgen wrote.
func IsGenerated(filename string) bool {
	return filepath.Base(filename) == GeneratedFile
}

// Directive is one //flowgen: comment.
type Directive struct {
	Pos  token.Pos
	Text string // the whole comment
	Verb string // "flow", "host", or what was written
	// Options are the fields after the verb, in order, as written
	// (name=value or a bare word).
	Options []string
}

// Option returns the value of the option key=value, if present.
func (d Directive) Option(key string) (string, bool) {
	for _, o := range d.Options {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Parse reads c as a //flowgen: directive. ok is false when c is not one;
// a directive with no verb is returned with an empty Verb.
func Parse(c *ast.Comment) (d Directive, ok bool) {
	rest, ok := strings.CutPrefix(c.Text, Flowgen)
	if !ok {
		return Directive{}, false
	}
	fields := strings.Fields(rest)
	d = Directive{Pos: c.Pos(), Text: c.Text}
	if len(fields) > 0 {
		d.Verb, d.Options = fields[0], fields[1:]
	}
	return d, true
}

// InDoc returns the //flowgen: directives of a doc comment, in order.
func InDoc(doc *ast.CommentGroup) []Directive {
	if doc == nil {
		return nil
	}
	var out []Directive
	for _, c := range doc.List {
		if d, ok := Parse(c); ok {
			out = append(out, d)
		}
	}
	return out
}

// Has reports whether doc holds a //flowgen: directive with the verb.
func Has(doc *ast.CommentGroup, verb string) bool {
	for _, d := range InDoc(doc) {
		if d.Verb == verb {
			return true
		}
	}
	return false
}

// Find returns the first //flowgen: directive of doc with the verb.
func Find(doc *ast.CommentGroup, verb string) (Directive, bool) {
	for _, d := range InDoc(doc) {
		if d.Verb == verb {
			return d, true
		}
	}
	return Directive{}, false
}

// Misspelled reports whether text looks like a //flowgen: directive written
// with a space after "//", which Go does not treat as a directive.
func Misspelled(text string) bool {
	t, ok := strings.CutPrefix(text, "//")
	if !ok || !strings.HasPrefix(t, " ") && !strings.HasPrefix(t, "\t") {
		return false
	}
	t = strings.TrimSpace(t)
	for _, v := range []string{VerbHost, VerbFlow, VerbRetry, VerbTimeout} {
		if strings.HasPrefix(t, "flowgen:"+v) {
			return true
		}
	}
	return false
}

// TypeDoc returns the doc comment of a type spec: its own, or the
// declaration's when the declaration has no parentheses.
func TypeDoc(gd *ast.GenDecl, ts *ast.TypeSpec) *ast.CommentGroup {
	if ts.Doc != nil {
		return ts.Doc
	}
	if !gd.Lparen.IsValid() {
		return gd.Doc
	}
	return nil
}

// IgnoreReason reports whether text is a //closedcheck:ignore comment and
// returns its reason: the text after the directive up to a "//" that starts
// another comment, trimmed. A directive with no reason returns ok and "".
func IgnoreReason(text string) (reason string, ok bool) {
	rest, ok := strings.CutPrefix(text, Ignore)
	if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	if i := strings.Index(rest, "//"); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimSpace(rest), true
}
