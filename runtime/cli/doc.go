// Package cli is the operators' command as a library: cmd/asyncflow is
// Main(nil), and a team's own command is Main with the function that
// registers its flows and services — the one its host program starts with.
//
// The command lists, shows and explains activations, and retries, wakes,
// cancels (a request its flow answers), terminates and purges them, on a store file no process holds or on a running
// process through the admin handler its host mounts (package adminhttp); it
// backs a store up while it runs, and runs the replay gate (package verify).
// Everything but one command works the same in every build of it: verify of
// a snapshot replays the snapshot's unfinished activations against flows,
// so it needs a build that registers them — the new build about to be
// deployed:
//
//	// Command shopctl is asyncflow with the shop's flows: shopctl verify
//	// snapshot.db is the replay gate for this build.
//	package main
//
//	func main() {
//		cli.Main(func(r runtime.Registry) {
//			shop.ProvideLedger(r, "ledger", nil) // services need no implementation
//			shop.RegisterFulfil(r)
//		})
//	}
//
// The same gate runs as a Go test with flowtest.ReplayStore. Run the
// command with help for the commands, their flags and the exit codes.
package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/asyncflow-go/asyncflow/runtime"
)

// Main runs the command on the process's arguments and exits with its
// code. register registers the flows and services verify replays against;
// nil for a command without flows, whose verify works on a running process
// (-addr) only.
func Main(register func(runtime.Registry)) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Run(ctx, filepath.Base(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr, register)
	stop()
	os.Exit(code)
}

// Run runs the command called name with args (the program's name left out),
// writing to stdout and stderr, and returns its exit code; see Main.
func Run(ctx context.Context, name string, args []string, stdout, stderr io.Writer, register func(runtime.Registry)) int {
	return run(ctx, name, args, stdout, stderr, register)
}
