// Command closedcheck proves that asyncflow flows are closed. Run it on its
// own (closedcheck ./...) or as go vet -vettool=$(which closedcheck) ./...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
)

func main() { singlechecker.Main(closedcheck.Analyzer) }
