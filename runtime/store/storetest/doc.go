// Package storetest is the conformance suite every store.Store
// implementation passes. An implementation's tests call [Run]:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, openEmpty, reopenSameData)
//	}
//
// The suite checks every operation of the interface and its error cases, as
// the store package documents them: the order of submissions, atomic
// submissions, a failing submission that leaves the rest of its group commit
// alone, vows settled once, timers, activation states, waits, listings
// (filters, order, paging, counts), lookups by start key and outcome, the
// times activations carry, logs kept for audit and purging, mailboxes
// (messages in order, taken once, idempotency keys), published statuses,
// parents and children, what a store reads back after it is reopened, and
// Close. It asks
// nothing that only one implementation could give: no timing, no file
// layout, no order the interface leaves open.
//
// open gives each case a new, empty store; reopen gives it a new store on the
// data of one it has closed — for SQLite the same file, for a database server
// the same database or schema, which the implementation can keep in its store
// value or in a map keyed by it. A case that needs to reopen closes the store
// first, as a host program's next incarnation would find it.
package storetest
