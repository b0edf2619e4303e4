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
