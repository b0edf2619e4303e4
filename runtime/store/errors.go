package store

import "errors"

// The sentinels' texts carry no package prefix: a store wraps them in an
// error that names the store and the operation, such as
// "sqlitestore: open /srv/app.db: corrupt: truncated to 10 bytes".

// ErrLocked is returned when a store is in use: open in another process, or
// already open in this one. The error says which.
var ErrLocked = errors.New("locked")

// ErrNotStore is returned when a database is not an asyncflow store: not a
// database of the expected kind, or one of another application. Such a
// database is never written to.
var ErrNotStore = errors.New("not an asyncflow store")

// ErrCorrupt is returned when a store is damaged: truncated, or holding data
// the store cannot read back.
var ErrCorrupt = errors.New("corrupt")

// ErrNewerSchema is returned when a store was written by a newer version of
// asyncflow, with a schema this build does not know. It is never migrated
// down or written to.
var ErrNewerSchema = errors.New("schema newer than this build")

// ErrClosed is returned by every operation on a closed store.
var ErrClosed = errors.New("closed")

// ErrNotFound is returned when an activation, vow or incarnation does not
// exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable is returned when a store cannot do an operation now but may
// later: its disk is full, an I/O error, its file was made read-only, a lock
// was held too long. Nothing of a failed submission was written, and the same
// submission may be made again.
var ErrUnavailable = errors.New("unavailable")

// ErrRefused is returned when a store refuses a submission for good: a value
// over the store's size limit, or a write that breaks a constraint (a step
// the log holds already, a vow id that exists). Nothing of it was written,
// and submitting it again fails again.
var ErrRefused = errors.New("refused")

// ErrFenced is returned by a shared store for a write about an activation
// that this handle does not own while another does — another process took it
// over, or this handle's lease lapsed and was taken over. The write has no
// effect. A run that gets it ends, recording nothing, like one cut short by
// a shutdown: the activation runs on elsewhere.
var ErrFenced = errors.New("fenced: the activation belongs to another process")

// ErrReadOnly is returned by every write to a store opened for reading
// only (sqlitestore.OpenReadOnly, pgstore.OpenReadOnly).
var ErrReadOnly = errors.New("opened read-only")

// ErrNeedsMigration is returned when a store of an older schema is opened
// for reading only: reading it as it is would need migrating it first,
// which a process that opens it for writing does.
var ErrNeedsMigration = errors.New("older schema")
