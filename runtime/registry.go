package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// Registry is what generated Register and Provide functions take: a
// *Runtime, or the registry the replay gate (package verify, flowtest)
// replays with. A program that registers its flows and services in one
// function of a Registry gives the gate exactly what it runs:
//
//	func register(r runtime.Registry, h *Host) {
//		shop.ProvideLedger(r, "ledger", h)
//		shop.RegisterFulfil(r)
//	}
type Registry = flowimpl.Registry

// reachable checks that every host object the encoded arguments of a new
// activation refer to can be reached in this incarnation: a service
// provided under its name, a keyed object of an interface whose resolver is
// registered. A name mistyped at Start (MailerRef("mial")) fails here, not
// at the activation's first call.
func (rt *Runtime) reachable(args []byte) error {
	var missing error
	err := codec.Refs(args, func(kind, name, key string) {
		if missing != nil {
			return
		}
		rt.mu.Lock()
		_, isSvc := rt.services[name]
		_, isRes := rt.resolvers[name]
		rt.mu.Unlock()
		ref := flow.Ref{Kind: kind, Name: name, Key: key}
		switch {
		case kind == flow.RefService && !isSvc:
			missing = fmt.Errorf("an argument refers to %s: %w: it is not provided in this incarnation%s", ref, flow.ErrUnknownService, rt.nearest())
		case kind == flow.RefObject && !isRes:
			missing = fmt.Errorf("an argument refers to %s: %w: no resolver for %s objects in this incarnation", ref, flow.ErrUnknownService, name)
		}
	})
	if err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	return missing
}

// nearest names the provided services, to help with a typo.
func (rt *Runtime) nearest() string {
	rt.mu.Lock()
	names := make([]string, 0, len(rt.services))
	for n := range rt.services {
		names = append(names, strconv.Quote(n))
	}
	rt.mu.Unlock()
	if len(names) == 0 {
		return " (no service is)"
	}
	slices.Sort(names)
	return " (provided: " + strings.Join(names, ", ") + ")"
}

// Backup writes a consistent copy of the runtime's store to the new file
// dest while the runtime runs: the snapshot the replay gate reads before a
// new build is deployed (see package verify). The store must be a
// store.Backuper, as both stores are: a SQLite store copies its file, a
// PostgreSQL store writes one snapshot of its database as a SQLite store
// file.
func (ad *Admin) Backup(ctx context.Context, dest string) error {
	b, ok := ad.st.(store.Backuper)
	if !ok {
		return fmt.Errorf("runtime: backup to %s: %w", dest, errors.ErrUnsupported)
	}
	if err := b.Backup(ctx, dest); err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	return nil
}

// Verify runs the replay gate (package verify) on the runtime's own store
// with the flows and services this incarnation registers: what a restart of
// this build would find, without restarting. Activations it replays are
// reported by Admin as replaying meanwhile. A new build is verified instead
// against a snapshot (Backup), with verify.ReplayFile or flowtest.
func (ad *Admin) Verify(ctx context.Context, opts verify.Options) (*verify.Report, error) {
	rt := ad.rt
	if rt == nil {
		return nil, fmt.Errorf("runtime: verify: %w", ErrNoRuntime)
	}
	if opts.Build == "" {
		opts.Build = rt.build
	}
	hook := opts.Replaying
	opts.Replaying = func(id flow.ActivationID, on bool) {
		rt.mu.Lock()
		if on {
			rt.verifying[id]++
		} else if rt.verifying[id]--; rt.verifying[id] <= 0 {
			delete(rt.verifying, id)
		}
		rt.mu.Unlock()
		if hook != nil {
			hook(id, on)
		}
	}
	return verify.Replay(ctx, rt.st, rt.registerInto, opts)
}

// VerifyBuild runs the replay gate (package verify) on the admin's store
// against the flows and services register registers: the build about to be
// deployed, which need not be the one running. It works on any Admin — of a
// runtime, or of a store alone (OpenAdmin), a snapshot file or a PostgreSQL
// database — and reads only: no host is called and nothing is written.
func (ad *Admin) VerifyBuild(ctx context.Context, register func(Registry), opts verify.Options) (*verify.Report, error) {
	if register == nil {
		return nil, errors.New("runtime: verify: no function registers the build's flows")
	}
	return verify.Replay(ctx, ad.st, register, opts)
}

// registerInto registers this incarnation's flows, services and resolvers
// with another registry.
func (rt *Runtime) registerInto(r Registry) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, fd := range rt.flows {
		r.RegisterFlow(fd.def)
	}
	for name, s := range rt.services {
		r.ProvideService(name, s.impl, s.dispatch)
	}
	for name, res := range rt.resolvers {
		r.ProvideResolver(name, res.resolve, res.dispatch)
	}
}
