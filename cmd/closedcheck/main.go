// Command closedcheck proves that asyncflow flows are closed. Run it on its
// own (closedcheck ./...) or as go vet -vettool=$(which closedcheck) ./...
//
// As go vet's tool it is singlechecker's unit checker. On its own it loads
// the packages named from source and their dependencies from export data
// (see analysis/closedcheck/driver), and prints and exits as go vet does:
// paths relative to the current directory, status 1 when a flow is not
// closed.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/asyncflow-go/asyncflow/analysis/closedcheck"
	"github.com/asyncflow-go/asyncflow/analysis/closedcheck/driver"
)

func main() {
	if vetProtocol(os.Args[1:]) {
		singlechecker.Main(closedcheck.Analyzer)
		return
	}
	opts := driver.Options{}
	fs := flag.NewFlagSet("closedcheck", flag.ExitOnError)
	fs.BoolVar(&opts.JSON, "json", false, "print diagnostics as go vet's JSON (exit status 0)")
	fs.BoolVar(&opts.Fix, "fix", false, "apply the suggested fixes")
	fs.BoolVar(&opts.Tests, "test", true, "analyse test files too")
	tags := fs.String("tags", "", "comma-separated build tags")
	fs.Func("allow", "comma-separated functions (types.Func.FullName) to treat as closed", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				opts.Config.Allow = append(opts.Config.Allow, f)
			}
		}
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage: closedcheck [-flag] [package]\n\nFlags:\n", strings.SplitN(closedcheck.Doc, "\n", 2)[0])
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if *tags != "" {
		opts.Tags = strings.Split(*tags, ",")
	}
	if fs.NArg() == 0 {
		fs.Usage()
		os.Exit(1)
	}
	os.Exit(driver.Run(fs.Args(), opts, os.Stdout, os.Stderr))
}

// vetProtocol reports whether go vet runs the command: it asks for its
// version (-V=full) and flags (-flags), then runs it on a .cfg file.
func vetProtocol(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-V") || a == "-flags" || strings.HasSuffix(a, ".cfg") {
			return true
		}
	}
	return false
}
