package restarttest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Billing bills a subscription month by month. The renewal programs
// (renewv1, renewv2) run a flow that charges a month, waits until the next
// is due and continues as new with it; renewv2 also notifies, behind a
// patch.
//
//flowgen:host
type Billing interface {
	Charge(ctx context.Context, account string, month int) (string, error)
	// Due returns a vow fulfilled when the month after is due.
	Due(ctx context.Context, account string, month int) (flow.Vow[bool], error)
	Notify(ctx context.Context, account string, month int) error
}

// Bill is one line of the billing journal: one call, as the host saw it.
type Bill struct {
	Op    string `json:"op"` // Charge, Due or Notify
	Month int    `json:"month"`
	Key   string `json:"key"`
	Vow   string `json:"vow,omitempty"` // Due's
	PID   int    `json:"pid"`
	Build string `json:"build"`
}

// ReadBills reads a billing journal.
func ReadBills(path string) ([]Bill, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Bill
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var b Bill
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, sc.Err()
}

// biller implements Billing, journaling every call durably before it
// answers. Due vows of months before until are fulfilled at once.
type biller struct {
	rt      *runtime.Runtime
	journal *os.File
	build   string
	until   int
	mu      sync.Mutex
	lastDue int
}

func (b *biller) write(ctx context.Context, bill Bill) error {
	bill.Key, bill.PID, bill.Build = flow.IdempotencyKey(ctx), os.Getpid(), b.build
	line, err := json.Marshal(bill)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.journal.Write(append(line, '\n')); err != nil {
		return err
	}
	return b.journal.Sync()
}

func (b *biller) Charge(ctx context.Context, account string, month int) (string, error) {
	if err := b.write(ctx, Bill{Op: "Charge", Month: month}); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%02d", account, month), nil
}

func (b *biller) Due(ctx context.Context, account string, month int) (flow.Vow[bool], error) {
	v, err := runtime.NewVow[bool](ctx, b.rt)
	if err != nil {
		return v, err
	}
	if err := b.write(ctx, Bill{Op: "Due", Month: month, Vow: v.ID().String()}); err != nil {
		return v, err
	}
	b.mu.Lock()
	b.lastDue = month
	b.mu.Unlock()
	if month < b.until {
		if err := runtime.Resolve(ctx, b.rt, v, true); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (b *biller) Notify(ctx context.Context, account string, month int) error {
	return b.write(ctx, Bill{Op: "Notify", Month: month})
}

// Renewal is a renewal program's flow, registered: what starts it.
type Renewal func(ctx context.Context, b Billing, account string, month int) (flow.Vow[int], error)

// RenewalMain is the main of a renewal program, build naming it and
// register registering its flow. It starts (at most once) the renewal of
// one account from month 1, fulfils the due vows of months before -until,
// also those a killed process left pending, prints "WAITING <month>" once
// the activation waits for the month -until is due, and "DONE <outcome>
// <runs>" when it is done.
func RenewalMain(build string, register func(r flowimpl.Registry) Renewal) {
	storePath := flag.String("store", "renew.db", "store")
	journal := flag.String("journal", "bills.jsonl", "the billing journal")
	until := flag.Int("until", 13, "fulfil the due vows of months before this one")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := runRenewal(build, register, *storePath, *journal, *until); err != nil {
		fmt.Fprintln(os.Stderr, build+":", err)
		os.Exit(1)
	}
}

func runRenewal(build string, register func(r flowimpl.Registry) Renewal, storePath, journalPath string, until int) error {
	ctx := context.Background()
	bills, err := ReadBills(journalPath)
	if err != nil {
		return err
	}
	j, err := os.OpenFile(journalPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer j.Close()
	rt, err := runtime.Open(ctx, storePath, runtime.Options{Build: build})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	b := &biller{rt: rt, journal: j, build: build, until: until}
	ProvideBilling(rt, "billing", b)
	start := register(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	for _, bill := range bills { // what a killed process left pending
		if bill.Op != "Due" || bill.Month >= until {
			continue
		}
		id, err := flow.ParseVowID(bill.Vow)
		if err != nil {
			return err
		}
		if err := runtime.Resolve(ctx, rt, flow.VowOf[bool](id), true); err != nil && !errors.Is(err, runtime.ErrAlreadySettled) {
			return err
		}
	}
	v, err := start(ctx, BillingRef("billing"), "acct", 1)
	if err != nil {
		return err
	}
	act, err := rt.Admin().Find(ctx, "acct")
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		info, err := rt.Admin().Get(ctx, act.ID)
		if err != nil {
			return err
		}
		switch {
		case info.State == runtime.StateDone:
			got, err := runtime.Wait(ctx, rt, v)
			if err != nil {
				return err
			}
			fmt.Println("DONE", got, info.Run)
			return nil
		case info.State == runtime.StateSuspended:
			b.mu.Lock()
			last := b.lastDue
			b.mu.Unlock()
			if last == until {
				log, err := rt.Admin().Log(ctx, act.ID)
				if err != nil {
					return err
				}
				fmt.Println("WAITING", until, info.Run, len(log))
				select {} // until killed
			}
		}
	}
	return errors.New("the renewal did not finish")
}
