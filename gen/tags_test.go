package gen_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/gen"
)

// TestBuildTags: files behind a build tag count only when the tag is given.
func TestBuildTags(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a module")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goLine := "go 1.26.0"
	for _, l := range strings.Split(string(mod), "\n") {
		if strings.HasPrefix(l, "go ") {
			goLine = l
		}
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	files := map[string]string{
		"go.mod":   fmt.Sprintf("module example.com/tags\n\n%s\n\nrequire github.com/asyncflow-go/asyncflow v0.0.0\n\nreplace github.com/asyncflow-go/asyncflow => %s\n", goLine, root),
		"go.sum":   string(sum),
		"p/p.go":   "package p\n\nimport \"context\"\n\n//flowgen:host\ntype Always interface {\n\tA(ctx context.Context) error\n}\n",
		"p/pro.go": "//go:build pro\n\npackage p\n\nimport \"context\"\n\n//flowgen:host\ntype Pro interface {\n\tB(ctx context.Context) error\n}\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	plain, err := gen.Generate(context.Background(), gen.Config{Dir: dir, Patterns: []string{"./p"}})
	require.NoError(t, err)
	require.Len(t, plain, 1)
	assert.Contains(t, string(plain[0].Content), "func AlwaysRef(")
	assert.NotContains(t, string(plain[0].Content), "func ProRef(")

	tagged, err := gen.Generate(context.Background(), gen.Config{Dir: dir, Patterns: []string{"./p"}, Tags: []string{"pro"}})
	require.NoError(t, err)
	require.Len(t, tagged, 1)
	assert.Contains(t, string(tagged[0].Content), "func ProRef(")
}
