//go:build !unix && !windows

package sqlitestore

import "os"

// On platforms without a file lock the one-process rule is not enforced.
func lockFile(*os.File) error   { return nil }
func unlockFile(*os.File) error { return nil }
func lockShared(*os.File) error { return nil }

func openForReading(path string) (*os.File, error) { return os.Open(path) }
