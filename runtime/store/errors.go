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
