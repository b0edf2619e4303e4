//go:build linux

package smallfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Required is the environment variable that makes a test that cannot mount
// fail instead of skipping; .ci/run sets it.
const Required = "ASYNCFLOW_TEST_SMALLFS_REQUIRED"

// skip skips the test, or fails it where mounting is required.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(Required) != "" {
		t.Fatalf(format+" ("+Required+" is set)", args...)
	}
	t.Skipf(format, args...)
}

// Mount mounts a tmpfs of size bytes on a new directory and returns the
// directory. It is unmounted when the test ends.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "smallfs: mounting a small file system needs root; run as root (as .ci/run does) to run this test")
	}
	dir, err := os.MkdirTemp("", "asyncflow-smallfs-")
	if err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("size=%d,mode=0755", size)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "asyncflow-smallfs", dir).CombinedOutput(); err != nil {
		_ = os.Remove(dir)
		skip(t, "smallfs: cannot mount a tmpfs here (%v: %s); this test needs a real full file system", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("smallfs: umount %s: %v: %s", dir, err, out)
			return
		}
		_ = os.Remove(dir)
	})
	return dir
}

// Free returns the bytes free on the file system holding dir.
func Free(t testing.TB, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// Fill writes a ballast file in dir until the file system is full but for
// leave bytes, and returns its path: removing it gives the space back.
func Fill(t testing.TB, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		n := Free(t, dir) - leave
		if n <= 0 {
			return path
		}
		if n < int64(len(chunk)) {
			chunk = chunk[:n]
		}
		if _, err := f.Write(chunk); err != nil {
			return path // full
		}
	}
}
