package gen

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/internal/directive"
)

// Retry policies and attempt timeouts, declared on a host interface (beside
// //flowgen:host) for all its methods, or on a method for itself:
//
//	//flowgen:retry attempts=5 backoff=1s maxbackoff=1m multiplier=2 retryable=ErrBusy,other.ErrLimited
//	//flowgen:timeout 10s
//
// A method's //flowgen:retry replaces its interface's as a whole, and its
// //flowgen:timeout its interface's (//flowgen:timeout 0 for none). retryable names registered errors: a
// bare name is an exported Err… variable of this package, a dotted one the
// code another package registers its sentinel with ("<package>.<Name>" for
// the sentinels flowgen registers).

// methodDirectives returns the //flowgen: directives of the methods an
// interface declares itself, by name, and records them as used.
func (ps *parser) methodDirectives(ts *ast.TypeSpec, used map[token.Pos]bool) map[string][]directive.Directive {
	it, ok := ts.Type.(*ast.InterfaceType)
	if !ok || it.Methods == nil {
		return nil
	}
	out := map[string][]directive.Directive{}
	for _, f := range it.Methods.List {
		dirs := ps.directives(f.Doc, used)
		if len(dirs) == 0 {
			continue
		}
		if len(f.Names) == 0 {
			for _, d := range dirs {
				ps.errorf(d.Pos, "%s%s on an embedded interface is not supported: put it on the methods, or on the embedding interface", directive.Flowgen, d.Verb)
			}
			continue
		}
		for _, d := range dirs {
			if d.Verb != directive.VerbRetry && d.Verb != directive.VerbTimeout {
				ps.errorf(d.Pos, "%s%s is not for a method; a method takes %s%s or %s%s", directive.Flowgen, d.Verb, directive.Flowgen, directive.VerbRetry, directive.Flowgen, directive.VerbTimeout)
				continue
			}
			for _, n := range f.Names {
				out[n.Name] = append(out[n.Name], d)
			}
		}
	}
	return out
}

// declared is what one doc comment declares.
type declared struct {
	retry   *Policy // nil: no //flowgen:retry
	timeout time.Duration
	timed   bool // a //flowgen:timeout
}

// policies sets the policy of each method of h from its directives and its
// interface's.
func (ps *parser) policies(h *HostInterface, onHost []directive.Directive, onMethods map[string][]directive.Directive) {
	base := ps.declared(onHost)
	for _, m := range h.Methods {
		own := ps.declared(onMethods[m.Name])
		retry, timeout := base.retry, base.timeout
		if own.retry != nil {
			retry = own.retry
		}
		if own.timed {
			timeout = own.timeout
		}
		if retry == nil && timeout == 0 {
			continue
		}
		var p Policy
		if retry != nil {
			p = *retry
		}
		p.Timeout = timeout
		if p.Attempts <= 1 && p.Timeout == 0 {
			continue // one attempt, no timeout: nothing to declare
		}
		m.Policy = &p
	}
}

// declared reads the //flowgen:retry and //flowgen:timeout directives of one
// doc comment.
func (ps *parser) declared(dirs []directive.Directive) declared {
	var out declared
	for _, d := range dirs {
		switch d.Verb {
		case directive.VerbRetry:
			if out.retry != nil {
				ps.errorf(d.Pos, "a second %s%s here; put every option in one", directive.Flowgen, d.Verb)
				continue
			}
			out.retry = ps.retryOptions(d)
		case directive.VerbTimeout:
			if out.timed {
				ps.errorf(d.Pos, "a second %s%s here", directive.Flowgen, d.Verb)
				continue
			}
			out.timed = true
			if len(d.Options) != 1 {
				ps.errorf(d.Pos, "%s%s takes one duration, such as %s%s 30s", directive.Flowgen, d.Verb, directive.Flowgen, d.Verb)
				continue
			}
			if dur, err := time.ParseDuration(d.Options[0]); err == nil && dur == 0 {
				continue // none, in place of the interface's
			}
			out.timeout = ps.duration(d, "timeout", d.Options[0])
		}
	}
	return out
}

const retryOptions = "attempts=N, backoff=D, maxbackoff=D, multiplier=X, retryable=Err…[,…]"

func (ps *parser) retryOptions(d directive.Directive) *Policy {
	p := &Policy{Attempts: 1}
	seen := map[string]bool{}
	for _, o := range d.Options {
		k, v, ok := strings.Cut(o, "=")
		if !ok || v == "" {
			ps.errorf(d.Pos, "option %q of %s%s: write key=value (%s)", o, directive.Flowgen, d.Verb, retryOptions)
			continue
		}
		if seen[k] {
			ps.errorf(d.Pos, "option %s of %s%s is given twice", k, directive.Flowgen, d.Verb)
			continue
		}
		seen[k] = true
		switch k {
		case "attempts":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				ps.errorf(d.Pos, "attempts=%s: want a whole number from 1 (the first attempt counts)", v)
				continue
			}
			p.Attempts = n
		case "backoff":
			p.Backoff = ps.duration(d, k, v)
		case "maxbackoff":
			p.MaxBackoff = ps.duration(d, k, v)
		case "multiplier":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < 1 {
				ps.errorf(d.Pos, "multiplier=%s: want a number from 1", v)
				continue
			}
			p.Multiplier = x
		case "retryable":
			for _, name := range strings.Split(v, ",") {
				if code, ok := ps.errorCode(d, name); ok && !slices.Contains(p.Retryable, code) {
					p.Retryable = append(p.Retryable, code)
				}
			}
		default:
			ps.errorf(d.Pos, "unknown option %q of %s%s; the options are %s", k, directive.Flowgen, d.Verb, retryOptions)
		}
	}
	if p.MaxBackoff > 0 && p.Backoff > 0 && p.MaxBackoff < p.Backoff {
		ps.errorf(d.Pos, "maxbackoff=%s is less than backoff=%s", p.MaxBackoff, p.Backoff)
	}
	return p
}

func (ps *parser) duration(d directive.Directive, key, v string) time.Duration {
	dur, err := time.ParseDuration(v)
	if err != nil || dur <= 0 {
		ps.errorf(d.Pos, "%s %q: want a positive duration, such as 500ms, 30s or 5m", key, v)
		return 0
	}
	return dur
}

// errorCode returns the code of a retryable error named in a directive.
func (ps *parser) errorCode(d directive.Directive, name string) (string, bool) {
	if strings.Contains(name, ".") {
		if !validDurable(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
			ps.errorf(d.Pos, "retryable error code %q: use letters, digits, '.', '_', '-' and '/'", name)
			return "", false
		}
		return name, true
	}
	for _, e := range ps.model.Errors {
		if e.Name == name {
			return e.Code, true
		}
	}
	why := "no such variable in this package"
	if obj := ps.p.Types.Scope().Lookup(name); obj != nil {
		why = "flowgen registers only the exported Err… variables of type error of a package"
		if _, isVar := obj.(*types.Var); !isVar {
			why = "it is not a variable"
		}
	}
	ps.errorf(d.Pos, "retryable error %s is not a registered sentinel (%s); name one of this package's Err… variables, or another package's by its code, such as other.ErrBusy", name, why)
	return "", false
}
