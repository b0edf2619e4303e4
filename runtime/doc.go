// Package runtime runs flows: it is what a host program imports.
//
// Open a runtime on a store file (embedded SQLite, pure Go; the path
// sqlitestore.Memory gives a store in memory) or a postgres:// URL
// (PostgreSQL), provide the host services flows call, register every flow,
// and Start: unfinished
// activations of registered flows are revived — those that were running when
// the last incarnation stopped, and those that failed (a new build may have
// fixed them). Activations waiting on a vow or a timer are not loaded; they
// are replayed when what they wait for settles.
//
//	rt, err := runtime.Open(ctx, "app.db", runtime.Options{})
//	payout.ProvideLedger(rt, "ledger", myLedger)
//	h := payout.RegisterPayout(rt)
//	err = rt.Start(ctx)
//	v, err := h.Start(ctx, payout.LedgerRef("ledger"), payout.ApprovalsRef("approvals"), "bob", 500)
//	txid, err := runtime.Wait(ctx, rt, v)
//
// # Replay and upgrades
//
// Every crossing between a flow and the world is logged. After a restart,
// with the same build or a new one, an activation is run again from the top:
// its log answers every question it asks, and when the log runs out it goes
// on live. If the code no longer reproduces the log, the activation is stuck
// — it does nothing more, its log and vows stay as they were — and
// Admin().Failures() says where and why: the log step, what was logged, what
// the code did instead, the source line, which flow.Patched answers led
// there, and which builds wrote and failed. Wait on its outcome returns a
// *StuckError carrying the same instead of blocking. A later build that
// reproduces the log unsticks it.
//
// There are three ways to change a flow, each with its effect on activations
// in flight:
//
//   - A compatible change keeps every crossing an activation may have made
//     (a step after the last point activations wait at, a struct field or a
//     trailing parameter added, which old values decode as zero): they
//     replay and go on under the new code.
//   - flow.Patched(fc, id) keeps the old path for activations that passed
//     the point before the change (their log has no marker) and takes the
//     new one for new activations (which record it). An activation that ran
//     the new path under a build without the patch is recognised by replay,
//     which decides the patch true for it and records the decision. A patch
//     is retired — the call and the old branch deleted — once no activation
//     that could take the old branch is unfinished: markers are passed over.
//   - A new durable name (//flowgen:flow name=shop.FulfilV2) for a rewrite,
//     the old flow kept registered until its activations finish.
//
// Pin each flow's durable name with //flowgen:flow name=…: the default,
// <package>.<Func>, changes when the function or package is renamed, and
// the activations of a name no build registers are left untouched. Start
// logs one summary of what it found (Summary), with a warning naming each
// unregistered flow and how many activations it holds.
//
// The deploy procedure: Admin().Backup writes a consistent snapshot of the
// store while the runtime runs; the replay gate (package verify, or
// flowtest.ReplayStore in a test of the new build) replays every unfinished
// activation of it with the new build, calling no host and writing nothing,
// and lists each one the build would strand; deploy when it passes.
// Admin().Verify runs the same gate in process, on the live store, with this
// build.
//
// # Durability
//
// A result is durable before anything that could depend on it reaches the
// world. Host calls are at least once: a call whose result was not logged
// when the process died is made again with the same idempotency key
// (flow.IdempotencyKey), so a host can make its effect exactly once. That
// holds for a call a flow started as a future and never awaited: the
// activation's outcome is settled only once every call the flow issued has
// come back (their results, which nobody observes, are not logged), so a
// process that dies first leaves the activation unfinished and the next
// incarnation makes the call again, with its key. Log
// appends of concurrent activations share transactions (group commit); see
// the sqlitestore and pgstore packages for what each makes durable when.
// Options.Store runs the runtime on a store opened with options of its own,
// or on another implementation of the store interface.
//
// # Cancellation
//
// Admin().RequestCancel asks an activation to cancel: the vow its flow gets
// from flow.Cancellation is fulfilled with the reason, durably, and the flow
// is woken if it waits for it. The flow races it against its work and undoes
// what it did — live, calling hosts as usual — and its outcome is what it
// returns (errors wrapping flow.ErrCancelled, by convention). A request
// made before the flow looks, or while no process runs, stands; it also
// stands for the activation's later runs, and goes, in the same
// transaction, to the activation's unfinished children and theirs, whose
// flows decide for themselves. Admin().Terminate gives an
// activation up without asking it: its outcome is rejected with
// flow.ErrTerminated and its guest does nothing more.
//
// # Continue-as-new
//
// A flow that runs for years — a subscription renewed monthly, a poller —
// would grow its log, and the time a replay takes, forever. Instead it
// returns the error of the generated Continue<Flow>AsNew with the arguments
// of its next run: the current run ends as a return does (the replay must
// have used up the log, and the calls it issued and never awaited are made),
// and the activation carries on as a fresh run of the flow, in one
// transaction: same id, start key and outcome vow, the new arguments, an
// empty log (ActivationInfo.Run counts the runs). What the run awaited and
// never observed does not carry over by itself: a future belongs to its run
// (flowgen refuses it as an argument), while a vow passed as an argument is
// the same vow in the next run. Signals carry over: messages not yet taken
// wait in the activation's mailboxes, and a receiver the run asked for
// (Signal.Next) and never read is dropped, so the next message goes to the
// next run; but a run whose receiver had taken a message it never read
// would lose it, and its continuation is refused — the activation fails,
// naming the signal. Host calls of later runs have keys of their
// own ("<activation>~<run>/…"). A build upgrade replays only the current
// run, so code that changed since older runs is never asked to reproduce
// them, and a patch (flow.Patched) can be retired once every activation has
// continued past it.
//
// # Retries and timeouts
//
// A host call under a retry policy (flow.RetryPolicy: declared with
// //flowgen:retry and //flowgen:timeout where the host interface is, or set
// with flow.WithRetry) is made again when an attempt fails with an error a
// retry may fix. Each such attempt is logged, with a durable timer for the
// backoff: an activation waiting one out is suspended (unless it has calls
// in flight), and after a restart the next attempt is made when its time
// comes. Each attempt's timeout is its context's deadline. CallInfo.Attempt
// counts the attempts; flow.AttemptKey tells them apart.
//
// # Vows and timers
//
// A vow is a durable promise, settled once. Hosts make them (NewVow), settle
// them (Resolve, Reject) and wait for them (Wait), in any incarnation; flows
// await them. All four are functions of this package taking the runtime and
// a typed flow.Vow (Go methods cannot have type parameters). A vow known only
// by its id is flow.VowOf[T](id); one whose type the program does not know,
// such as an outcome it only displays, is a flow.Vow[codec.Raw], whose value
// is the encoded bytes. flow.After and flow.Sleep make timer vows the runtime
// fulfils when their deadline passes, after a restart too.
//
// # Signals, statuses and children
//
// A flow declares the messages it accepts with flow.Signal[T] parameters
// and the values it publishes with flow.Status[T] parameters; flowgen gives
// its handle typed methods for both, by activation id or start key (ByID,
// ByKey). A send is durable when it returns and is delivered in order, once
// (with an idempotency key, once however often it is sent); it needs no
// Start, so a short-lived program can send to a flow another incarnation
// runs: on PostgreSQL while that one runs, on SQLite (one process at a time)
// the next to open the store. A status is read from the store: no flow code
// runs and nothing is woken. Send and ReadStatus do the same by id, untyped by flowgen.
//
// A flow starts another flow as its child with the generated Child…
// function: the child is an activation of its own, with its own log and its
// own upgrade fate, an id derived from the parent's, and its outcome a vow
// the parent awaits. Admin shows the lineage (ActivationInfo.Parent,
// Admin.Children). Calling a flow's function directly from another flow
// runs it inline, in the caller's log.
//
// # Operating
//
// Admin lists activations newest first (filters by state, flow, build and
// creation time, a cursor per page), finds one by id, outcome vow or start
// key, renders its log as a timeline, and retries, wakes, asks to cancel
// (RequestCancel), terminates and purges. OpenAdmin gives the same, but what
// needs the flows' code (retry, wake), on a store no process holds, for tools;
// package adminhttp is the handler a host mounts to reach a running process
// (the JSON API the asyncflow command speaks, and a web console).
// Options.Retention purges done activations periodically, and
// Options.KeepLogs keeps their logs for audit until then. Options.TracerProvider and MeterProvider report
// runs, host calls, replay failures and the runtime's metrics through
// OpenTelemetry; without them nothing is recorded.
//
// # Errors
//
// Every error names what failed, once per package it crossed ("runtime:
// cancel …: sqlitestore: …"), and wraps one of the sentinels of this package
// or of the store package where one fits; test them with errors.Is. Why an
// activation is stuck is not an error but a diag.Diagnostic, in
// Admin().Failures(), whose Problem programs compare with the kinds in
// package diag.
package runtime
