// Command fulfilment tells the story of an order-fulfilment app through four
// builds on one store, with the replay gate run before each deploy:
//
//		go run ./examples/fulfilment
//
//	  - v1 reserves stock, then charges. While it runs, a snapshot of its live
//	    store is taken and the replay gate run against it with v2, which
//	    charges first with no patch: the gate lists the orders v2 would
//	    strand. v2 is deployed anyway, and keeps taking orders that charge
//	    first live.
//	  - The gate with v3, which wraps the change in flow.Patched, passes
//	    against a snapshot of v2's store: replay decides the patch for the
//	    orders v2 took. v3 finishes every order, each exactly once.
//	  - The gate with v4, which retires the patch, fails while orders that
//	    need the old branch are unfinished, and passes once they are done. v4
//	    finishes the rest.
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

	"github.com/asyncflow-go/asyncflow/examples/fulfilment/scenario"
	"github.com/asyncflow-go/asyncflow/examples/fulfilment/shop"
)

func main() {
	keep := flag.String("dir", "", "keep the store, snapshots, journal and binaries in this directory")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "fulfilment:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func step(n int, title string) {
	fmt.Printf("\n── %d. %s %s\n\n", n, title, strings.Repeat("─", max(0, 66-len(title))))
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func states(r *scenario.Result) {
	slices.SortFunc(r.Reports, func(a, b shop.Report) int { return strings.Compare(a.StartKey, b.StartKey) })
	for _, rep := range r.Reports {
		line := fmt.Sprintf("  %-3s %-9s", rep.StartKey, rep.State)
		if rep.Failure != nil {
			line += " " + string(rep.Failure.Problem) + " at log step " + fmt.Sprint(rep.Failure.Step)
		}
		say("%s", line)
	}
}

func gate(g *scenario.Gate) {
	verdict := "PASSES"
	if !g.Passed {
		verdict = "FAILS"
	}
	say("The gate %s:", verdict)
	for _, l := range g.Lines {
		line := fmt.Sprintf("  %-3s %-9s %s", l.StartKey, l.State, l.Verdict)
		if len(l.Decided) > 0 {
			line += fmt.Sprintf(" (with flow.Patched(%q) decided true)", l.Decided[0])
		}
		if f := l.Failure; f != nil {
			logged, _, _ := strings.Cut(f.Logged, " → ")
			line += fmt.Sprintf(" at log step %d (%s): logged %s, code did %s", f.Step, f.Problem, logged, strings.TrimPrefix(f.Got, "call "))
		}
		say("%s", line)
	}
}

func run(keep string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "asyncflow-fulfilment-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	snap := func(n string) string { return filepath.Join(dir, "snapshot-"+n+".db") }

	step(1, "Build four versions of the shop")
	say("Only the Fulfil flow changes: confirm → … → pack → ship, with in between")
	say("  v1  Reserve → Charge")
	say("  v2  Charge → Reserve                                    (no patch)")
	say("  v3  if flow.Patched(\"charge-first\") { Charge → Reserve } else { Reserve → Charge }")
	say("  v4  Charge → Reserve                                    (the patch retired)")
	s, err := scenario.Build(ctx, dir)
	if err != nil {
		return err
	}

	step(2, "v1 takes four orders; the customers confirm o1 and o2")
	v1, err := s.Hold(ctx, "v1", "-orders", "o1,o2,o3,o4", "-confirm", "o1,o2")
	if err != nil {
		return err
	}
	defer v1.Kill()
	states(&v1.Result)
	say("o1 and o2 are reserved and charged, waiting to be packed; o3 and o4 wait for")
	say("their customers.")

	step(3, "Before deploying v2: snapshot the live store, run the gate")
	if err := v1.Snapshot(snap("v1")); err != nil {
		return err
	}
	say("rt.Admin().Backup wrote %s while v1 runs.", filepath.Base(snap("v1")))
	say("The gate replays every unfinished activation with v2's code, calling no host:\n")
	g, err := s.Verify(ctx, "v2", snap("v1"))
	if err != nil {
		return err
	}
	gate(g)
	if p := g.Problems(); len(p) > 0 {
		say("\nWhat it says about %s:\n", p[0].StartKey)
		say("%s", indent(p[0].Failure.Error()))
	}
	g, err = s.Verify(ctx, "v3", snap("v1"))
	if err != nil {
		return err
	}
	say("")
	gate(g)
	say("— that is v3, which keeps the old order for them with flow.Patched.")

	step(4, "v2 is deployed anyway, and kill -9 takes v1 down")
	if err := v1.Kill(); err != nil {
		return err
	}
	v2, err := s.Hold(ctx, "v2", "-wake-all", "-orders", "o5,o6", "-confirm", "all")
	if err != nil {
		return err
	}
	defer v2.Kill()
	states(&v2.Result)
	say("o1 and o2 are stuck, harmlessly: nothing charged or reserved again. But o3 and o4,")
	say("confirmed now, and the new o5 and o6 charged first, live: their logs have no")
	say("marker, and no build without a decision could replay both kinds.")

	step(5, "Before deploying v3: the gate against v2's live store")
	if err := v2.Snapshot(snap("v2")); err != nil {
		return err
	}
	g, err = s.Verify(ctx, "v3", snap("v2"))
	if err != nil {
		return err
	}
	gate(g)
	say("\nReplay calls no host, so trying a branch is free: where the old branch does not")
	say("reproduce a log without a marker, replay tries the patch taken as true.")
	g, err = s.Verify(ctx, "v4", snap("v2"))
	if err != nil {
		return err
	}
	say("\nRetiring the patch (v4) now would be too early:\n")
	gate(g)

	step(6, "v3 finishes every order, and takes two more")
	if err := v2.Kill(); err != nil {
		return err
	}
	v3, err := s.Hold(ctx, "v3", "-orders", "n1,n2", "-confirm", "all", "-pack", "o1,o2,o3,o4,o5,o6")
	if err != nil {
		return err
	}
	defer v3.Kill()
	states(&v3.Result)
	effects, err := s.Effects()
	if err != nil {
		return err
	}
	say("\nWhat the world saw of each order, over three builds:")
	for _, o := range []string{"o1", "o2", "o3", "o4", "o5", "o6"} {
		say("  %s  %s", o, strings.Join(opsOf(effects, o), " → "))
	}

	step(7, "Before retiring the patch: the gate with v4")
	if err := v3.Snapshot(snap("v3")); err != nil {
		return err
	}
	g, err = s.Verify(ctx, "v4", snap("v3"))
	if err != nil {
		return err
	}
	gate(g)
	say("n1 and n2 logged the marker under v3; v4 no longer asks for it, and replay")
	say("passes over it.")

	step(8, "v4 finishes the rest")
	if err := v3.Kill(); err != nil {
		return err
	}
	r4, err := s.Run(ctx, "v4", "-pack", "all")
	if err != nil {
		return err
	}
	states(r4)
	effects, err = s.Effects()
	if err != nil {
		return err
	}
	keys := map[string]int{}
	for _, e := range effects {
		if e.Key != "" {
			keys[e.Key]++
		}
	}
	once := true
	for _, n := range keys {
		once = once && n == 1
	}
	say("\n%d host calls over four builds, each with its own idempotency key, each made once: %v.", len(keys), once)
	if keep != "" {
		say("\nThe store is %s; the snapshots and journal are beside it.", s.Store)
	}
	return nil
}

func opsOf(effects []shop.Effect, order string) []string {
	var out []string
	for _, e := range effects {
		if e.Order == order && e.Op != "confirmed" && e.Op != "packed" {
			out = append(out, e.Op)
		}
	}
	return out
}
