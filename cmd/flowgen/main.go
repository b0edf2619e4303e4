// Command flowgen writes typed, logging guest proxies and flow handles for the
// //flowgen:host interfaces and //flowgen:flow functions of Go packages.
//
// Put this line in a file of a flow package and run go generate:
//
//	//go:generate go run github.com/asyncflow-go/asyncflow/cmd/flowgen
//
// A flow's durable name — what ties its activations' logs to code — is
// <package name>.<Func> unless the directive sets it; pin it, so a rename
// does not orphan activations in flight:
//
//	//flowgen:flow name=shop.Fulfil
//
// Run by go generate, flowgen works on the package in the current directory.
// Otherwise it takes package patterns:
//
//	flowgen [-check] [-tags tag,list] [-closedcheck=false] [packages]
//
// It writes flowgen_gen.go in each package that has directives. With -check
// it writes nothing: it prints what would change and exits 1 if anything
// would. First it runs closedcheck on the packages, as go vet would, and
// refuses to generate while a flow is not closed, printing why;
// -closedcheck=false skips that.
//
// It also prints notes, which fail nothing: a flow that calls another flow's
// function directly runs it inline, in its own log, and the note names the
// generated Child function that starts it as an activation of its own.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/asyncflow-go/asyncflow/gen"
	"github.com/asyncflow-go/asyncflow/internal/textdiff"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flowgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing; print a diff and exit 1 if generated files are stale")
	tags := fs.String("tags", "", "comma-separated build tags, as for go build")
	closed := fs.Bool("closedcheck", true, "refuse to generate for flows closedcheck finds not closed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flowgen [-check] [-tags tag,list] [-closedcheck=false] [packages]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := gen.Config{Patterns: fs.Args()}
	if len(cfg.Patterns) == 0 {
		// Run by go generate: the package of $GOFILE, in the current
		// directory.
		if pkg := os.Getenv("GOPACKAGE"); strings.HasSuffix(pkg, "_test") {
			fmt.Fprintf(stderr, "flowgen: %s: %s is an external test package; put flows and host interfaces in the package itself\n", os.Getenv("GOFILE"), pkg)
			return 1
		}
		cfg.Patterns = []string{"."}
	}
	if *tags != "" {
		cfg.Tags = strings.Split(*tags, ",")
	}
	if *closed {
		open, err := checkClosed(ctx, cfg.Patterns, cfg.Tags, stderr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if open {
			fmt.Fprintln(stderr, "flowgen: flows are not closed; fix them, or add //closedcheck:ignore <reason> where the code is closed after all (-closedcheck=false skips the check)")
			return 1
		}
	}
	files, err := gen.Generate(ctx, cfg)
	if err != nil {
		for _, e := range flatten(err) {
			fmt.Fprintln(stderr, e)
		}
		return 1
	}
	for _, f := range files {
		for _, n := range f.Notes {
			fmt.Fprintln(stderr, n)
		}
	}
	stale := false
	for _, f := range files {
		old, rerr := os.ReadFile(f.Path)
		exists := rerr == nil
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			fmt.Fprintln(stderr, "flowgen:", rerr)
			return 1
		}
		switch {
		case f.Content == nil && !exists, exists && bytes.Equal(old, f.Content):
			continue
		case *check:
			stale = true
			fmt.Fprint(stdout, textdiff.Unified(f.Path+" (on disk)", f.Path+" (generated)", string(old), string(f.Content)))
		case f.Content == nil:
			if err := os.Remove(f.Path); err != nil {
				fmt.Fprintln(stderr, "flowgen:", err)
				return 1
			}
		default:
			if err := os.WriteFile(f.Path, f.Content, 0o644); err != nil {
				fmt.Fprintln(stderr, "flowgen:", err)
				return 1
			}
		}
	}
	if stale {
		fmt.Fprintln(stderr, "flowgen: generated files are stale; run go generate")
		return 1
	}
	return 0
}

// flatten lists the errors of a joined error, one per line.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
