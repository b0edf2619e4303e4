package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// AdminOptions configure OpenAdmin. The zero value reads.
type AdminOptions struct {
	// Write opens the store for writing — Terminate, RequestCancel and
	// Purge — migrating an older schema: a SQLite store with the exclusive
	// lock a runtime takes (so no runtime may run on it meanwhile), a
	// PostgreSQL store as one more process beside those that run flows.
	// Without it the store is opened read-only — a SQLite store with a
	// shared lock, a PostgreSQL store in read-only sessions that join no
	// lease (pgstore.OpenReadOnly) — nothing is written, and every write is
	// refused with store.ErrReadOnly.
	Write bool
	// Build names the build of the incarnation a write is recorded in.
	// Default "asyncflow-admin".
	Build string
	// KeepLogs keeps the log of an activation Terminate finishes, as
	// Options.KeepLogs does for a runtime.
	KeepLogs bool
	// Clock gives the times writes are recorded at. Default: the wall
	// clock.
	Clock Clock
	// Logger receives the store's diagnostics. Default: slog.Default().
	Logger *slog.Logger
}

// OpenAdmin opens the store at path — a SQLite file, or a postgres:// URL —
// without running anything: the Admin of an operator's tool. It lists,
// shows, reads logs and failures, and with Write terminates, requests
// cancellations and purges; what
// needs the flows' code or registry (Retry, Wake, WakeAll, Unregistered)
// returns ErrNoRuntime. A SQLite store a runtime holds gives store.ErrLocked
// at once: reach that process's admin handler instead. Close it when done.
func OpenAdmin(ctx context.Context, path string, opts AdminOptions) (*Admin, error) {
	if opts.Build == "" {
		opts.Build = "asyncflow-admin"
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var st store.Store
	var err error
	switch {
	case pgstore.IsURL(path) && opts.Write:
		st, err = pgstore.Open(ctx, path, pgstore.Options{Logger: opts.Logger})
	case pgstore.IsURL(path):
		st, err = pgstore.OpenReadOnly(ctx, path, pgstore.Options{Logger: opts.Logger})
	case opts.Write:
		st, err = sqlitestore.Open(ctx, path, sqlitestore.Options{Logger: opts.Logger})
	default:
		st, err = sqlitestore.OpenReadOnly(ctx, path, sqlitestore.Options{Logger: opts.Logger})
	}
	if err != nil {
		return nil, err
	}
	return &Admin{st: st, clock: opts.Clock, builds: map[int64]string{}, opts: opts}, nil
}

// Close closes the store of an Admin OpenAdmin opened. A runtime's Admin
// has nothing to close: close the runtime.
func (ad *Admin) Close(ctx context.Context) error {
	if ad.rt != nil {
		return nil
	}
	return ad.st.Close(ctx)
}

// writeGen returns the incarnation an Admin on a store alone records its
// writes in, recording it the first time.
func (ad *Admin) writeGen(ctx context.Context) (int64, error) {
	ad.mu.Lock()
	defer ad.mu.Unlock()
	if ad.gen != 0 {
		return ad.gen, nil
	}
	gen, err := ad.st.BeginIncarnation(ctx, ad.opts.Build, os.Getpid())
	if err != nil {
		return 0, err
	}
	ad.gen = gen
	ad.builds[gen] = ad.opts.Build
	return gen, nil
}

// terminateStored is Terminate on a store alone: no guest runs it here, and
// a runtime would hold the store, so finishing it in the store is all.
func (ad *Admin) terminateStored(ctx context.Context, id flow.ActivationID) error {
	gen, err := ad.writeGen(ctx)
	if err != nil {
		return fmt.Errorf("runtime: terminate %s: %w", id, err)
	}
	if err := claimToTerminate(ctx, ad.st, id); err != nil {
		return fmt.Errorf("runtime: terminate %s: %w", id, err)
	}
	var e codec.Encoder
	e.EncodeError(flow.ErrTerminated)
	op := &store.Finish{Act: id, State: store.VowRejected, Payload: e.Bytes(), Gen: gen, At: ad.clock.Now(), KeepLog: ad.opts.KeepLogs}
	if err := store.Apply(ctx, ad.st, op); err != nil {
		return fmt.Errorf("runtime: terminate %s: %w", id, err)
	}
	if !op.Finished {
		return ad.notFinished(ctx, id)
	}
	return nil
}
