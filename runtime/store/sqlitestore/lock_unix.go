//go:build unix

package sqlitestore

import (
	"errors"
	"os"
	"syscall"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// lockFile takes an exclusive, non-blocking lock on f. The lock is an flock(2)
// lock, independent of the POSIX record locks SQLite takes, and is released
// by the kernel when the process dies.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return store.ErrLocked
		default:
			return err
		}
	}
}

func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// lockShared takes a shared, non-blocking lock on f: readers share it, and
// it keeps a writer's lock off.
func lockShared(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return store.ErrLocked
		default:
			return err
		}
	}
}

func openForReading(path string) (*os.File, error) { return os.Open(path) }
