// Package sqlitestore is the store on embedded SQLite (modernc.org/sqlite,
// pure Go, no cgo): the runtime's default, opened by runtime.Open on a file
// path. It implements store.Store and passes the storetest suite.
//
// # Durability and group commit
//
// One connection writes. Submissions made by concurrent activations while
// a commit is under way are gathered by a committer goroutine and written
// together in the next transaction; each submitter is released when the
// transaction holding its ops is durable. Nothing waits for a batch to
// fill, so a lone activation pays one commit per step and no more, and a
// submission that finds nothing else in flight is committed on its
// submitter's goroutine, without waking the committer. Only the submitters a
// commit has just released are waited for, briefly: the next transaction
// begins once as many submissions are in as that commit released, or a
// quarter of its time (at most 500µs) after it, whichever is first. So a
// start issued just after the one before returns shares a transaction with
// the steps of the flows already running, instead of waiting for one of
// theirs and then its own; a submission that finds the writer idle for
// longer than that never waits. If a shared transaction fails, each of its
// submissions is applied again alone, so only the one at fault fails.
// With [SyncFull] (the default) every commit is fsync'd
// (synchronous=FULL in WAL mode) and survives power loss; [SyncNormal]
// (synchronous=NORMAL) survives a crash of the process but may lose the last
// commits on power loss or an operating system crash, in exchange for fewer
// fsyncs.
//
// # Safety
//
// A store is opened by one process at a time: Open takes an exclusive lock on
// the file (flock on Unix) and a second process gets store.ErrLocked; so does
// a second Open of a store already open in the same process, with an error
// that says so. A file that is not a store — not SQLite, or SQLite with
// another application_id, or an unmarked SQLite database that already holds
// tables — is refused with store.ErrNotStore and never written. A store
// written by a newer schema gives store.ErrNewerSchema.
//
// Before anything is written, and so before SQLite could run anything the
// file holds, Open checks read-only that the schema is the one the
// migrations made — the same tables and indexes, no trigger, no view — and
// refuses any other with store.ErrCorrupt; connections run with
// trusted_schema off besides. A store the last process did not close (its
// WAL is still there) gets SQLite's quick_check. That is also how a store
// torn by a checkpoint opens: killed after writing page 1 but before the file
// has grown, a checkpoint leaves the file shorter than its header says, with
// the pages in the WAL; SQLite finishes it and the check confirms it. A file
// cut short with no WAL to finish it is refused with store.ErrCorrupt,
// untouched. Every store opened is checked and migrated with the numbered
// scripts in schema/, in one transaction.
//
// A listing leaves out a row it cannot read back, reporting it through the
// logger, and goes on.
//
// The payloads of a log Log returns share a few buffers of 32 KiB (a replay
// reads thousands of small ones): whoever keeps one long after the rest
// keeps its buffer, and should copy it.
//
// # History
//
// Activations are listed from indexes that end in (created_ns, id), so a
// page walks what it lists and no more. Done activations are in one for
// each way in — by creation, flow, or creating incarnation (a build's
// incarnations are merged term by term); unfinished ones are in one index
// only, by state and flow, which a listing merges flow by flow, and which
// also serves the census and revival. A start so writes the activation's
// row, that one index entry and its outcome vow, and the history indexes
// are written when it finishes. INDEXED BY fixes each query's index, and a
// test holds every listing to it with EXPLAIN QUERY PLAN. Start keys,
// parents and finish times (for purging) have indexes of their own; an
// outcome vow's row names its activation.
package sqlitestore
