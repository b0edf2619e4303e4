//go:build windows

package sqlitestore

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// lockOffset is far past any byte SQLite locks, so this lock never conflicts
// with SQLite's own.
const lockOffset uint64 = 1 << 62

// lockRange is the byte at lockOffset.
func lockRange() *windows.Overlapped {
	off := lockOffset
	return &windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
}

func lockFile(f *os.File) error {
	ol := lockRange()
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return store.ErrLocked
	}
	return err
}

func unlockFile(f *os.File) error {
	ol := lockRange()
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}

// lockShared takes a shared lock on the byte lockFile locks exclusively.
func lockShared(f *os.File) error {
	ol := lockRange()
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return store.ErrLocked
	}
	return err
}

// openForReading opens with read access only; the lock needs no more.
func openForReading(path string) (*os.File, error) { return os.Open(path) }
