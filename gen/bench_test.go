package gen_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/asyncflow-go/asyncflow/gen"
	"github.com/asyncflow-go/asyncflow/internal/testmod"
)

// bigPackage writes a module whose package has 5 host interfaces of 10
// methods each and 20 flows.
func bigPackage(b *testing.B) string {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("package big\n\nimport (\n\t\"context\"\n\t\"time\"\n\n\t\"github.com/asyncflow-go/asyncflow/flow\"\n)\n\ntype Rec struct {\n\tName string\n\tAt time.Time\n\tTags []string\n\tN map[string]int\n}\n\n")
	for i := range 5 {
		fmt.Fprintf(&sb, "//flowgen:host\ntype Svc%d interface {\n", i)
		for j := range 10 {
			fmt.Fprintf(&sb, "\tM%d(ctx context.Context, a string, b int64, r Rec, v flow.Vow[int]) (*Rec, error)\n", j)
		}
		sb.WriteString("}\n\n")
	}
	for i := range 20 {
		fmt.Fprintf(&sb, "//flowgen:flow\nfunc F%d(fc flow.Context, s Svc%d, a string, r Rec) (*Rec, error) {\n\treturn s.M%d(fc, a, %d, r, flow.Vow[int]{})\n}\n\n", i, i%5, i%10, i)
	}
	return testmod.Write(b, "example.com/big", "", map[string]string{"big/big.go": sb.String()})
}

// BenchmarkGenerate generates for a package with 50 host methods and 20
// flows, loading included (go list and type checking).
func BenchmarkGenerate(b *testing.B) {
	dir := bigPackage(b)
	ctx := context.Background()
	for b.Loop() {
		files, err := gen.Generate(ctx, gen.Config{Dir: dir, Patterns: []string{"./big"}})
		if err != nil || len(files) != 1 {
			b.Fatal(len(files), err)
		}
	}
}
