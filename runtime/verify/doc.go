// Package verify is the replay gate: before a new build is deployed, it
// replays every unfinished activation of a store — running, suspended and
// failed alike — against the build's flows, calling no host and writing
// nothing, and reports for each whether the build reproduces its log, where
// and why it would be stuck, whether its flow is registered at all, and
// whether its stored arguments still decode.
//
// Deploying a build that does not reproduce a log is harmless — the
// activation is stuck, with a diagnostic, until a build that does is
// deployed — but it is found only once the build runs, and only when what
// the activation waits for settles, possibly days later. The gate finds it
// before.
//
// # The deploy procedure
//
//  1. Snapshot the live store while it runs: rt.Admin().Backup(ctx,
//     "snapshot.db") writes a consistent copy (SQLite's VACUUM INTO); the
//     runtime holds the store's lock, so the gate never reads the live file.
//  2. Run the gate with the new build against the snapshot: in a test of
//     the new build (flowtest.ReplayStore), so CI fails on a divergence, or
//     with ReplayFile in a command. It fails on every activation the build
//     would strand, each with its full diagnostic.
//  3. Deploy when it passes. If it fails, change the build: keep the old
//     path for old activations with flow.Patched, give a rewrite a new flow
//     name, or decide the listed activations may stay stuck (and cancel
//     them).
//
// In code, with the flows and services registered by one function of a
// runtime.Registry, as the host program does at start:
//
//	rep, err := verify.ReplayFile(ctx, "snapshot.db", register, verify.Options{})
//	if err != nil { … }       // the snapshot cannot be read
//	if !rep.OK() {
//		fmt.Print(rep)        // every problem, with its diagnostic
//	}
//
// Replay takes any store.Store — the SQLite snapshot opened read-only, or a
// PostgreSQL store opened with pgstore.OpenReadOnly — and only lists
// activations and reads logs. On PostgreSQL, Admin().Backup writes the
// SQLite snapshot from one transaction, so the same ReplayFile gates a
// deploy there; replayed straight on the database, each activation is read
// as it stands when the gate reaches it.
//
// # What the gate says about patches
//
// An activation without a marker for a flow.Patched id whose old branch does
// not reproduce its log, but whose new branch does, replays: replay decides
// the id true, as a runtime would (Report.Decided lists them). A build that
// removes a patch replays every activation that went down the patched path
// (the marker is passed over) and reports as stuck every one that would take
// the old branch: the patch may be removed once the gate, run with the build
// without it, passes.
//
// # Cost
//
// Replay reads each activation's log once and replays it with the flow's
// code, Workers at a time; memory does not grow with the number of
// activations (only problems are kept). bench/gate measures it.
package verify
