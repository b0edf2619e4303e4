// Command crashprog runs the crash test's flows until they are all done,
// recording every host effect in a journal. The crash test kills it at
// random moments, or has it kill itself right after an effect, and runs it
// again and again.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/crashtest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

type bank struct {
	mu        sync.Mutex
	journal   *os.File
	effects   atomic.Int64
	killAfter int64
}

func (b *bank) Apply(ctx context.Context, account string, step int, prev int64) (int64, error) {
	receipt := rand.Int64()
	line, err := json.Marshal(crashtest.Effect{Key: flow.IdempotencyKey(ctx), Account: account, Step: step, Prev: prev, Receipt: receipt, PID: os.Getpid()})
	if err != nil {
		return 0, err
	}
	b.mu.Lock()
	_, err = b.journal.Write(append(line, '\n'))
	if err == nil {
		err = b.journal.Sync()
	}
	if err != nil {
		b.mu.Unlock()
		return 0, err
	}
	if b.effects.Add(1) == b.killAfter {
		// The effect has reached the world; its result is not logged yet.
		// The journal stays locked, so it is this process's last line:
		// another flow's effect journaled after it could have had its
		// result logged before the signal landed.
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	b.mu.Unlock()
	return receipt, nil
}

func main() {
	storePath := flag.String("store", "crash.db", "store")
	journalPath := flag.String("journal", "effects.jsonl", "journal of effects")
	flows := flag.Int("flows", 40, "number of flows")
	killAfter := flag.Int64("kill-after-effect", 0, "kill this process with SIGKILL right after its n-th effect")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := run(*storePath, *journalPath, *flows, *killAfter); err != nil {
		fmt.Fprintln(os.Stderr, "crashprog:", err)
		os.Exit(1)
	}
}

func run(storePath, journalPath string, flows int, killAfter int64) error {
	ctx := context.Background()
	j, err := os.OpenFile(journalPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer j.Close()
	rt, err := runtime.Open(ctx, storePath, runtime.Options{})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	crashtest.ProvideBank(rt, "bank", &bank{journal: j, killAfter: killAfter})
	work := crashtest.RegisterWork(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	vows := make([]flow.Vow[int64], flows)
	for i := range flows {
		v, err := work.StartWithID(ctx, fmt.Sprintf("work-%03d", i), crashtest.BankRef("bank"), crashtest.Account(i))
		if err != nil {
			return err
		}
		vows[i] = v
	}
	fmt.Println("STARTED")
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	enc := json.NewEncoder(os.Stdout)
	for i, v := range vows {
		got, err := runtime.Wait(wctx, rt, v)
		if err != nil {
			return fmt.Errorf("flow %d: %w", i, err)
		}
		if err := enc.Encode(map[string]any{"account": crashtest.Account(i), "outcome": got}); err != nil {
			return err
		}
	}
	fmt.Println("ALL DONE")
	return nil
}
