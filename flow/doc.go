// Package flow is what a flow imports: the deterministic [Context] a flow runs
// in, durable promises ([Vow]) and host-call results ([Future]), and the
// operations the membrane provides: [Await], [All], [Race], [Now], [Sleep],
// [After], [Patched], and [Random] and [UUID], which draw values that replay.
// [RetryPolicy] says how failed host calls are made again; host interfaces
// declare one with flowgen directives, and [WithRetry] sets another for
// some calls.
//
// A flow is an ordinary Go function marked //flowgen:flow whose first
// parameter is a [Context]. It reaches the world only through host interfaces
// (marked //flowgen:host) whose guest proxies log every call. After a restart,
// possibly under new code, the flow is run again from the top and the log
// answers every question it asks until the log runs out; then it carries on
// live.
//
// Beside those it holds what crosses the membrane with a flow's values: the
// durable ids of activations and vows, references to host objects ([Ref],
// [Keyed]), the errors a guest or a host sees ([Error], and [RegisterError]
// to keep errors.Is working after replay), and what a host method reads from
// its context ([IdempotencyKey], [CallInfoFrom]). The plumbing generated code
// uses lives in package flowimpl, which flow authors never import. Nothing
// here touches storage, so analysing or generating a flow package never
// loads the SQLite-backed runtime.
//
// # Talking to running flows
//
// A flow declares what hosts may send it with [Signal] parameters and what
// it publishes for them with [Status] parameters; flowgen gives its handle
// typed senders and readers. A flow starts another as a child activation,
// with a log of its own, through the Child function flowgen generates for
// every flow; calling a flow's function directly instead runs it inline, in
// the caller's log.
//
// # Long-running flows
//
// A flow that loops for ever continues as new instead: it returns the error
// of the Continue<Flow>AsNew function flowgen generates for it, with its next
// arguments, and the activation carries on as a fresh run with an empty
// log, keeping its id and outcome:
//
//	//flowgen:flow
//	func Renew(fc flow.Context, b Billing, account string, month int) (int, error) {
//		... charge, wait until next month ...
//		return 0, ContinueRenewAsNew(fc, b, account, month+1)
//	}
//
// # Durable names
//
// A flow's durable name ties its activations' logs to code. It defaults to
// <package name>.<Func>; set it, and pin it, with the directive
//
//	//flowgen:flow name=shop.Fulfil
//
// so that renaming the function or moving its package keeps its activations.
// A rewrite that cannot replay old logs takes a new name, the old flow kept
// registered until its activations finish.
//
// # Determinism
//
// A [Context] is a [context.Context] that never ends: Done returns nil, Err
// returns nil and Deadline reports none. A flow is not cancelled through its
// context: a host's or an operator's request to cancel is a vow the flow
// awaits ([Cancellation]), and a flow that must give up after a while races a
// timer:
//
//	timeout := flow.After(fc, 72*time.Hour)
//	if flow.Race(fc, approval, timeout) == 1 {
//		return ErrTimedOut
//	}
//
// # Patching
//
// [Patched] lets new code keep an old path for activations that ran past a
// point before the change was deployed. Live, the first call with an id in an
// activation records a marker and returns true. Replaying, it returns true if
// the log holds that marker at this point and false otherwise — unless false
// does not reproduce the log and true does, which replay finds out by
// itself: an activation that ran the new path under a build without the
// patch. A marker the code no longer asks for is passed over, so a patch is
// retired by deleting it once no activation that could take the old branch
// is unfinished. See [Patched] for the rules and their bounds.
package flow
