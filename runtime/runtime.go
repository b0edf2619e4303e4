package runtime

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/pgstore"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// Options configure a runtime. The zero value is sensible.
type Options struct {
	// Build identifies this build in the store and in diagnostics. Default:
	// the VCS revision and a hash of the executable.
	Build string
	// Clock is the source of time for flow.Now and durable timers. Default:
	// the wall clock.
	Clock Clock
	// Logger receives diagnostics. Default: slog.Default().
	Logger *slog.Logger
	// MaxResident bounds the parked activations that keep their goroutines;
	// beyond it the least recently parked are evicted and replayed when
	// woken. Default 10,000.
	MaxResident int
	// ReplayStall is how long a replay may go without progress before the
	// watchdog fails it. Default 1 minute.
	ReplayStall time.Duration
	// WakeAll replays every unfinished activation at Start, sleeping ones
	// included, to find those an upgrade got stuck right away.
	WakeAll bool
	// Sync chooses durability against speed for the SQLite store Open
	// opens: sqlitestore.SyncFull (default) or sqlitestore.SyncNormal. See
	// the sqlitestore package.
	Sync sqlitestore.Sync
	// NoGroupCommit gives each log append its own transaction in the store
	// Open opens. It exists to measure what group commit buys.
	NoGroupCommit bool
	// Store, if set, is used instead of opening the store at the path or
	// URL given to Open (pgstore.Open, for instance, with options of its
	// own); the runtime does not close it.
	Store store.Store
	// Retention, if set, is how long done activations are kept: those that
	// finished longer ago are purged — row, log and outcome vow — at Start
	// and then periodically. Without it they are kept until Admin().Purge.
	// A purged activation is not found, and its StartWithID id may start a
	// new one.
	Retention time.Duration
	// KeepLogs keeps the log of a finished activation, for audit, until the
	// activation is purged. Without it a log is deleted when its activation
	// finishes. A run that continues as new starts an empty log all the
	// same: what is kept is the last run's.
	KeepLogs bool
	// TracerProvider, if set, receives a span for each run of an activation
	// and for each host call it makes, live or replayed, with a span event
	// when a replay fails. Pass otel.GetTracerProvider() for the global
	// one. Without it the runtime does no tracing work at all.
	TracerProvider trace.TracerProvider
	// MeterProvider, if set, receives the runtime's metrics: steps, replays,
	// failures by problem kind, commit batch sizes and latency (of the SQLite
	// store Open opens), resident activations. Without it the runtime
	// records nothing.
	MeterProvider metric.MeterProvider
}

// Runtime runs flows against a store: the host side of the membrane.
type Runtime struct {
	opts   Options
	tel    *telemetry // nil without a telemetry provider
	st     store.Store
	shared store.Shared // st, if several processes share it
	log    *slog.Logger
	clock  Clock
	gen    int64
	build  string

	hostCtx    context.Context
	cancelHost context.CancelFunc
	done       chan struct{}
	timerKick  chan struct{}
	loops      sync.WaitGroup

	mu          sync.Mutex
	flows       map[string]*flowDef
	services    map[string]service
	serviceIDs  map[any]string // provided impls, by identity
	resolvers   map[string]resolver
	active      map[flow.ActivationID]*activation
	parked      list.List // parked activations, most recently parked first
	started     bool
	closing     bool
	hostWaiters map[flow.VowID][]chan struct{}
	health      *health // whether the store takes writes
	timerErr    error   // the timer loop's last failure, its own
	builds      map[int64]string
	summary     Summary // what Start found, once summaryDone is closed
	summaryErr  error
	summaryDone chan struct{}
	verifying   map[flow.ActivationID]int // replayed by Admin.Verify now
}

type service struct {
	impl     any
	dispatch flowimpl.Dispatcher
}

type resolver struct {
	resolve  flowimpl.Resolver
	dispatch flowimpl.Dispatcher
}

type flowDef struct {
	rt   *Runtime
	def  flowimpl.FlowDef
	name string
}

var (
	_ flowimpl.Registry = (*Runtime)(nil)
	_ flowimpl.HostRefs = (*hostRefs)(nil)
)

// Open opens (or creates) the store at path and returns a runtime on it, in a
// new incarnation. Register flows and provide services, then call Start.
// The path is a file, for the embedded SQLite store, or a postgres:// (or
// postgresql://) URL, for the PostgreSQL store in the database it names;
// Options.Store overrides both.
func Open(ctx context.Context, path string, opts Options) (*Runtime, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.MaxResident <= 0 {
		opts.MaxResident = 10_000
	}
	if opts.ReplayStall <= 0 {
		opts.ReplayStall = time.Minute
	}
	if opts.Build == "" {
		opts.Build = buildID()
	}
	tel, err := newTelemetry(opts.TracerProvider, opts.MeterProvider)
	if err != nil {
		return nil, fmt.Errorf("runtime: telemetry: %w", err)
	}
	st := opts.Store
	if st == nil {
		if st, err = openStore(ctx, path, opts); err != nil {
			return nil, err
		}
	}
	if co, ok := st.(store.CommitObserver); ok && tel != nil && tel.meters {
		co.ObserveCommits(tel.onCommit)
	}
	gen, err := st.BeginIncarnation(ctx, opts.Build, os.Getpid())
	if err != nil {
		if opts.Store == nil {
			_ = st.Close(ctx)
		}
		return nil, fmt.Errorf("runtime: begin incarnation: %w", err)
	}
	hostCtx, cancel := context.WithCancel(context.Background())
	rt := &Runtime{
		opts:        opts,
		st:          st,
		log:         opts.Logger,
		clock:       opts.Clock,
		gen:         gen,
		build:       opts.Build,
		hostCtx:     hostCtx,
		cancelHost:  cancel,
		done:        make(chan struct{}),
		timerKick:   make(chan struct{}, 1),
		flows:       map[string]*flowDef{},
		services:    map[string]service{},
		serviceIDs:  map[any]string{},
		resolvers:   map[string]resolver{},
		active:      map[flow.ActivationID]*activation{},
		hostWaiters: map[flow.VowID][]chan struct{}{},
		health:      &health{log: opts.Logger},
		builds:      map[int64]string{gen: opts.Build},
		tel:         tel,
		summaryDone: make(chan struct{}),
		verifying:   map[flow.ActivationID]int{},
	}
	if tel != nil {
		tel.rt.Store(rt)
	}
	rt.shared, _ = st.(store.Shared)
	return rt, nil
}

// Generation returns this incarnation's generation number.
func (rt *Runtime) Generation() int64 { return rt.gen }

// Build returns this incarnation's build id.
func (rt *Runtime) Build() string { return rt.build }

// RegisterFlow implements flowimpl.Registry. Generated Register functions
// call it; register every flow before Start, in every incarnation. Registering a
// name twice, or after Start, panics: both are programming mistakes.
func (rt *Runtime) RegisterFlow(def flowimpl.FlowDef) flowimpl.Starter {
	if def.Name == "" || def.Run == nil {
		panic("runtime: RegisterFlow needs a name and a Run function")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		panic(fmt.Sprintf("runtime: flow %s registered after Start", def.Name))
	}
	if _, dup := rt.flows[def.Name]; dup {
		panic(fmt.Sprintf("runtime: flow %s registered twice", def.Name))
	}
	fd := &flowDef{rt: rt, def: def, name: def.Name}
	rt.flows[def.Name] = fd
	return fd
}

// ProvideService implements flowimpl.Registry: impl is the named service
// for this incarnation. Offer the same names in every incarnation. Providing a
// name twice panics.
func (rt *Runtime) ProvideService(name string, impl any, dispatch flowimpl.Dispatcher) {
	if name == "" || impl == nil || dispatch == nil {
		panic("runtime: ProvideService needs a name, an implementation and a dispatcher")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if _, dup := rt.services[name]; dup {
		panic(fmt.Sprintf("runtime: service %q provided twice", name))
	}
	rt.services[name] = service{impl: impl, dispatch: dispatch}
	if reflect.TypeOf(impl).Comparable() {
		rt.serviceIDs[impl] = name
	}
}

// ProvideResolver implements flowimpl.Registry: keyed host objects of the
// host interface with durable name name are found again with resolve.
func (rt *Runtime) ProvideResolver(name string, resolve flowimpl.Resolver, dispatch flowimpl.Dispatcher) {
	if name == "" || resolve == nil || dispatch == nil {
		panic("runtime: ProvideResolver needs a name, a resolver and a dispatcher")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if _, dup := rt.resolvers[name]; dup {
		panic(fmt.Sprintf("runtime: resolver %q provided twice", name))
	}
	rt.resolvers[name] = resolver{resolve: resolve, dispatch: dispatch}
}

// hostRefs is the runtime as the flowimpl.HostRefs of its host calls.
type hostRefs Runtime

// Object implements flowimpl.HostRefs.
func (h *hostRefs) Object(ctx context.Context, ref flow.Ref) (any, error) {
	obj, _, err := (*Runtime)(h).target(ctx, ref)
	return obj, err
}

// ServiceRef implements flowimpl.HostRefs.
func (h *hostRefs) ServiceRef(obj any) (flow.Ref, bool) {
	if obj == nil || !reflect.TypeOf(obj).Comparable() {
		return flow.Ref{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	name, ok := h.serviceIDs[obj]
	return flowimpl.ServiceRef(name), ok
}

// Start revives unfinished activations of registered flows: those that were
// running when the last incarnation ended, and those that failed (an upgrade
// may have fixed them). Suspended activations are not loaded; they are
// replayed when what they wait for settles (or all at once with
// Options.WakeAll). Activations of flows not registered in this incarnation
// are left as they are.
func (rt *Runtime) Start(ctx context.Context) error {
	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return fmt.Errorf("runtime: start: %w", ErrClosed)
	}
	if rt.started {
		rt.mu.Unlock()
		return fmt.Errorf("runtime: start: %w", ErrStarted)
	}
	rt.started = true
	rt.mu.Unlock()

	var revived, retried int
	if rt.shared != nil {
		// What other live processes run stays with them: adopt the rest.
		revived = rt.adopt(ctx)
		if err := ctx.Err(); err != nil {
			close(rt.summaryDone)
			return fmt.Errorf("runtime: start: %w", err)
		}
	} else {
		err := rt.st.Revivable(ctx, func(id flow.ActivationID, name string, state store.State) error {
			if _, ok := rt.flowNamed(name); !ok {
				return nil
			}
			if state == store.Failed {
				retried++
			} else {
				revived++
			}
			rt.wake(id, reviveRetry)
			return nil
		})
		if err != nil {
			close(rt.summaryDone)
			return fmt.Errorf("runtime: start: %w", err)
		}
	}
	rt.loops.Add(1)
	go rt.summarize(revived, retried)
	rt.loops.Add(2)
	go rt.timerLoop()
	go rt.watchdog()
	if rt.opts.Retention > 0 {
		rt.loops.Add(1)
		go rt.retain()
	}
	if rt.shared != nil {
		rt.loops.Add(1)
		go rt.events()
	}
	if rt.opts.WakeAll {
		if _, err := rt.wakeSuspended(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (rt *Runtime) flowNamed(name string) (*flowDef, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	fd, ok := rt.flows[name]
	return fd, ok
}

// StartFlow implements flowimpl.Starter.
func (fd *flowDef) StartFlow(ctx context.Context, key string, args []byte) (flow.VowID, error) {
	rt := fd.rt
	if err := ctx.Err(); err != nil {
		return flow.VowID{}, err
	}
	if err := codec.Valid(args); err != nil {
		return flow.VowID{}, fmt.Errorf("runtime: start %s: arguments: %w", fd.name, err)
	}
	if err := rt.reachable(args); err != nil {
		return flow.VowID{}, fmt.Errorf("runtime: start %s: %w", fd.name, err)
	}
	rt.mu.Lock()
	closing, started := rt.closing, rt.started
	rt.mu.Unlock()
	if closing {
		return flow.VowID{}, fmt.Errorf("runtime: start %s: %w", fd.name, ErrClosed)
	}
	if !started {
		return flow.VowID{}, fmt.Errorf("runtime: start %s: %w", fd.name, ErrNotStarted)
	}
	id := flow.NewActivationID()
	if key != "" {
		id = derivedID(fd.name, key)
	}
	a := store.Activation{ID: id, Flow: fd.name, StartKey: key, Args: args, Outcome: flow.NewVowID(), CreatedGen: rt.gen, Created: rt.clock.Now()}
	op := &store.CreateActivation{Activation: a}
	// Not bounded by ctx: once submitted the activation may exist, and it
	// must then run.
	if err := rt.st.Submit(op).Wait(); err != nil {
		return flow.VowID{}, fmt.Errorf("runtime: start %s: %w", fd.name, err)
	}
	if ex := op.Existing; ex != nil {
		if ex.Flow != fd.name || string(ex.Args) != string(args) {
			return ex.Outcome, fmt.Errorf("runtime: start %s with id %q: %w", fd.name, key, ErrStartConflict)
		}
		return ex.Outcome, nil
	}
	rt.launch(&a, fd, nil, false)
	return a.Outcome, nil
}

// openStore opens the store Open is given: PostgreSQL for a URL, SQLite for
// a path.
func openStore(ctx context.Context, path string, opts Options) (store.Store, error) {
	if pgstore.IsURL(path) {
		s, err := pgstore.Open(ctx, path, pgstore.Options{NoGroupCommit: opts.NoGroupCommit, Logger: opts.Logger})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Sync: opts.Sync, NoGroupCommit: opts.NoGroupCommit, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// derivedID is the activation id for a caller-given id: the same flow and id
// always give the same activation.
func derivedID(flowName, key string) flow.ActivationID {
	h := sha256.Sum256([]byte("asyncflow activation\x00" + flowName + "\x00" + key))
	var id flow.ActivationID
	copy(id[:], h[:16])
	return id
}

// Close stops taking work: new starts fail, host calls in flight see their
// context cancelled and are not logged (they are made again next
// incarnation), and guests leave at their next crossing. Commits already
// queued finish within ctx; the store is then closed. Close never leaves the
// store inconsistent, even when ctx ends first.
func (rt *Runtime) Close(ctx context.Context) error {
	// Host calls are cut before anything can see the runtime closing: a host
	// method that runs into the closing runtime (NewVow, Resolve, a start
	// refused) and returns that error has its call cut, never its result
	// logged.
	rt.cancelHost()
	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return fmt.Errorf("runtime: close: %w", ErrClosed)
	}
	rt.closing = true
	acts := make([]*activation, 0, len(rt.active))
	for _, a := range rt.active {
		acts = append(acts, a)
	}
	rt.mu.Unlock()
	if testHookClosing != nil {
		testHookClosing()
	}

	close(rt.done)
	for _, a := range acts {
		a.stop()
	}
	var errs []error
	for _, a := range acts {
		select {
		case <-a.exited:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("runtime: close: activation %s did not stop: %w", a.id, ctx.Err()))
		}
		if ctx.Err() != nil {
			break
		}
	}
	loopsDone := make(chan struct{})
	go func() { rt.loops.Wait(); close(loopsDone) }()
	select {
	case <-loopsDone:
	case <-ctx.Done():
	}
	if co, ok := rt.st.(store.CommitObserver); ok && rt.tel != nil && rt.tel.meters {
		co.ObserveCommits(nil) // a store the host gave outlives the runtime
	}
	if rt.opts.Store == nil {
		if err := rt.st.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// testHookClosing, if set, runs right after Close has marked the runtime
// closing.
var testHookClosing func()

// buildOf returns the build of an incarnation, for diagnostics.
func (rt *Runtime) buildOf(gen int64) string {
	rt.mu.Lock()
	b, ok := rt.builds[gen]
	rt.mu.Unlock()
	if ok {
		return b
	}
	inc, err := rt.st.Incarnation(context.Background(), gen)
	if err != nil {
		return "unknown"
	}
	rt.mu.Lock()
	rt.builds[gen] = inc.Build
	rt.mu.Unlock()
	return inc.Build
}
