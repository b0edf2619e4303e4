package directive

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	src := `package p

// Ledger moves money.
//flowgen:host name=bank.Ledger
type Ledger interface{}

// Pay pays.
//
//flowgen:flow
//flowgen:
// flowgen:flow
//flowgen:flowx a b=c
func Pay() {}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	require.NoError(t, err)
	gd := f.Decls[0].(*ast.GenDecl)
	ts := gd.Specs[0].(*ast.TypeSpec)
	host, ok := Find(TypeDoc(gd, ts), VerbHost)
	require.True(t, ok)
	name, ok := host.Option("name")
	assert.True(t, ok)
	assert.Equal(t, "bank.Ledger", name)

	fd := f.Decls[1].(*ast.FuncDecl)
	ds := InDoc(fd.Doc)
	require.Len(t, ds, 3)
	assert.Equal(t, VerbFlow, ds[0].Verb)
	assert.Equal(t, "", ds[1].Verb)
	assert.Equal(t, "flowx", ds[2].Verb)
	assert.Equal(t, []string{"a", "b=c"}, ds[2].Options)
	_, ok = ds[2].Option("a")
	assert.False(t, ok, "a bare word is not key=value")
	assert.True(t, Has(fd.Doc, VerbFlow))
	assert.False(t, Has(fd.Doc, VerbHost))

	assert.True(t, Misspelled("// flowgen:flow"))
	assert.True(t, Misspelled("//\tflowgen:host name=x"))
	assert.False(t, Misspelled("//flowgen:flow"))
	assert.False(t, Misspelled("// a flowgen:flow in prose"))
}

func TestIgnoreReason(t *testing.T) {
	for text, want := range map[string]struct {
		reason string
		ok     bool
	}{
		"//closedcheck:ignore":                      {"", true},
		"//closedcheck:ignore   ":                   {"", true},
		"//closedcheck:ignore logs only":            {"logs only", true},
		"//closedcheck:ignore cached // and more":   {"cached", true},
		"//closedcheck:ignored":                     {"", false},
		"// closedcheck:ignore with a space before": {"", false},
	} {
		reason, ok := IgnoreReason(text)
		assert.Equal(t, want.ok, ok, text)
		assert.Equal(t, want.reason, reason, text)
	}
}

func TestIsGenerated(t *testing.T) {
	assert.True(t, IsGenerated("/a/b/flowgen_gen.go"))
	assert.False(t, IsGenerated("/a/flowgen/b.go"), "a folder named flowgen is not the generated file")
	assert.False(t, IsGenerated("myflowgen_gen.go"))
}
