// Command asyncflow is the operators' command: it lists, shows and explains
// activations, retries, wakes, cancels (a request their flow answers),
// terminates and purges them, and backs up a store — on a store file no
// process holds, or on a running process through the admin handler its host
// mounts (package adminhttp).
//
//	asyncflow -store app.db list -state failed
//	asyncflow -addr http://127.0.0.1:8080/asyncflow/ -token "$TOKEN" retry order-17
//	asyncflow -addr … backup snapshot.db
//
// Run asyncflow help for the commands, their flags and the exit codes. It
// registers no flows: the replay gate of a snapshot (verify) runs in a build
// of the command with a team's flows, made with package runtime/cli.
package main

import "github.com/asyncflow-go/asyncflow/runtime/cli"

func main() { cli.Main(nil) }
