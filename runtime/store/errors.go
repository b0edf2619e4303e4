package store

import "errors"

// ErrLocked is returned when another process has the store open.
var ErrLocked = errors.New("store: in use by another process")

// ErrNotStore is returned when a file is not an asyncflow store: not a SQLite
// database, or a SQLite database of another application. Such a file is
// never written to.
var ErrNotStore = errors.New("store: not an asyncflow store")

// ErrCorrupt is returned when a store is damaged: truncated, or with pages or
// rows SQLite or this package cannot read.
var ErrCorrupt = errors.New("store: corrupt")

// ErrNewerSchema is returned when a store was written by a newer version of
// asyncflow, with a schema this build does not know. It is never migrated
// down or written to.
var ErrNewerSchema = errors.New("store: schema newer than this build")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("store: closed")

// ErrNotFound is returned when an activation or vow does not exist.
var ErrNotFound = errors.New("store: not found")
