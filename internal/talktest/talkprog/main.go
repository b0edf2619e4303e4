// Command talkprog runs the talk test's order, or talks to it, on one store.
// The test runs it again and again, kills it with SIGKILL, and sends the
// order messages while no process runs it:
//
//	talkprog -mode run   # start the order (once per store) and wait for its outcome
//	talkprog -mode send  # read its progress, tell its child the parcel is ready, report shipments
//	talkprog -mode late  # send to the finished order
//
// It prints one line per event: PROGRESS, WAITING, SENT, OUTCOME, REFUSED.
package main

import (
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
	"github.com/asyncflow-go/asyncflow/internal/talktest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Effect is one line of the warehouse's journal: one execution of Pack.
type Effect struct {
	Key   string `json:"key"`
	Order string `json:"order"`
	Ref   string `json:"ref"`
	PID   int    `json:"pid"`
}

type warehouse struct {
	mu      sync.Mutex
	journal *os.File
}

func (w *warehouse) Pack(ctx context.Context, order, ref string) (string, error) {
	line, err := json.Marshal(Effect{Key: flow.IdempotencyKey(ctx), Order: order, Ref: ref, PID: os.Getpid()})
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.journal.Write(append(line, '\n')); err != nil {
		return "", err
	}
	return "parcel " + order, w.journal.Sync()
}

func main() {
	mode := flag.String("mode", "run", "run, send or late")
	storePath := flag.String("store", "talk.db", "store")
	journal := flag.String("journal", "effects.jsonl", "journal of the warehouse's effects")
	order := flag.String("order", "o-1", "the order's start key")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, *mode, *storePath, *journal, *order); err != nil {
		fmt.Fprintln(os.Stderr, "talkprog:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, mode, storePath, journal, order string) error {
	j, err := os.OpenFile(journal, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer j.Close()
	rt, err := runtime.Open(ctx, storePath, runtime.Options{})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	talktest.ProvideWarehouse(rt, "warehouse", &warehouse{journal: j})
	orders := talktest.RegisterOrder(rt)
	packs := talktest.RegisterPack(rt)
	switch mode {
	case "run":
		return runOrder(ctx, rt, orders, order)
	case "send":
		return send(ctx, rt, orders, packs, order)
	case "late":
		return late(ctx, orders, order)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func progress(ctx context.Context, orders talktest.OrderHandle, order string) error {
	p, ok, err := orders.ByKey(order).Progress(ctx)
	if err != nil {
		return err
	}
	if ok {
		fmt.Printf("PROGRESS %s %s %d\n", p.Stage, p.Ref, p.Seq)
	}
	return nil
}

// runOrder starts the order, says when its child waits for the warehouse,
// and prints the outcome.
func runOrder(ctx context.Context, rt *runtime.Runtime, orders talktest.OrderHandle, order string) error {
	if err := rt.Start(ctx); err != nil {
		return err
	}
	v, err := orders.StartWithID(ctx, order, talktest.WarehouseRef("warehouse"), order)
	if err != nil {
		return err
	}
	go func() {
		for ctx.Err() == nil {
			if child, ok := waitingChild(ctx, rt, order); ok {
				if err := progress(ctx, orders, order); err != nil {
					fmt.Fprintln(os.Stderr, "talkprog:", err)
				}
				fmt.Println("WAITING", child)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	out, err := runtime.Wait(ctx, rt, v)
	if err != nil {
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Println("OUTCOME", string(b))
	return nil
}

// waitingChild returns the order's child once it waits for its signal.
func waitingChild(ctx context.Context, rt *runtime.Runtime, order string) (flow.ActivationID, bool) {
	info, err := rt.Admin().Find(ctx, order)
	if err != nil || len(info.Children) != 1 {
		return flow.ActivationID{}, false
	}
	child, err := rt.Admin().Get(ctx, info.Children[0])
	return child.ID, err == nil && child.State == runtime.StateSuspended
}

// send runs no flow: it reads the order's progress from the store, tells
// its child the parcel is ready, and reports the shipment twice through one
// webhook delivery (taken once) and then its delivery.
func send(ctx context.Context, rt *runtime.Runtime, orders talktest.OrderHandle, packs talktest.PackHandle, order string) error {
	if err := progress(ctx, orders, order); err != nil {
		return err
	}
	info, err := rt.Admin().Find(ctx, order)
	if err != nil {
		return err
	}
	if len(info.Children) != 1 {
		return fmt.Errorf("order %s has %d children", order, len(info.Children))
	}
	if err := packs.ByID(info.Children[0]).SendReady(ctx, "ann"); err != nil {
		return err
	}
	o := orders.ByKey(order)
	for range 2 {
		if err := o.SendShippedOnce(ctx, "hook-1", talktest.Shipment{Carrier: "ups"}); err != nil {
			return err
		}
	}
	if err := o.SendShipped(ctx, talktest.Shipment{Carrier: "dhl", Delivered: true}); err != nil {
		return err
	}
	fmt.Println("SENT")
	return nil
}

// late sends to the finished order, and reads what it published last.
func late(ctx context.Context, orders talktest.OrderHandle, order string) error {
	err := orders.ByKey(order).SendShipped(ctx, talktest.Shipment{Carrier: "late"})
	if !errors.Is(err, runtime.ErrFinished) {
		return fmt.Errorf("a send to the finished order: %v", err)
	}
	fmt.Println("REFUSED", err)
	return progress(ctx, orders, order)
}
