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
const lockOffset = 1 << 62

func lockFile(f *os.File) error {
	ol := &windows.Overlapped{Offset: uint32(lockOffset), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return store.ErrLocked
	}
	return err
}

func unlockFile(f *os.File) error {
	ol := &windows.Overlapped{Offset: uint32(lockOffset), OffsetHigh: uint32(lockOffset >> 32)}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}
