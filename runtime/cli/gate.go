package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

var (
	// errExists: backup never writes over a file.
	errExists = errors.New("the file exists; give a new one (backup never writes over a file)")
	// errNoFlows: verify of a snapshot in a build that registers no flows.
	errNoFlows = errors.New("this build of the command registers no flows to replay against")
	// errStranded: verify found activations the build does not replay.
	errStranded = errors.New("the replay gate failed")
)

func verifyFlags(fs *flag.FlagSet) {
	fs.Int("workers", 0, "replay this many activations at once (default: GOMAXPROCS)")
	fs.String("build", "", "the build's name in diagnostics")
}

// backup writes a consistent copy of the store to a new file: first under a
// temporary name beside it, then, once the copy reads back as a store, under
// its own — so a backup cut short leaves no file that looks whole.
func (c *cli) backup(ctx context.Context, _ *flag.FlagSet, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return usagef("give the new file to write the copy to: backup FILE")
	}
	dest := args[0]
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("backup to %s: %w", dest, errExists)
	}
	if fi, err := os.Stat(filepath.Dir(dest)); err != nil || !fi.IsDir() {
		return usagef("backup to %s: there is no directory %s", dest, filepath.Dir(dest))
	}
	b, err := c.open(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-")
	if err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	// The store writes the copy to a file that does not exist yet.
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName)
	defer os.Remove(tmpName)

	start := time.Now()
	stop := c.ticker(func() string {
		if fi, err := os.Stat(tmpName); err == nil {
			return fmt.Sprintf("backup: %s written so far…", bytesText(fi.Size()))
		}
		return "backup: copying…"
	})
	err = b.Backup(ctx, tmpName)
	stop()
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("backup: this store cannot be copied by asyncflow: %w", err)
		}
		return err
	}
	total, unfinished, err := readBack(ctx, tmpName)
	if err != nil {
		return fmt.Errorf("backup to %s: the copy does not read back as a store: %w", dest, err)
	}
	if err := os.Link(tmpName, dest); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup to %s: %w", dest, errExists)
		}
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	fi, err := os.Stat(dest)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(map[string]any{"file": dest, "bytes": fi.Size(), "activations": total, "unfinished": unfinished, "seconds": time.Since(start).Seconds()})
	}
	fmt.Fprintf(c.out, "Backed up %d activations (%d unfinished) to %s: %s in %s.\n", total, unfinished, dest, bytesText(fi.Size()), time.Since(start).Round(time.Millisecond))
	return nil
}

// readBack opens a copy read-only and counts its activations.
func readBack(ctx context.Context, path string) (total, unfinished int, err error) {
	ad, err := runtime.OpenAdmin(ctx, path, runtime.AdminOptions{})
	if err != nil {
		return 0, 0, err
	}
	defer ad.Close(context.Background())
	if total, err = ad.Count(ctx, runtime.ListOptions{}); err != nil {
		return 0, 0, err
	}
	for _, s := range []runtime.State{runtime.StateRunning, runtime.StateSuspended, runtime.StateFailed} {
		n, err := ad.Count(ctx, runtime.ListOptions{State: s})
		if err != nil {
			return 0, 0, err
		}
		unfinished += n
	}
	return total, unfinished, nil
}

// verify runs the replay gate: on a snapshot (or a store no process holds,
// or a PostgreSQL database) against this command's flows, or through -addr
// on the running process's store against its own build.
func (c *cli) verify(ctx context.Context, fs *flag.FlagSet, args []string) error {
	opts := verify.Options{Build: str(fs, "build")}
	if w, err := strconv.Atoi(str(fs, "workers")); err != nil || w < 0 {
		return usagef("-workers %q: want a count", str(fs, "workers"))
	} else {
		opts.Workers = w
	}
	snapshot := c.store
	switch {
	case len(args) > 1:
		return usagef("give one snapshot: verify SNAPSHOT")
	case len(args) == 1 && c.addr != "":
		return usagef("verify SNAPSHOT replays a file here, and -addr verifies the running process's own store: give one of them")
	case len(args) == 1 && c.store != "" && c.store != args[0]:
		return usagef("give the snapshot once: as the argument or as -store")
	case len(args) == 1:
		snapshot = args[0]
	}
	switch {
	case c.addr != "" && c.store != "":
		return usagef("give -store or -addr, not both")
	case c.addr == "" && snapshot == "":
		return usagef("give the snapshot to replay (verify SNAPSHOT), or -addr URL to verify a running process's store against its own build")
	case c.addr == "" && c.register == nil:
		return fmt.Errorf("verify %s: %w: replay the snapshot with a build of the command that registers the flows you are about to deploy (package github.com/asyncflow-go/asyncflow/runtime/cli: cli.Main(register)), or in a test of that build (flowtest.ReplayStore); -addr URL verify replays a running process's store against its own build", snapshot, errNoFlows)
	case c.addr == "" && !strings.Contains(snapshot, "://"):
		if _, err := os.Stat(snapshot); err != nil {
			return fmt.Errorf("snapshot %s: %w: there is no such file", snapshot, store.ErrNotStore)
		}
	}
	var done atomic.Int64
	opts.Each = func(verify.Result) { done.Add(1) }
	stop := c.ticker(func() string { return fmt.Sprintf("verify: %d activations replayed…", done.Load()) })
	var rep *verify.Report
	var err error
	if c.addr != "" {
		var b backend
		if b, err = c.open(ctx); err == nil {
			rep, err = b.Verify(ctx, opts)
		}
	} else {
		var ad *runtime.Admin
		if ad, err = runtime.OpenAdmin(ctx, snapshot, runtime.AdminOptions{}); err == nil {
			rep, err = ad.VerifyBuild(ctx, c.register, opts)
			_ = ad.Close(context.Background())
			if rep != nil {
				rep.Store = snapshot
			}
		}
	}
	stop()
	if err != nil {
		return err
	}
	if c.json {
		if err := c.printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(c.out, rep.String())
	}
	if !rep.OK() {
		return fmt.Errorf("%w: %d of %d unfinished activations do not replay with build %s (%d stuck, %d unregistered, %d with arguments that no longer fit); deployed, it would strand them",
			errStranded, rep.Activations-rep.Replays, rep.Activations, rep.Build, rep.Stuck, rep.Unregistered, rep.BadArguments)
	}
	return nil
}

// ticker reports progress on stderr every few seconds until stop is called.
func (c *cli) ticker(msg func() string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.progress("%s", msg())
			}
		}
	}()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			close(done)
			<-finished
		}
	}
}

// progressEvery is how often long operations report.
var progressEvery = 2 * time.Second

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
