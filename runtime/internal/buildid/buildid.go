// Package buildid names the running build, for the store and for diagnostics.
package buildid

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
)

// ID identifies the running build: the VCS revision the binary was built
// from, if recorded, and a hash of the executable, so two builds of one
// checkout are told apart.
func ID() string {
	var rev, dirty string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	sum := exeHash()
	switch {
	case rev != "" && sum != "":
		return rev + dirty + "+" + sum
	case rev != "":
		return rev + dirty
	case sum != "":
		return "exe-" + sum
	}
	return "unknown"
}

func exeHash() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
