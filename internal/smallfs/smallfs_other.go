//go:build !linux

package smallfs

import "testing"

// Mount skips the test: small file systems are mounted on Linux only.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	t.Skip("smallfs: a small file system is mounted on Linux only (tmpfs)")
	return ""
}

// Free skips the test; see Mount.
func Free(t testing.TB, dir string) int64 {
	t.Helper()
	t.Skip("smallfs: Linux only")
	return 0
}

// Fill skips the test; see Mount.
func Fill(t testing.TB, dir string, leave int64) string {
	t.Helper()
	t.Skip("smallfs: Linux only")
	return ""
}
