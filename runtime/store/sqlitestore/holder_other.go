//go:build !linux

package sqlitestore

import "os"

// holder is 0 where the system does not say which process holds a lock.
func holder(*os.File) int { return 0 }
