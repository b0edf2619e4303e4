// Command saga tells the story of an order that undoes itself.
//
//	go run ./examples/saga
//
// The shop's Order flow reserves the items, charges the card and books a
// carrier, then waits for the pickup. Three orders show the three ends: one
// is picked up; one fails at the carrier, and the flow refunds and releases
// what it had done; one is cancelled while it waits, and the flow undoes all
// three steps, the last first. Then a fourth is cancelled and the process is
// killed with SIGKILL in the middle of the compensation, right after the
// refund: the next process replays the order, makes the refund again with
// its idempotency key (the payment service sees the key and does nothing
// twice) and releases the stock.
//
// With -child the program is one process of the story: it starts the orders
// it is given and prints their outcomes, as JSON lines, then DONE.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/asyncflow-go/asyncflow/examples/saga/shop"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Outcome is what a child prints of an order.
type Outcome struct {
	Order   string        `json:"order"`
	Receipt *shop.Receipt `json:"receipt,omitempty"`
	Error   string        `json:"error,omitempty"`
}

func main() {
	child := flag.Bool("child", false, "be one process of the story (see the flags below)")
	storePath := flag.String("store", "saga.db", "the store")
	journal := flag.String("journal", "world.jsonl", "the world's journal of effects")
	orders := flag.String("orders", "", "start these orders (ids, comma-separated)")
	pickup := flag.String("pickup", "", "the carrier picks these orders up as soon as they are booked")
	undeliverable := flag.String("undeliverable", "", "these orders go to an address no carrier serves")
	cancel := flag.String("cancel", "", "request these orders' cancellation once they are booked")
	dieAfter := flag.String("die-after", "", "kill this process with SIGKILL right after its first new effect of this kind (Refund, …)")
	dir := flag.String("dir", "", "the story: keep its files in this directory")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	var err error
	if *child {
		err = runChild(*storePath, *journal, split(*orders), set(*pickup), set(*undeliverable), set(*cancel), *dieAfter)
	} else {
		err = story(*dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "saga:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, x := range split(s) {
		m[x] = true
	}
	return m
}

// nowhere is the address no carrier serves.
const nowhere = "1 Nowhere Lane, Atlantis"

// Spec is the order with the given id.
func Spec(id string, undeliverable bool) shop.Spec {
	s := shop.Spec{ID: id, Items: []string{"a teapot", "two cups"}, Cents: 4200, Address: "221B Baker Street, London"}
	if undeliverable {
		s.Address = nowhere
	}
	return s
}

func runChild(storePath, journal string, orders []string, pickup, undeliverable, cancel map[string]bool, dieAfter string) error {
	ctx := context.Background()
	rt, err := runtime.Open(ctx, storePath, runtime.Options{})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	w, err := shop.NewWorld(rt, journal)
	if err != nil {
		return err
	}
	defer w.Close()
	w.Undeliverable[nowhere] = true
	w.After = func(e shop.Effect) {
		if e.Op == dieAfter {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL) // the effect is made; its result is not logged
			select {}
		}
	}
	w.Booked = func(order string, b shop.Booking) {
		// What happens next comes from elsewhere, after the call returns.
		go func() {
			switch {
			case pickup[order]:
				_ = w.Pickup(context.Background(), b)
			case cancel[order]:
				if a, err := rt.Admin().Find(ctx, order); err == nil {
					_ = rt.Admin().RequestCancel(ctx, a.ID, "the customer changed their mind")
				}
			}
		}()
	}
	shop.ProvideInventory(rt, "inventory", w)
	shop.ProvidePayments(rt, "payments", w)
	shop.ProvideShipping(rt, "shipping", w)
	h := shop.RegisterOrder(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	vows := make([]flow.Vow[shop.Receipt], len(orders))
	for i, id := range orders {
		if vows[i], err = h.StartWithID(ctx, id, shop.InventoryRef("inventory"), shop.PaymentsRef("payments"), shop.ShippingRef("shipping"), Spec(id, undeliverable[id])); err != nil {
			return err
		}
	}
	wctx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	enc := json.NewEncoder(os.Stdout)
	for i, v := range vows {
		o := Outcome{Order: orders[i]}
		r, err := runtime.Wait(wctx, rt, v)
		if err != nil {
			o.Error = err.Error()
		} else {
			o.Receipt = &r
		}
		if err := enc.Encode(o); err != nil {
			return err
		}
	}
	fmt.Println("DONE")
	return nil
}

// Child is one process of the story.
type Child struct {
	bin, store, journal string
}

// Run runs the child with args to its end, or until it kills itself, and
// returns the outcomes it printed and whether it was killed.
func (c Child) Run(ctx context.Context, args ...string) ([]Outcome, bool, error) {
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"-child", "-store", c.store, "-journal", c.journal}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return nil, true, nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s %v: %w: %s", filepath.Base(c.bin), args, err, stderr.String())
	}
	var outcomes []Outcome
	for _, line := range strings.Split(string(out), "\n") {
		var o Outcome
		if json.Unmarshal([]byte(line), &o) == nil && o.Order != "" {
			outcomes = append(outcomes, o)
		}
	}
	return outcomes, false, nil
}

func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func step(n int, title string) {
	fmt.Printf("\n── %d. %s %s\n\n", n, title, strings.Repeat("─", max(0, 66-len(title))))
}

func story(keep string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "asyncflow-saga-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	c := Child{bin: bin, store: filepath.Join(dir, "saga.db"), journal: filepath.Join(dir, "world.jsonl")}
	seen := 0
	effects := func() error {
		all, err := shop.ReadJournal(c.journal)
		if err != nil {
			return err
		}
		for _, e := range all[seen:] {
			again := ""
			if e.Again {
				again = "   (made before under this key: nothing done twice)"
			}
			say("  %-3s %-14s %-8s pid %d%s", e.Order, e.Op, e.ID, e.PID, again)
		}
		seen = len(all)
		return nil
	}
	outcomes := func(list []Outcome) {
		for _, o := range list {
			if o.Receipt != nil {
				say("  %s: shipped, tracking %s", o.Order, o.Receipt.Tracking)
			} else {
				say("  %s: %s", o.Order, o.Error)
			}
		}
	}

	step(1, "Three orders: one ships, one fails at the carrier, one is cancelled")
	first, _, err := c.Run(ctx, "-orders", "o1,o2,o3", "-pickup", "o1", "-undeliverable", "o2", "-cancel", "o3")
	if err != nil {
		return err
	}
	say("The world saw, order by order, in the order each was made:")
	all, err := shop.ReadJournal(c.journal)
	if err != nil {
		return err
	}
	for _, order := range []string{"o1", "o2", "o3"} {
		for _, e := range all {
			if e.Order == order {
				say("  %-3s %-14s %s", e.Order, e.Op, e.ID)
			}
		}
	}
	seen = len(all)
	say("\nThe outcomes:")
	outcomes(first)
	say("\no2's booking failed, so its flow refunded and released, the last step first;")
	say("o3 was cancelled while it waited for the pickup: its flow cancelled the booking,")
	say("refunded and released. Each compensation is a host call like any other, logged.")

	step(2, "A cancelled order, and a kill -9 in the middle of its compensation")
	if _, killed, err := c.Run(ctx, "-orders", "o4", "-cancel", "o4", "-die-after", "Refund"); err != nil {
		return err
	} else if !killed {
		return fmt.Errorf("the process was to die after the refund")
	}
	say("The process killed itself right after the refund reached the payment service,")
	say("before the refund's result was logged:")
	if err := effects(); err != nil {
		return err
	}
	second, _, err := c.Run(ctx, "-orders", "o4")
	if err != nil {
		return err
	}
	say("\nThe next process replays o4 — its log answers Reserve, Charge, Book, the")
	say("cancellation and CancelBooking — makes the refund again, with the same key,")
	say("and releases the stock:")
	if err := effects(); err != nil {
		return err
	}
	say("\nThe outcome:")
	outcomes(second)
	return nil
}
