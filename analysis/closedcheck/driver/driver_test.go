package driver_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck/driver"
	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

const lib = `package lib

import (
	"strings"
	"time"
)

func Clean(s string) string { return strings.TrimSpace(s) }

func Stamp(s string) string { return s + time.Now().String() }
`

const flows = `package f

import (
	"example.com/d/lib"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Tidy(fc flow.Context, s string) string { return lib.Clean(s) }

//flowgen:flow
func Stamped(fc flow.Context, s string) string { return lib.Stamp(s) }
`

// TestReachedPackagesAreAnalysed: a package the patterns do not name, but
// a flow reaches, is analysed from source in another round, so the
// verdicts do not stop at "its package was not analysed".
func TestReachedPackagesAreAnalysed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	mod := testmod.Write(t, "example.com/d", "", map[string]string{"lib/lib.go": lib, "f/f.go": flows})
	var stdout, stderr bytes.Buffer
	code := driver.Run([]string{"./f"}, driver.Options{Dir: mod}, &stdout, &stderr)
	out := stderr.String()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "flow Stamped is not closed: Stamped → lib.Stamp → time.Now: reads the wall clock")
	assert.NotContains(t, out, "Tidy")
	assert.NotContains(t, out, "not analysed")
	assert.NotContains(t, out, "lib/lib.go:10:47: ", "only the packages named are reported")
}

// TestIntermediatesAreNamed: a package between two packages named is
// loaded from source with its function bodies unchecked; the driver names
// it too, so the flows that reach it get its real verdict.
func TestIntermediatesAreNamed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	files := map[string]string{
		"bottom/bottom.go": "package bottom\n\nfunc Tag(s string) string { return s + \"!\" }\n",
		"mid/mid.go": `package mid

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"example.com/d/bottom"
)

func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return bottom.Tag(hex.EncodeToString(sum[0:4]) + time.Now().String())
}
`,
		"top/top.go": `package top

import (
	"example.com/d/mid"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Sign(fc flow.Context, s string) string { return mid.Digest(s) }
`,
	}
	mod := testmod.Write(t, "example.com/d", "", files)
	var stdout, stderr bytes.Buffer
	code := driver.Run([]string{"./top", "./bottom"}, driver.Options{Dir: mod}, &stdout, &stderr)
	out := stderr.String()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "flow Sign is not closed: Sign → mid.Digest → time.Now: reads the wall clock")
	assert.NotContains(t, out, "not type-checked")
	assert.NotContains(t, out, "internal error")
}

// TestReachedPackagesWithoutTheirTests: a package loaded because a flow
// reaches it is loaded without its tests, which are not the program's
// (here they import a package that does not exist).
func TestReachedPackagesWithoutTheirTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	mod := testmod.Write(t, "example.com/d", "", map[string]string{
		"lib/lib.go":      lib,
		"lib/lib_test.go": "package lib\n\nimport _ \"example.com/d/nothere\"\n",
		"f/f.go":          flows,
	})
	var stdout, stderr bytes.Buffer
	code := driver.Run([]string{"./f"}, driver.Options{Dir: mod, Tests: true}, &stdout, &stderr)
	out := stderr.String()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "flow Stamped is not closed: Stamped → lib.Stamp → time.Now: reads the wall clock")
	assert.NotContains(t, out, "nothere")
}

// TestStandardLibraryIsNotLoaded: the table judges the standard library,
// so naming it (std, or a package of it beside others) loads nothing of it
// from source.
func TestStandardLibraryIsNotLoaded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	mod := testmod.Write(t, "example.com/d", "", map[string]string{"lib/lib.go": lib, "f/f.go": flows})
	var stdout, stderr bytes.Buffer
	code := driver.Run([]string{"std"}, driver.Options{Dir: mod}, &stdout, &stderr)
	assert.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stderr.String(), "only packages of the standard library are named")

	stderr.Reset()
	code = driver.Run([]string{"strings", "net/http", "example.com/d/f"}, driver.Options{Dir: mod}, &stdout, &stderr)
	assert.Equal(t, 1, code, stderr.String())
	assert.Contains(t, stderr.String(), "flow Stamped is not closed: Stamped → lib.Stamp → time.Now")
}
