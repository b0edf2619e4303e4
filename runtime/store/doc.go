// Package store defines what the runtime needs of a durable log store:
// activations, their logs, vows, waits, timers and incarnations, the
// mailboxes of messages sent to activations, what activations published,
// and which activation started which, behind the [Store] interface. It holds the interface and its types only; the
// implementations live in their own packages — sqlitestore (embedded SQLite,
// the default) and pgstore (PostgreSQL) — and every one of them passes the
// conformance suite in storetest. A store that several processes share
// implements [Shared] as well: ownership of activations, fencing, and the
// events that cross between processes (storetest.RunShared checks it).
//
// # Writes
//
// Every write is an [Op]: plain data, applied by the store in a transaction,
// which fills in the op's results (whether a vow was settled, which
// activations it woke, …). The set of ops is closed: an implementation
// handles each of them. [Store.Submit] queues a submission — one or more ops —
// and returns at once; the [Pending] it returns is released when the
// submission is durable, or has failed. A store must:
//
//   - apply submissions in the order they were submitted, and the ops of one
//     submission in their order;
//   - apply a submission atomically: if one of its ops fails, none of them
//     has any effect, and its Pending reports the error;
//   - keep submissions apart: a failing submission never fails another, even
//     one that shared its transaction (group commit);
//   - fill in an op's results before releasing its Pending, and only then.
//
// An implementation builds a Pending with [NewPending] for each submission
// and releases it with [Pending.Complete].
//
// # Reads
//
// Reads see every submission whose Pending has been released. Ids are
// compared as bytes, in the order of [bytes.Compare]. Listings are newest
// first — by creation time, then id, both descending — and are served from
// indexes: a page costs what it lists, however many activations the store
// holds (a done activation is kept until purged). A listing (Activations,
// Revivable) does not fail as a whole for one row the store cannot read
// back: it reports the row (through its logger) and leaves it out;
// Activations fills its page with readable rows.
//
// # Times
//
// Ops carry the times they happen at, from the writer's clock: an
// activation's creation, the change to its state, its finish, each log
// entry. A store keeps them to the nanosecond and derives when, and by
// which incarnation, an activation was last written.
//
// # Errors
//
// Errors are wrapped around the sentinels of this package where one fits, so
// callers test them with errors.Is: [ErrNotFound] for a missing activation,
// vow or incarnation, [ErrClosed] for any operation on a closed store,
// [ErrCorrupt] for data the store cannot read back, [ErrFenced] for a write a
// shared store refuses because another process owns the activation, and
// [ErrLocked], [ErrNotStore] and [ErrNewerSchema] when a store cannot be
// opened. A failed submission says whether to try it again: [ErrUnavailable]
// when the store cannot write now (disk full, I/O) but may later,
// [ErrRefused] when it refuses the submission for good (too big, a
// constraint).
package store
