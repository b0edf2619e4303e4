// Package testmod writes throwaway Go modules for tests: a module that
// requires asyncflow, replaced by the working tree, with the working tree's
// go.sum, so the go command needs no network.
package testmod

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the asyncflow working tree, found from dir upwards.
func Root(tb testing.TB, dir string) string {
	tb.Helper()
	d, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/asyncflow-go/asyncflow\n") {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			tb.Fatal("testmod: no asyncflow module above " + dir)
		}
		d = parent
	}
}

// Write creates, in a new temporary directory, a module named path whose
// go.mod adds the lines in extra (a tool directive, say), and the given
// files (relative paths), and returns the directory.
func Write(tb testing.TB, path string, extra string, files map[string]string) string {
	tb.Helper()
	root := Root(tb, ".")
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		tb.Fatal(err)
	}
	// The same go version as asyncflow's, which a module using it must not
	// be below.
	goLine := "go 1.26.0"
	for _, l := range strings.Split(string(mod), "\n") {
		if strings.HasPrefix(l, "go ") {
			goLine = l
		}
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	all := map[string]string{
		"go.mod": fmt.Sprintf("module %s\n\n%s\n\nrequire github.com/asyncflow-go/asyncflow v0.0.0\n\n%sreplace github.com/asyncflow-go/asyncflow => %s\n", path, goLine, extra, root),
		"go.sum": string(sum),
	}
	for name, data := range files {
		all[name] = data
	}
	for name, data := range all {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
