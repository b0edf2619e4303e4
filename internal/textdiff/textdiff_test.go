package textdiff

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnified(t *testing.T) {
	assert.Empty(t, Unified("a", "b", "x\ny\n", "x\ny\n"))
	want := strings.Join([]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, "\n")
	got := strings.Join([]string{"1", "2", "3", "4", "five", "6", "7", "8", "9", "10", "11"}, "\n")
	d := Unified("want", "got", want, got)
	assert.Equal(t, "--- want\n+++ got\n@@ -2 +2 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+11\n", d)
	long := strings.Repeat("x\n", 20)
	d = Unified("want", "got", "a\n"+long+"b\n", "A\n"+long+"B\n")
	assert.Equal(t, "--- want\n+++ got\n@@ -1 +1 @@\n-a\n+A\n x\n x\n x\n@@ -19 +19 @@\n x\n x\n x\n-b\n+B\n", d)
}
