package gen_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/gen"
	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

// TestBuildTags: files behind a build tag count only when the tag is given.
func TestBuildTags(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a module")
	}
	dir := testmod.Write(t, "example.com/tags", "", map[string]string{
		"p/p.go":   "package p\n\nimport \"context\"\n\n//flowgen:host\ntype Always interface {\n\tA(ctx context.Context) error\n}\n",
		"p/pro.go": "//go:build pro\n\npackage p\n\nimport \"context\"\n\n//flowgen:host\ntype Pro interface {\n\tB(ctx context.Context) error\n}\n",
	})
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
