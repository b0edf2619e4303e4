// Command asyncflow is the operators' command: it lists, shows and explains
// activations, and retries, cancels, wakes and purges them — on a store file
// no process holds, or on a running process through the admin handler its
// host mounts (package adminhttp).
//
//	asyncflow -store app.db list -state failed
//	asyncflow -addr http://127.0.0.1:8080/asyncflow/ -token "$TOKEN" retry order-17
//
// Run asyncflow help for the commands, their flags and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
