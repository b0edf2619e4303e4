package shop

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// Starter starts orders: the handle flowgen generates for a build's Fulfil
// flow.
type Starter interface {
	StartWithID(ctx context.Context, id string, c Customers, w Warehouse, p Payments, o Order) (flow.Vow[Receipt], error)
}

// Register is what each build provides: it registers the build's flows and
// the host's services with r, as the program does at start and the replay
// gate does to verify the build. h is nil for the gate, which calls nothing.
type Register func(r runtime.Registry, h *Host) Starter

// Provide provides the host's services under their names.
func Provide(r runtime.Registry, h *Host) {
	ProvideCustomers(r, "customers", h)
	ProvideWarehouse(r, "warehouse", h)
	ProvidePayments(r, "payments", h)
}

// Report is what a program prints about each activation.
type Report struct {
	ID       string           `json:"id"`
	StartKey string           `json:"start_key"`
	Flow     string           `json:"flow"`
	State    runtime.State    `json:"state"`
	Outcome  string           `json:"outcome,omitempty"`
	Failure  *diag.Diagnostic `json:"failure,omitempty"`
}

// GateLine is what -verify prints about each unfinished activation.
type GateLine struct {
	StartKey string           `json:"start_key"`
	Flow     string           `json:"flow"`
	State    string           `json:"state"`
	Verdict  verify.Verdict   `json:"verdict"`
	Decided  []string         `json:"decided,omitempty"`
	Failure  *diag.Diagnostic `json:"failure,omitempty"`
}

// Main is the main function of every build.
//
//	-store, -journal     the store and the journal of effects
//	-orders o1,o2        start orders with these ids
//	-confirm o1,o2|all   confirm these orders when asked
//	-pack o1,o2|all      pack these orders when asked
//	-wake-all            replay every sleeping activation at start
//	-hold                once quiet, print READY and serve commands on stdin
//	                     ("snapshot PATH": a consistent copy of the store) until killed
//	-verify SNAPSHOT     run the replay gate with this build against SNAPSHOT and exit
//
// It runs until no activation is running (each is done, failed or waits),
// then prints a report line for each, and QUIET.
func Main(register Register) {
	storePath := flag.String("store", "shop.db", "store file")
	journalPath := flag.String("journal", "journal.jsonl", "journal of effects")
	orders := flag.String("orders", "", "ids of orders to start")
	confirm := flag.String("confirm", "", "orders to confirm, or all")
	pack := flag.String("pack", "", "orders to pack, or all")
	wakeAll := flag.Bool("wake-all", false, "replay every sleeping activation at start")
	hold := flag.Bool("hold", false, "once quiet, serve commands on stdin until killed")
	gate := flag.String("verify", "", "replay this snapshot with this build and exit")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	ctx := context.Background()
	var err error
	if *gate != "" {
		err = runGate(ctx, *gate, register)
	} else {
		err = run(ctx, *storePath, *journalPath, split(*orders), selector(*confirm), selector(*pack), *wakeAll, *hold, *timeout, register)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func selector(s string) func(string) bool {
	ids := split(s)
	return func(order string) bool { return s == "all" || slices.Contains(ids, order) }
}

func run(ctx context.Context, storePath, journalPath string, orders []string, confirm, pack func(string) bool, wakeAll, hold bool, timeout time.Duration, register Register) error {
	rt, err := runtime.Open(ctx, storePath, runtime.Options{WakeAll: wakeAll})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	j, err := OpenJournal(journalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	host, err := NewHost(rt, j, journalPath)
	if err != nil {
		return err
	}
	fulfil := register(rt, host)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("BUILD %s GENERATION %d\n", rt.Build(), rt.Generation())
	for i, id := range orders {
		o := Order{ID: id, Items: i + 1, Cents: int64(1000 * (i + 1))}
		if _, err := fulfil.StartWithID(ctx, id, CustomersRef("customers"), WarehouseRef("warehouse"), PaymentsRef("payments"), o); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		if _, err := host.Answer(ctx, "Confirm", confirm); err != nil {
			return err
		}
		if _, err := host.Answer(ctx, "Pack", pack); err != nil {
			return err
		}
		acts, err := rt.Admin().List(ctx, runtime.ListOptions{})
		if err != nil {
			return err
		}
		if quiet(acts) {
			break
		}
		if time.Now().After(deadline) {
			for _, a := range acts {
				fmt.Fprintf(os.Stderr, "%s %s %s\n", a.StartKey, a.Flow, a.State)
			}
			return fmt.Errorf("not quiet after %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := report(ctx, rt); err != nil {
		return err
	}
	fmt.Println("QUIET")
	if hold {
		fmt.Println("READY")
		serve(ctx, rt)
	}
	return nil
}

// quiet reports whether no activation runs: each is done, failed or waits.
func quiet(acts []runtime.ActivationInfo) bool {
	for _, a := range acts {
		switch a.State {
		case runtime.StateDone, runtime.StateFailed, runtime.StateSuspended:
		default:
			return false
		}
	}
	return true
}

func report(ctx context.Context, rt *runtime.Runtime) error {
	acts, err := rt.Admin().List(ctx, runtime.ListOptions{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	for _, a := range acts {
		r := Report{ID: a.ID.String(), StartKey: a.StartKey, Flow: a.Flow, State: a.State, Failure: a.Failure}
		if a.State == runtime.StateDone {
			v, err := runtime.Wait(ctx, rt, flow.VowOf[codec.Raw](a.Outcome))
			if err != nil {
				r.Outcome = "error: " + err.Error()
			} else {
				r.Outcome = codec.Format(v)
			}
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// serve answers commands on stdin until it closes (then the program stops):
// "snapshot PATH" writes a consistent copy of the live store to PATH, for
// the replay gate.
func serve(ctx context.Context, rt *runtime.Runtime) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch cmd {
		case "snapshot":
			if err := rt.Admin().Backup(ctx, arg); err != nil {
				fmt.Println("ERROR", err)
				continue
			}
			fmt.Println("SNAPSHOT", arg)
		default:
			fmt.Println("ERROR unknown command", cmd)
		}
	}
}

// runGate replays the snapshot with this build: a line for each unfinished
// activation, the report, and GATE PASS or an error.
func runGate(ctx context.Context, snapshot string, register Register) error {
	var lines []GateLine
	rep, err := verify.ReplayFile(ctx, snapshot, func(r runtime.Registry) { register(r, nil) }, verify.Options{
		Each: func(r verify.Result) {
			lines = append(lines, GateLine{StartKey: r.StartKey, Flow: r.Flow, State: r.State.String(), Verdict: r.Verdict, Decided: r.Decided, Failure: r.Failure})
		},
	})
	if err != nil {
		return err
	}
	slices.SortFunc(lines, func(a, b GateLine) int { return strings.Compare(a.StartKey, b.StartKey) })
	enc := json.NewEncoder(os.Stdout)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	fmt.Print(rep)
	if !rep.OK() {
		return fmt.Errorf("the replay gate failed: this build would strand %d activations", len(rep.Problems))
	}
	fmt.Println("GATE PASS")
	return nil
}
