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
// the code did instead, the source line, and which builds wrote and failed.
// A later build that reproduces the log (flow.Patched helps) unsticks it.
//
// # Durability
//
// A result is durable before anything that could depend on it reaches the
// world. Host calls are at least once: a call whose result was not logged
// when the process died is made again with the same idempotency key
// (flow.IdempotencyKey), so a host can make its effect exactly once. Log
// appends of concurrent activations share transactions (group commit); see
// the sqlitestore and pgstore packages for what each makes durable when.
// Options.Store runs the runtime on a store opened with options of its own,
// or on another implementation of the store interface.
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
// runs. A status is read from the store: no flow code runs and nothing is
// woken. Send and ReadStatus do the same by id, untyped by flowgen.
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
// key, renders its log as a timeline, and retries, wakes, cancels and purges.
// OpenAdmin gives the same on a store no process holds, for tools; package
// adminhttp is the handler a host mounts to reach a running process (the
// JSON API the asyncflow command speaks, and a web console). Options.Retention
// purges done activations periodically, and Options.KeepLogs keeps their logs
// for audit until then. Options.TracerProvider and MeterProvider report
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
