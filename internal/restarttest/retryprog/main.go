// Command retryprog starts (at most once) a Notify activation whose
// deliveries fail a given number of times, and reports on stdout each
// backoff the activation waits in ("BACKOFF <the attempt that failed>") and
// its outcome ("DONE <outcome>"). The retry test kills it while it waits,
// and runs it again.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/internal/restarttest"
	"github.com/asyncflow-go/asyncflow/runtime"
)

func main() {
	storePath := flag.String("store", "retry.db", "store")
	journal := flag.String("journal", "attempts.jsonl", "the gateway's journal")
	fail := flag.Int("fail", 2, "attempts that fail")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := run(*storePath, *journal, *fail); err != nil {
		fmt.Fprintln(os.Stderr, "retryprog:", err)
		os.Exit(1)
	}
}

func run(storePath, journalPath string, fail int) error {
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
	restarttest.ProvideGateway(rt, "gateway", &restarttest.FlakyGateway{Journal: j, Fail: fail})
	h := restarttest.RegisterNotify(rt)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	v, err := h.StartWithID(ctx, "n1", restarttest.GatewayRef("gateway"), "hello")
	if err != nil {
		return err
	}
	act, err := rt.Admin().Find(ctx, "n1")
	if err != nil {
		return err
	}
	reported := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		info, err := rt.Admin().Get(ctx, act.ID)
		if err != nil {
			return err
		}
		if info.State == runtime.StateDone {
			out, err := runtime.Wait(ctx, rt, v)
			if err != nil {
				return err
			}
			fmt.Println("DONE", out)
			return nil
		}
		if info.State != runtime.StateSuspended {
			continue
		}
		log, err := rt.Admin().Log(ctx, act.ID)
		if err != nil {
			return err
		}
		retries := 0
		for _, e := range log {
			if strings.HasPrefix(e.Text, "retry ") {
				retries++
			}
		}
		if retries > reported {
			reported = retries
			fmt.Println("BACKOFF", retries) // attempt number retries failed; its next one waits
		}
	}
	return fmt.Errorf("activation %s did not finish", act.ID)
}
