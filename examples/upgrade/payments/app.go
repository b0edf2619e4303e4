package payments

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// PayoutStarter starts payouts: the handle flowgen generates for a build's
// Payout flow.
type PayoutStarter interface {
	StartWithID(ctx context.Context, id string, l Ledger, a Approvals, account string, cents int64) (flow.Vow[TxID], error)
}

// Report is what a program prints about each activation when it is done.
type Report struct {
	ID       string           `json:"id"`
	StartKey string           `json:"start_key"`
	Flow     string           `json:"flow"`
	State    runtime.State    `json:"state"`
	Outcome  string           `json:"outcome,omitempty"`
	Failure  *diag.Diagnostic `json:"failure,omitempty"`
}

// Main is the main function of every build: registerPayout registers the
// build's own Payout flow.
//
//	-store, -journal   the store and the journal of effects
//	-payouts p1,p2     start payouts with these ids
//	-welcomes w1,w2    start welcomes with these ids
//	-approve FLOW      approve requests of payments.Payout, payments.Welcome, or all
//	-wake-all          replay every sleeping activation at start
//	-until COND        "suspended": print READY once every activation is suspended, then wait to be killed;
//	                   "settled": print a report and exit once every activation is done or failed
func Main(registerPayout func(*runtime.Runtime) PayoutStarter) {
	storePath := flag.String("store", "upgrade.db", "store file")
	journalPath := flag.String("journal", "journal.jsonl", "journal of effects")
	payouts := flag.String("payouts", "", "ids of payouts to start")
	welcomes := flag.String("welcomes", "", "ids of welcomes to start")
	approve := flag.String("approve", "", "approve requests of this flow, or all")
	wakeAll := flag.Bool("wake-all", false, "replay every sleeping activation at start")
	until := flag.String("until", "settled", "suspended or settled")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))

	ctx := context.Background()
	if err := run(ctx, *storePath, *journalPath, split(*payouts), split(*welcomes), *approve, *wakeAll, *until, *timeout, registerPayout); err != nil {
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

func run(ctx context.Context, storePath, journalPath string, payouts, welcomes []string, approve string, wakeAll bool, until string, timeout time.Duration, registerPayout func(*runtime.Runtime) PayoutStarter) error {
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
	ProvideLedger(rt, "ledger", host)
	ProvideApprovals(rt, "approvals", host)
	ProvideNotifier(rt, "notifier", host)
	payout := registerPayout(rt)
	welcome := RegisterWelcome(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("BUILD %s GENERATION %d\n", rt.Build(), rt.Generation())
	for i, id := range payouts {
		if _, err := payout.StartWithID(ctx, id, LedgerRef("ledger"), ApprovalsRef("approvals"), "acct-"+id, int64(1000*(i+1))); err != nil {
			return err
		}
	}
	for _, id := range welcomes {
		if _, err := welcome.StartWithID(ctx, id, NotifierRef("notifier"), ApprovalsRef("approvals"), "customer-"+id); err != nil {
			return err
		}
	}

	deadline := time.Now().Add(timeout)
	for {
		acts, err := all(ctx, rt)
		if err != nil {
			return err
		}
		if approve != "" {
			ids := map[string]bool{}
			for _, a := range acts {
				if approve == "all" || a.Flow == approve {
					ids[a.ID.String()] = true
				}
			}
			if _, err := host.Approve(ctx, ids); err != nil {
				return err
			}
		}
		if reached(acts, until) {
			break
		}
		if time.Now().After(deadline) {
			for _, a := range acts {
				fmt.Fprintf(os.Stderr, "%s %s %s\n", a.StartKey, a.Flow, a.State)
			}
			return fmt.Errorf("not %s after %s", until, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if until == "suspended" {
		fmt.Println("READY")
		select {} // wait to be killed
	}
	acts, err := all(ctx, rt)
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
	fmt.Println("DONE")
	return nil
}

func all(ctx context.Context, rt *runtime.Runtime) ([]runtime.ActivationInfo, error) {
	return rt.Admin().List(ctx, runtime.ListOptions{})
}

func reached(acts []runtime.ActivationInfo, until string) bool {
	for _, a := range acts {
		switch until {
		case "suspended":
			if a.State != runtime.StateSuspended {
				return false
			}
		default:
			if a.State != runtime.StateDone && a.State != runtime.StateFailed {
				return false
			}
		}
	}
	return true
}
