// Package pgstore is the store on PostgreSQL, through pgx: runtime.Open
// opens it when given a postgres:// (or postgresql://) URL instead of a file
// path. It implements store.Store and passes the storetest suite.
//
// # Schema
//
// The store lives in a PostgreSQL schema of its own, asyncflow unless
// Options.Schema names another, so it can share a database with the
// application's tables. Open creates the schema if it does not exist, or
// finds it empty, and brings it up to date with the numbered scripts in
// schema/, in one transaction, under an advisory lock so that processes
// opening one store at once migrate it once. It checks first, reading
// only: a schema that holds objects without the store's mark (its store_meta
// row), or another application's mark, is refused with store.ErrNotStore, and
// one written by a newer version of asyncflow with store.ErrNewerSchema;
// neither is ever written to. The role needs the right to create the schema,
// or a schema created for it.
//
// # Group commit and durability
//
// One goroutine owns the connection that writes. Submissions made by
// concurrent activations while a transaction is on its way are gathered and
// written together in the next one, sent as one pipeline in one round trip
// (consecutive log appends as one statement), and each submitter is released
// when the transaction holding its ops has committed. Nothing waits for a
// batch to fill, so a lone activation pays one round trip and one commit per
// step and no more. If the server refuses a shared transaction, each of its
// submissions is applied again alone, so only the one at fault fails.
//
// A submission is durable when its Pending is released without an error:
// the committing session runs with synchronous_commit on (set so if the
// server's default is off), so the commit has reached the server's WAL on
// disk, and whatever synchronous replication the server is configured with.
// If the connection is lost while a transaction is on its way — the server
// restarts, or the network between the process and the server fails — the
// submissions in it are released with an error and may or may not have
// committed; they are never applied a second time. The committer connects
// again for the next ones. An activation whose write failed stops, as after
// a crash, and is replayed from what is durable when it is next revived.
// Reads that lose their connection are made again on another.
package pgstore
