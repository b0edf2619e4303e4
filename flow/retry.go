package flow

import (
	"time"

	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// RetryPolicy says how a host call that fails is made again, and how long
// each attempt may take. A host interface declares one for all its methods,
// or a method for itself, with flowgen directives; [WithRetry] replaces it
// for the calls made with a context:
//
//	// Payments charges cards; the card network is flaky.
//	//
//	//flowgen:host
//	//flowgen:retry attempts=5 backoff=1s maxbackoff=1m retryable=ErrBusy
//	//flowgen:timeout 10s
//	type Payments interface { ... }
//
// An attempt that fails with an error a retry may fix is made again after a
// backoff: Backoff before the second attempt, each later wait Multiplier
// times the one before, up to MaxBackoff. Which errors a retry may fix:
//
//   - an error with no registered code (see [RegisterError]): a failure
//     nobody named, such as a lost connection;
//   - [context.DeadlineExceeded], which an attempt that ran out of its
//     Timeout ends with;
//   - a registered error listed in Retryable.
//
// Any other registered error is an answer, not a failure, and is returned
// at once: flowgen registers the exported Err… variables of a flow package,
// so the errors a package names are answers unless its policy lists them.
//
// Each failed attempt that is made again is logged with its error and the
// time of the next attempt, and the wait is a durable timer: an activation
// waiting between attempts may be suspended, and after a restart it makes
// the next attempt when its time comes, counting on from where it was.
// Replaying, the call returns its final result at once. Every attempt of a
// call has the call's idempotency key ([IdempotencyKey]), so a host can
// treat the attempts as one, and one of its own ([AttemptKey]), so it can
// tell them apart.
type RetryPolicy struct {
	// Attempts is how many times the call is made at most, counting the
	// first. 0 or 1: once, never again.
	Attempts int
	// Backoff is the wait before the second attempt. Default 1s.
	Backoff time.Duration
	// MaxBackoff bounds the waits. Default 100 times Backoff.
	MaxBackoff time.Duration
	// Multiplier is how much longer each wait is than the one before.
	// Default 2; below 1 counts as 1.
	Multiplier float64
	// Timeout bounds each attempt: it is the deadline of the context the
	// host method receives. 0: none. An attempt that runs past it and
	// returns an error ends with context.DeadlineExceeded, which is retried;
	// one that returns a result late has its result kept.
	Timeout time.Duration
	// Retryable lists registered errors that are retried (see above);
	// errors.Is decides, by code.
	Retryable []error
}

// WithRetry returns a context derived from fc whose host calls follow p
// instead of the policy their host interface declares: pass it to the
// calls the policy is for.
//
//	ctx := flow.WithRetry(fc, flow.RetryPolicy{Attempts: 10, Backoff: time.Minute})
//	receipt, err := payments.Refund(ctx, charge)
//
// p replaces the declared policy as a whole: fields left zero take their
// defaults, not the declared values. WithRetry(fc, flow.RetryPolicy{})
// makes each call once, with no timeout.
func WithRetry(fc Context, p RetryPolicy) Context {
	p.Retryable = append([]error(nil), p.Retryable...)
	return &retryContext{Context: fc, policy: &p}
}

type retryContext struct {
	Context
	policy *RetryPolicy
}

func (c *retryContext) Value(key any) any {
	if key == (bridge.RetryKey{}) {
		return c.policy
	}
	return c.Context.Value(key)
}

func (c *retryContext) String() string { return "flow.WithRetry(" + c.Activation().String() + ")" }

func init() {
	bridge.ErrorCode = errorCode
}
