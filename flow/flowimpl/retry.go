package flowimpl

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// Policy is a flow.RetryPolicy as generated code declares it and the
// membrane applies it: defaults filled in, retryable errors as their codes.
// Generated proxies declare one per method with a //flowgen:retry or
// //flowgen:timeout directive (on the method or its interface).
type Policy struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	Multiplier float64
	Timeout    time.Duration
	// Retryable holds the codes of the registered errors that are retried.
	Retryable []string
}

// Defaults of a retry policy.
const (
	DefaultBackoff    = time.Second
	DefaultMultiplier = 2
	// MaxBackoff defaults to this many times Backoff.
	DefaultMaxBackoffFactor = 100
)

// deadlineCode is the code of context.DeadlineExceeded, which is always
// retried.
const deadlineCode = "context.DeadlineExceeded"

// PolicyOf turns a flow.RetryPolicy into a Policy, with its defaults.
func PolicyOf(p flow.RetryPolicy) *Policy {
	out := &Policy{Attempts: max(p.Attempts, 1), Backoff: p.Backoff, MaxBackoff: p.MaxBackoff, Multiplier: p.Multiplier, Timeout: max(p.Timeout, 0)}
	for _, err := range p.Retryable {
		if err == nil {
			continue
		}
		if code := bridge.ErrorCode(err); code != "" && !slices.Contains(out.Retryable, code) {
			out.Retryable = append(out.Retryable, code)
		}
	}
	return out.normal()
}

// normal fills in the defaults.
func (p *Policy) normal() *Policy {
	if p.Attempts < 1 {
		p.Attempts = 1
	}
	if p.Backoff <= 0 {
		p.Backoff = DefaultBackoff
	}
	if p.Multiplier == 0 {
		p.Multiplier = DefaultMultiplier
	}
	if p.Multiplier < 1 {
		p.Multiplier = 1
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoffFactor * p.Backoff
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = p.Backoff
	}
	return p
}

// Inert reports whether the policy changes nothing: one attempt, no
// timeout.
func (p *Policy) Inert() bool { return p == nil || p.Attempts <= 1 && p.Timeout <= 0 }

// Delay returns the wait after the failed attempt number attempt (from 1),
// before the next.
func (p *Policy) Delay(attempt int) time.Duration {
	d := float64(p.Backoff) * math.Pow(p.Multiplier, float64(attempt-1))
	if d >= float64(p.MaxBackoff) || math.IsInf(d, 0) || math.IsNaN(d) {
		return p.MaxBackoff
	}
	return time.Duration(d)
}

// Retries reports whether an attempt that failed with an error of the given
// code (empty for an unregistered error) is made again, if attempts remain.
func (p *Policy) Retries(code string) bool {
	return code == "" || code == deadlineCode || slices.Contains(p.Retryable, code)
}

// callPolicy is the policy of a call made with ctx: the one flow.WithRetry
// set on ctx, or else declared (which may be nil).
func callPolicy(ctx context.Context, declared *Policy) *Policy {
	if p, ok := ctx.Value(bridge.RetryKey{}).(*flow.RetryPolicy); ok {
		return PolicyOf(*p)
	}
	return declared
}

// CallWith is Call for a method with a declared policy, which a policy set
// on ctx with flow.WithRetry replaces.
func CallWith(ctx context.Context, target flow.Ref, method string, args *codec.Encoder, declared *Policy) ([]byte, error) {
	g, ok := guestOf(ctx)
	if !ok {
		return nil, flow.ErrNotInFlow
	}
	mustEncode(target, method, args)
	if p := callPolicy(ctx, declared); !p.Inert() {
		return g.CallWith(target, method, args.Bytes(), p)
	}
	return g.Call(target, method, args.Bytes())
}

// GoWith is Go for a method with a declared policy, which a policy set on
// ctx with flow.WithRetry replaces.
func GoWith[T any](ctx context.Context, target flow.Ref, method string, args *codec.Encoder, declared *Policy) flow.Future[T] {
	g := mustGuest(ctx)
	mustEncode(target, method, args)
	var f flow.Future[T]
	if p := callPolicy(ctx, declared); !p.Inert() {
		bridge.SetFuture(&f, g.IssueWith(target, method, args.Bytes(), p))
	} else {
		bridge.SetFuture(&f, g.Issue(target, method, args.Bytes()))
	}
	return f
}

// NewPolicy returns a declared policy with its defaults filled in; generated
// code declares its policies with it.
func NewPolicy(p Policy) *Policy {
	p.Retryable = slices.Clone(p.Retryable)
	return p.normal()
}

// AttemptTimeout returns the timeout of each attempt; 0 for none or a nil
// policy.
func (p *Policy) AttemptTimeout() time.Duration {
	if p == nil {
		return 0
	}
	return p.Timeout
}
