// Package pgstore is the store on PostgreSQL, through pgx: runtime.Open
// opens it when given a postgres:// (or postgresql://) URL instead of a file
// path. It implements store.Store and store.Shared — several host processes
// share one population of flows — and passes the storetest suites, Run and
// RunShared.
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
// One connection writes. Submissions made by concurrent activations while
// a transaction is on its way are gathered by a committer goroutine and
// written together in the next one, sent as one pipeline in one round trip
// (consecutive log appends as one statement), and each submitter is released
// when the transaction holding its ops has committed. Nothing waits for a
// batch to fill, so a lone activation pays one round trip and one commit per
// step and no more; a submission that finds nothing else in flight is
// committed on its submitter's goroutine, without waking the committer. If the server refuses a shared transaction, each of its
// submissions is applied again alone, so only the one at fault fails.
//
// The runtime's calls that write — Start and StartWithID, Resolve and
// Reject, a signal's send, Admin's writes — return once their submission is
// released, so when one returns without an error what it wrote is durable,
// as below; and a flow's next host call waits until what it logged before it
// is durable.
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
//
// # Several processes
//
// Each handle (one per process) is a member of the store with a lease,
// Options.Lease (10s by default), renewed every quarter of it. An unfinished
// activation is run by its owner only: the handle that created it or claimed
// it, until the run ends and the runtime releases it. Every write about an
// activation — append, watch, state, finish — is fenced: its transaction
// takes the writer's member lock (a shared advisory lock, held in the
// server's memory and never written) and then checks the member's epoch,
// and the activation must be the writer's at that epoch, or no one's.
// Whatever fences a member takes its lock exclusively first. When a member's lease
// lapses, the next handle that needs what it owned (Adopt, every
// Options.Poll, 1s by default; or Claim, by whoever wakes one of its
// activations) fences it: it bumps the member's epoch, after the member's
// transaction in flight if there is one, and takes over. So a running
// activation of a process killed with -9 runs elsewhere about a lease and a
// poll later. A process that stopped mid-transaction (SIGSTOP, a frozen VM)
// has its sessions ended, so they hold no locks; one left idle in a
// transaction longer than a lease is ended by the server
// (idle_in_transaction_session_timeout).
//
// A fenced process that goes on writes nothing: each write fails with
// store.ErrFenced, and so does everything it submitted before it noticed.
// It learns it was fenced when it next renews its lease; the runtime then
// stops every run it held and rejoins with a new lease (Rejoin), and only
// then writes again, for what it claims anew.
//
// Settlements reach the process that owns a waiting activation through
// LISTEN/NOTIFY on a channel named after the schema: a settlement in one
// transaction is announced when that transaction commits, with the owner of
// each waiter; every process hears it too, for host code waiting on the vow.
// Whoever settles a vow claims the waiters no live process owns, and runs
// them. If the listening connection is lost, the next poll says events may
// have been missed, and the runtime looks again at what waits. Timers fire
// in any process (FOR UPDATE SKIP LOCKED), each once.
//
// A process that cannot replay an activation records the failure for its
// build (Options.Build): processes of that build leave it alone, and a
// process of another build adopts it. That is a rolling deploy: old and new
// builds side by side, each activation finishing on a build that can run it.
// Admin().Retry on a process of the failed build forgets the failure.
//
// A network partition between a process and the database is a stop of that
// process as far as the others are concerned: its writes fail (its runs
// stop, as after a crash), its lease lapses and the others take over what it
// ran. When the partition heals it is fenced as above. Host calls it made
// whose results were never logged are made again elsewhere with the same
// idempotency keys, as after a crash.
//
// The role needs, besides the schema: LISTEN and NOTIFY, and
// pg_terminate_backend on the store's own sessions (same role), to end those
// of a process that stopped mid-transaction.
//
// # Reading only, snapshots and the replay gate
//
// OpenReadOnly opens a store for the operators' tools and the replay gate
// (runtime.OpenAdmin without Write opens a postgres:// URL so): it joins no
// lease, runs nothing in the background, migrates nothing, and its sessions
// are read-only, so the server refuses any write.
// Each of its reads sees what was committed when it began.
//
// Backup (store.Backuper, behind runtime's Admin().Backup and the operators'
// backup command) writes one consistent view of the store to a SQLite store
// file: it reads every table in one REPEATABLE READ, READ ONLY transaction,
// so the copy holds every submission released before it began and none
// after, while writes go on. The copy is what the gate replays before a
// deploy (verify.ReplayFile, flowtest.ReplayStore), whichever store the
// processes run on, and a store a runtime can open. Which process owns what
// and the failures recorded per build are not copied.
package pgstore
