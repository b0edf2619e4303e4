package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/buildid"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// Options configure a replay. The zero value is sensible.
type Options struct {
	// Build names the build being verified in diagnostics. Default: this
	// executable's build id, as runtime.Open records it.
	Build string
	// Workers is how many activations are replayed at once. Default:
	// GOMAXPROCS.
	Workers int
	// Stall is how long a replay may go without a crossing before it is
	// reported as stalled. Default 10 seconds.
	Stall time.Duration
	// Each, if set, is called with the result of every activation, from
	// one goroutine, in no particular order.
	Each func(Result)
	// Replaying, if set, is called with true before an activation is
	// replayed and with false after, from the replaying goroutine.
	Replaying func(id flow.ActivationID, on bool)
}

// Verdict is what the replay found of one activation.
type Verdict string

// Verdicts.
const (
	// Replays: the build reproduces the activation's whole log; it goes on
	// live where the log ends (or returns there, and finishes).
	Replays Verdict = "replays"
	// Stuck: the build does not reproduce the log; Failure says where and
	// why. Deployed, it would leave the activation failed.
	Stuck Verdict = "stuck"
	// Unregistered: the build does not register the activation's flow.
	// Deployed, it would leave the activation untouched.
	Unregistered Verdict = "unregistered"
	// BadArguments: the activation's stored arguments no longer fit the
	// flow's parameters; Failure names the parameter.
	BadArguments Verdict = "arguments"
)

// Result is what the replay found of one unfinished activation.
type Result struct {
	Activation flow.ActivationID
	Flow       string
	StartKey   string      // the id it was started with, if any
	State      store.State // as stored: running, suspended or failed
	Verdict    Verdict
	Entries    int  // its log's length
	Returns    bool // the flow returns at the end of the log: the next run finishes it
	// Decided are the flow.Patched ids replay takes as true where the log
	// has no marker for them (the activation ran the new path under a build
	// without the patch); the next run records the decision.
	Decided []string
	// Failure says why, for Stuck and BadArguments.
	Failure *diag.Diagnostic
}

// OK reports whether the activation replays.
func (r Result) OK() bool { return r.Verdict == Replays }

// Replay replays every unfinished activation of st — running, suspended and
// failed alike — against the flows register registers, and reports what it
// found. It calls no host and writes nothing to st: it only lists
// activations and reads their logs and the incarnations that wrote them, so
// it can read any store, a snapshot opened read-only or a replica. It
// returns an error only if st cannot be read; what the activations do is in
// the report.
//
// register is called once with the gate's registry, which takes the
// generated Register and Provide functions as a runtime does: pass the
// function that registers the flows and services of the build to verify.
// Services need no implementation (nil will do): nothing is called.
func Replay(ctx context.Context, st store.Store, register func(flowimpl.Registry), opts Options) (*Report, error) {
	if opts.Build == "" {
		opts.Build = buildid.ID()
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Stall <= 0 {
		opts.Stall = 10 * time.Second
	}
	reg := newRegistry()
	register(reg)
	g := &gate{st: st, reg: reg, opts: opts, builds: map[int64]string{}}
	start := time.Now()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []store.Activation, opts.Workers)
	results := make(chan Result, pageSize)
	var listErr error
	go func() {
		defer close(pages)
		listErr = g.list(ctx, pages)
	}()
	var wg sync.WaitGroup
	var readMu sync.Mutex
	var readErr error
	fail := func(err error) {
		readMu.Lock()
		if readErr == nil {
			readErr = err
		}
		readMu.Unlock()
		cancel()
	}
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for page := range pages {
				items, err := g.items(ctx, page)
				if err != nil {
					fail(err)
					continue
				}
				for _, it := range items {
					r, err := g.replay(ctx, it)
					if err != nil {
						fail(err)
						break
					}
					results <- r
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	rep := newReport(opts.Build, reg)
	for r := range results {
		rep.add(r)
		if opts.Each != nil {
			opts.Each(r)
		}
	}
	if err := errors.Join(listErr, readErr); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	rep.finish(time.Since(start))
	return rep, nil
}

// ReplayFile is Replay on the SQLite store at path, opened read-only (see
// sqlitestore.OpenReadOnly): a snapshot written by Admin().Backup.
func ReplayFile(ctx context.Context, path string, register func(flowimpl.Registry), opts Options) (*Report, error) {
	st, err := sqlitestore.OpenReadOnly(ctx, path, sqlitestore.Options{})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer st.Close(context.Background())
	rep, err := Replay(ctx, st, register, opts)
	if rep != nil {
		rep.Store = st.Path()
	}
	return rep, err
}

// gate is one replay of a store.
type gate struct {
	st   store.Store
	reg  *registry
	opts Options

	mu     sync.Mutex
	builds map[int64]string
}

// item is an activation to replay, with its log if it was read with its
// page's.
type item struct {
	a      store.Activation
	log    []store.Entry
	logErr error
	read   bool // log and logErr are set
}

// list sends every unfinished activation, state by state, a page at a time.
func (g *gate) list(ctx context.Context, out chan<- []store.Activation) error {
	for _, state := range []store.State{store.Running, store.Suspended, store.Failed} {
		f := store.Filter{State: state, Limit: pageSize}
		for {
			page, err := g.st.Activations(ctx, f)
			if err != nil {
				return err
			}
			select {
			case out <- page:
			case <-ctx.Done():
				return ctx.Err()
			}
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].Position()
		}
	}
	return nil
}

// pageSize is how many activations a worker takes at a time, their logs
// read in one go if the store can.
const pageSize = 500

// items reads the logs of a page of activations in one go, if the store
// can; otherwise replay reads each.
func (g *gate) items(ctx context.Context, page []store.Activation) ([]item, error) {
	items := make([]item, len(page))
	lr, batch := g.st.(store.LogReader)
	var ids []flow.ActivationID
	at := make(map[flow.ActivationID]int, len(page))
	for i, a := range page {
		items[i].a = a
		if _, ok := g.reg.flows[a.Flow]; ok && batch {
			ids = append(ids, a.ID)
			at[a.ID] = i
		}
	}
	if len(ids) == 0 {
		return items, nil
	}
	err := lr.Logs(ctx, ids, func(id flow.ActivationID, log []store.Entry, err error) {
		it := &items[at[id]]
		it.log, it.logErr, it.read = log, err, true
	})
	return items, err
}

// replay replays one activation.
func (g *gate) replay(ctx context.Context, it item) (Result, error) {
	a := it.a
	r := Result{Activation: a.ID, Flow: a.Flow, StartKey: a.StartKey, State: a.State}
	def, ok := g.reg.flows[a.Flow]
	if !ok {
		r.Verdict = Unregistered
		return r, nil
	}
	log, err := it.log, it.logErr
	if !it.read {
		log, err = g.st.Log(ctx, a.ID)
	}
	if errors.Is(err, store.ErrCorrupt) {
		r.Verdict, r.Failure = Stuck, &diag.Diagnostic{Problem: diag.CorruptLog, Activation: a.ID, Flow: a.Flow, Step: -1,
			Detail: err.Error(), FailedBuild: g.opts.Build, Time: time.Now()}
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.Entries = len(log)
	if d := g.unreachable(a); d != nil {
		r.Verdict, r.Failure = Stuck, d
		return r, nil
	}
	if g.opts.Replaying != nil {
		g.opts.Replaying(a.ID, true)
		defer g.opts.Replaying(a.ID, false)
	}
	entries := make([]membrane.Entry, len(log))
	for i, e := range log {
		entries[i] = membrane.Entry{Step: e.Step, Kind: membrane.Kind(e.Kind), Gen: e.Gen, Payload: e.Payload}
	}
	c := membrane.Config{Activation: a.ID, Flow: a.Flow, Log: entries}
	run := func(fc flow.Context) ([]byte, error) { return def.Run(fc, a.Args) }
	t := membrane.Dry(c, g, run, g.opts.Stall)
	if !t.OK() && len(t.Open) > 0 {
		found, trials := membrane.Search(c, g, run, g.opts.Stall, &t)
		if found != nil {
			t = *found
		} else {
			membrane.Explain(t.Failure, trials)
		}
	}
	switch {
	case t.OK():
		r.Verdict, r.Returns, r.Decided = Replays, t.Returned, t.Decided
	case t.Failure != nil && t.Failure.Problem == diag.BadArguments:
		r.Verdict, r.Failure = BadArguments, t.Failure
	default:
		r.Verdict, r.Failure = Stuck, t.Failure
		if r.Failure == nil {
			r.Failure = &diag.Diagnostic{Problem: diag.Stalled, Activation: a.ID, Flow: a.Flow, Step: t.Replayed, FailedBuild: g.opts.Build,
				Detail: "the replay ended before the end of the log without a failure", Time: time.Now()}
		}
	}
	return r, nil
}

// unreachable reports an activation whose arguments refer to a service or
// resolver the build does not provide: its next call to it would fail. It
// checks only if the build provides any, so a register function that
// registers flows alone is not held to it.
func (g *gate) unreachable(a store.Activation) *diag.Diagnostic {
	if len(g.reg.services) == 0 && len(g.reg.resolvers) == 0 {
		return nil
	}
	var d *diag.Diagnostic
	_ = codec.Refs(a.Args, func(kind, name, key string) {
		ref := flow.Ref{Kind: kind, Name: name, Key: key}
		missing := (kind == flow.RefService && !g.reg.services[name]) || (kind == flow.RefObject && !g.reg.resolvers[name])
		if d == nil && missing {
			d = &diag.Diagnostic{Problem: diag.Illegal, Activation: a.ID, Flow: a.Flow, Step: -1, FailedBuild: g.opts.Build, Time: time.Now(),
				Detail: "its arguments refer to " + ref.String() + ", which this build does not provide: its next call to it would fail"}
		}
	})
	return d
}

// Build implements membrane.DryHost: the build of an incarnation, read from
// the store.
func (g *gate) Build(gen int64) string {
	g.mu.Lock()
	b, ok := g.builds[gen]
	g.mu.Unlock()
	if ok {
		return b
	}
	b = "unknown"
	if inc, err := g.st.Incarnation(context.Background(), gen); err == nil {
		b = inc.Build
	}
	g.mu.Lock()
	g.builds[gen] = b
	g.mu.Unlock()
	return b
}

// Incarnation implements membrane.DryHost: the gate is no incarnation.
func (g *gate) Incarnation() (int64, string) { return 0, g.opts.Build }

// Now implements membrane.DryHost.
func (g *gate) Now() time.Time { return time.Now() }

// registry is the gate's flowimpl.Registry: it keeps the flows and the
// names of the services and resolvers, and starts nothing.
type registry struct {
	flows     map[string]flowimpl.FlowDef
	services  map[string]bool
	resolvers map[string]bool
}

func newRegistry() *registry {
	return &registry{flows: map[string]flowimpl.FlowDef{}, services: map[string]bool{}, resolvers: map[string]bool{}}
}

// RegisterFlow implements flowimpl.Registry. Registering a name twice
// panics, as it does on a runtime.
func (r *registry) RegisterFlow(def flowimpl.FlowDef) flowimpl.Starter {
	if def.Name == "" || def.Run == nil {
		panic("verify: RegisterFlow needs a name and a Run function")
	}
	if _, dup := r.flows[def.Name]; dup {
		panic(fmt.Sprintf("verify: flow %s registered twice", def.Name))
	}
	r.flows[def.Name] = def
	return noStart(def.Name)
}

// ProvideService implements flowimpl.Registry; impl may be nil.
func (r *registry) ProvideService(name string, impl any, dispatch flowimpl.Dispatcher) {
	r.services[name] = true
}

// ProvideResolver implements flowimpl.Registry; resolve may be nil.
func (r *registry) ProvideResolver(name string, resolve flowimpl.Resolver, dispatch flowimpl.Dispatcher) {
	r.resolvers[name] = true
}

func (r *registry) names() []string { return slices.Sorted(maps.Keys(r.flows)) }

// noStart is the Starter of a flow registered with the gate.
type noStart string

// ErrNoStart is returned by the handles of flows registered with the gate:
// it replays, and starts, sends and reads nothing.
var ErrNoStart = errors.New("verify: the replay gate starts no activation")

// StartFlow implements flowimpl.Starter.
func (n noStart) StartFlow(context.Context, string, []byte) (flow.VowID, error) {
	return flow.VowID{}, fmt.Errorf("start %s: %w", string(n), ErrNoStart)
}

// Send implements flowimpl.Starter.
func (n noStart) Send(context.Context, flowimpl.Recipient, string, string, []byte) error {
	return fmt.Errorf("send to %s: %w", string(n), ErrNoStart)
}

// Status implements flowimpl.Starter.
func (n noStart) Status(context.Context, flowimpl.Recipient, string) ([]byte, bool, error) {
	return nil, false, fmt.Errorf("status of %s: %w", string(n), ErrNoStart)
}
