// Command upgrade tells the story of an upgrade while flows sleep.
//
//	go run ./examples/upgrade
//
// It builds three versions of a small payments program and runs them one
// after another, as separate processes, on one store:
//
//   - v1 starts payouts and welcomes; each asks a person for approval and
//     sleeps. v1 is killed with SIGKILL while they sleep.
//   - v2 computes a fee before reserving money. Payouts that had already
//     reserved under v1 no longer match their logs: they get stuck, with a
//     diagnostic, and v2 does nothing to them. The welcomes, unchanged,
//     finish.
//   - v3 uses flow.Patched to keep v1's path for the old payouts and the fee
//     for new ones: everything finishes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/examples/upgrade/payments"
	"github.com/asyncflow-go/asyncflow/examples/upgrade/scenario"
)

func main() {
	keep := flag.String("dir", "", "keep the store, journal and binaries in this directory")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "upgrade:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func step(n int, title string) {
	fmt.Printf("\n── %d. %s %s\n\n", n, title, strings.Repeat("─", max(0, 66-len(title))))
}

func run(keep string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "asyncflow-upgrade-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	step(1, "Build three versions of the payments program")
	say("Each version has the same host services (a ledger, approvals, a notifier)")
	say("and the same Welcome flow. Only the Payout flow changes:")
	say("  v1  Reserve → Request approval → (sleep) → Transfer")
	say("  v2  Fee → Reserve → Request approval → (sleep) → Transfer")
	say("  v3  if flow.Patched(\"fee\") { Fee } → Reserve → Request approval → (sleep) → Transfer")
	s, err := scenario.Build(ctx, dir)
	if err != nil {
		return err
	}
	say("\nbuilt %s", filepath.Join(dir, "bin", "{v1,v2,v3}"))

	step(2, "v1 starts three payouts and two welcomes, then is killed")
	cmd, build1, err := s.StartUntilReady(ctx, "v1", "-payouts", "p1,p2,p3", "-welcomes", "w1,w2")
	if err != nil {
		return err
	}
	say("v1 (build %s) reports every activation asleep, waiting for approval.", build1)
	say("The world has seen:")
	effects, err := s.Effects()
	if err != nil {
		return err
	}
	for _, e := range effects {
		say("  %-8s %-22s (activation %s…)", e.Op, e.Args, e.Activation[:8])
	}
	if err := scenario.Kill(cmd); err != nil {
		return err
	}
	say("\nkill -9 %d: no shutdown, no goodbye. The store keeps the logs.", cmd.Process.Pid)

	step(3, "v2 starts on the same store: the old payouts get stuck")
	say("v2 replays every sleeping activation at start (Options.WakeAll) and approves")
	say("the welcomes' requests.")
	r2, err := s.Run(ctx, "v2", "-wake-all", "-approve", "payments.Welcome")
	if err != nil {
		return err
	}
	sortReports(r2)
	say("")
	for _, rep := range r2.Reports {
		line := fmt.Sprintf("  %-3s %-16s %-7s", rep.StartKey, rep.Flow, rep.State)
		if rep.Failure != nil {
			line += " " + string(rep.Failure.Problem) + " at log step " + fmt.Sprint(rep.Failure.Step)
		} else {
			line += " " + rep.Outcome
		}
		say("%s", line)
	}
	for _, rep := range r2.Reports {
		if rep.Failure != nil {
			say("\nWhat Admin().Failures() says about %s:\n", rep.StartKey)
			say("%s", indent(rep.Failure.Error()))
			break
		}
	}
	effects2, err := s.Effects()
	if err != nil {
		return err
	}
	say("\nWhat the world saw under v2:")
	for _, e := range effects2[len(effects):] {
		if e.Op == "approve" {
			say("  approve  vow %s…", e.Vow[:8])
			continue
		}
		say("  %-8s %-30s (activation %s…)", e.Op, e.Args, e.Activation[:8])
	}
	say("Nothing for the stuck payouts: no fee, no second reservation. Their logs")
	say("and vows are exactly as v1 left them, waiting for a build that fits.")

	step(4, "v3 reproduces v1's path for them with flow.Patched")
	say("v3 approves every request and starts two new payouts, n1 and n2.")
	r3, err := s.Run(ctx, "v3", "-approve", "all", "-payouts", "n1,n2")
	if err != nil {
		return err
	}
	sortReports(r3)
	say("")
	for _, rep := range r3.Reports {
		say("  %-3s %-16s %-5s %s", rep.StartKey, rep.Flow, rep.State, rep.Outcome)
	}
	effects3, err := s.Effects()
	if err != nil {
		return err
	}
	say("\nWhat the world saw under v3:")
	for _, e := range effects3[len(effects2):] {
		if e.Op == "approve" {
			continue
		}
		say("  %-8s %-30s (activation %s…)", e.Op, e.Args, e.Activation[:8])
	}
	say("\nThe old payouts only transferred: replay answered Reserve and Request from")
	say("their logs. The new ones paid the fee. Every effect happened once:")
	say("%d effects, %d distinct idempotency keys.", countKeyed(effects3), distinctKeys(effects3))
	if keep != "" {
		say("\nThe store is %s; the journal %s.", s.Store, s.Journal)
	}
	return nil
}

func sortReports(r *scenario.Result) {
	slices.SortFunc(r.Reports, func(a, b payments.Report) int { return strings.Compare(a.StartKey, b.StartKey) })
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func countKeyed(es []payments.Effect) int {
	n := 0
	for _, e := range es {
		if e.Key != "" {
			n++
		}
	}
	return n
}

func distinctKeys(es []payments.Effect) int {
	keys := map[string]bool{}
	for _, e := range es {
		if e.Key != "" {
			keys[e.Key] = true
		}
	}
	return len(keys)
}
