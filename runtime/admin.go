package runtime

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// State is an activation's state as Admin reports it.
type State string

// States.
const (
	StateRunning   State = "running"   // resident and live
	StateReplaying State = "replaying" // resident, replaying its log
	StateSuspended State = "suspended" // waiting for a vow or a timer
	StateFailed    State = "failed"    // stuck, with a diagnostic
	StateDone      State = "done"      // outcome settled
)

// ActivationInfo is what Admin reports of an activation.
type ActivationInfo struct {
	ID       flow.ActivationID
	Flow     string
	StartKey string // the caller's id, for StartWithID
	State    State
	// Run counts its runs: 0 until it first continues as new, then one
	// more each time. Its log is the current run's.
	Run int
	// Registered is false for activations of a flow this incarnation has
	// not registered: they are left untouched until one does. An Admin on a
	// store alone (OpenAdmin) has no registry and leaves it false.
	Registered bool
	// Resident is true if a goroutine runs or holds it now.
	Resident bool
	Outcome  flow.VowID
	// Created is when it was started, StateSince when it entered its
	// state, Finished when it was done (zero before), Changed when its row
	// or its log last changed.
	Created, StateSince, Finished, Changed time.Time
	CreatedGen                             int64            // incarnation that started it
	CreatedBuild                           string           // and its build
	Gen                                    int64            // incarnation of the last state change
	LastGen                                int64            // last incarnation that wrote its row or its log
	LastBuild                              string           // and its build
	Failure                                *diag.Diagnostic // why it is stuck, while failed
	// Parent is the activation that started this one as its child; zero
	// for one a host started.
	Parent flow.ActivationID
	Waits  []flow.VowID // filled by Get and Find
	// Filled by Get and Find: the activations it started as its children,
	// what it published, and the messages sent to it that it has not
	// received.
	Children []flow.ActivationID
	Statuses []Published
	Mailbox  []Message

	live bool // a runtime filled in Registered and Resident
}

// Cursor is the position of the activation in a listing, as text: a List
// with After set to it resumes after this activation.
func (i ActivationInfo) Cursor() string {
	var ns int64
	if !i.Created.IsZero() {
		ns = i.Created.UnixNano()
	}
	return strconv.FormatInt(ns, 10) + "." + i.ID.String()
}

func parseCursor(s string) (store.Cursor, error) {
	var c store.Cursor
	if s == "" {
		return c, nil
	}
	ns, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || len(id) != 32 {
		return c, fmt.Errorf("runtime: cursor %q: %w", s, ErrBadCursor)
	}
	if _, err := hex.Decode(c.ID[:], []byte(id)); err != nil {
		return c, fmt.Errorf("runtime: cursor %q: %w", s, ErrBadCursor)
	}
	if n != 0 {
		c.Created = time.Unix(0, n)
	}
	return c, nil
}

// LogEntry is one log entry, rendered: the timeline of an activation.
type LogEntry struct {
	Step  int64     `json:"step"`
	Kind  string    `json:"kind"` // call, issue, result, vow or marker
	At    time.Time `json:"at,omitzero"`
	Gen   int64     `json:"gen"`             // the incarnation that wrote it
	Build string    `json:"build,omitempty"` // and its build
	Text  string    `json:"text"`            // what was called or observed, decoded
}

// Admin inspects and manages activations: those of a runtime, or of a store
// opened alone with OpenAdmin.
type Admin struct {
	rt    *Runtime // nil for a store alone
	st    store.Store
	clock Clock

	// For a store alone (OpenAdmin):
	opts   AdminOptions
	mu     sync.Mutex
	builds map[int64]string
	gen    int64 // the incarnation its writes are recorded in, once it writes
}

// Admin returns the runtime's administration interface.
func (rt *Runtime) Admin() *Admin { return &Admin{rt: rt, st: rt.st, clock: rt.clock} }

// ListOptions select activations; zero fields select everything. Listings
// are newest first.
type ListOptions struct {
	State State
	Flow  string
	Build string // started by an incarnation of this build
	// Since and Until select those created at or after Since and before
	// Until.
	Since, Until time.Time
	After        string // resume after this position: an ActivationInfo's Cursor
	Limit        int    // default 1000
}

func (o ListOptions) filter() (store.Filter, error) {
	st, err := toStoreState(o.State)
	if err != nil {
		return store.Filter{}, err
	}
	after, err := parseCursor(o.After)
	if err != nil {
		return store.Filter{}, err
	}
	return store.Filter{State: st, Flow: o.Flow, Build: o.Build, Since: o.Since, Until: o.Until, After: after, Limit: o.Limit}, nil
}

func (ad *Admin) buildOf(gen int64) string {
	if gen == 0 {
		return ""
	}
	if ad.rt != nil {
		return ad.rt.buildOf(gen)
	}
	ad.mu.Lock()
	b, ok := ad.builds[gen]
	ad.mu.Unlock()
	if ok {
		return b
	}
	inc, err := ad.st.Incarnation(context.Background(), gen)
	if err != nil {
		return "unknown"
	}
	ad.mu.Lock()
	ad.builds[gen] = inc.Build
	ad.mu.Unlock()
	return inc.Build
}

func (ad *Admin) info(a store.Activation) ActivationInfo {
	info := ActivationInfo{ID: a.ID, Flow: a.Flow, StartKey: a.StartKey, Run: a.Run, Outcome: a.Outcome,
		Created: a.Created, StateSince: a.StateSince, Finished: a.Finished, Changed: a.Changed,
		CreatedGen: a.CreatedGen, CreatedBuild: ad.buildOf(a.CreatedGen), Gen: a.Gen, LastGen: a.LastGen, LastBuild: ad.buildOf(a.LastGen),
		Parent: a.Parent}
	replaying := false
	if rt := ad.rt; rt != nil {
		rt.mu.Lock()
		_, info.Registered = rt.flows[a.Flow]
		act, resident := rt.active[a.ID]
		replaying = resident && act.m != nil && (act.m.Replaying() || act.searching.Load()) || rt.verifying[a.ID] > 0
		rt.mu.Unlock()
		info.Resident, info.live = resident, true
	}
	switch a.State {
	case store.Running:
		info.State = StateRunning
	case store.Suspended:
		info.State = StateSuspended
	case store.Failed:
		info.State = StateFailed
		if len(a.Failure) > 0 {
			d := &diag.Diagnostic{}
			if err := json.Unmarshal(a.Failure, d); err != nil {
				d = &diag.Diagnostic{Problem: "unreadable", Detail: string(a.Failure), Step: -1}
			}
			d.Activation = a.ID
			info.Failure = d
		}
	case store.Done:
		info.State = StateDone
	}
	if replaying && info.State != StateDone {
		// Replayed now — woken, retried, or by WakeAll — whatever state it
		// was stored in.
		info.State = StateReplaying
	}
	return info
}

func toStoreState(s State) (store.State, error) {
	switch s {
	case "", StateReplaying: // replaying is not stored: any state may be replayed
		return 0, nil
	case StateRunning:
		return store.Running, nil
	case StateSuspended:
		return store.Suspended, nil
	case StateFailed:
		return store.Failed, nil
	case StateDone:
		return store.Done, nil
	}
	return 0, fmt.Errorf("runtime: state %q: %w", s, ErrUnknownState)
}

// List lists activations, newest first, a page at a time: pass the Cursor of
// the last one as After for the next page.
func (ad *Admin) List(ctx context.Context, o ListOptions) ([]ActivationInfo, error) {
	f, err := o.filter()
	if err != nil {
		return nil, err
	}
	rows, err := ad.st.Activations(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]ActivationInfo, 0, len(rows))
	for _, r := range rows {
		// An activation being replayed is listed under its stored state
		// too.
		if i := ad.info(r); o.State == "" || i.State == o.State || i.State == StateReplaying {
			out = append(out, i)
		}
	}
	return out, nil
}

// Count counts the activations o selects, ignoring o.After; with o.Limit
// set it counts no further than that.
func (ad *Admin) Count(ctx context.Context, o ListOptions) (int, error) {
	f, err := o.filter()
	if err != nil {
		return 0, err
	}
	return ad.st.Count(ctx, f)
}

// each calls fn for every activation matching o, page by page.
func (ad *Admin) each(ctx context.Context, o ListOptions, fn func(ActivationInfo)) error {
	f, err := o.filter()
	if err != nil {
		return err
	}
	f.Limit = 1000
	for {
		page, err := ad.st.Activations(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range page {
			fn(ad.info(r))
		}
		if len(page) < f.Limit {
			return nil
		}
		f.After = page[len(page)-1].Position()
	}
}

// Get returns one activation, with what it waits for.
func (ad *Admin) Get(ctx context.Context, id flow.ActivationID) (ActivationInfo, error) {
	row, err := ad.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ActivationInfo{}, fmt.Errorf("runtime: activation %s: %w", id, ErrUnknownActivation)
	}
	if err != nil {
		return ActivationInfo{}, err
	}
	return ad.withWaits(ctx, row)
}

func (ad *Admin) withWaits(ctx context.Context, row store.Activation) (ActivationInfo, error) {
	info := ad.info(row)
	var err error
	if info.Waits, err = ad.st.Waits(ctx, row.ID); err != nil {
		return info, err
	}
	return info, ad.talk(ctx, &info)
}

// Find returns the activation ref names: its id, the id of its outcome vow,
// or the id it was started with (StartWithID's). A start key that several
// flows used is ErrAmbiguous; the error names them.
func (ad *Admin) Find(ctx context.Context, ref string) (ActivationInfo, error) {
	if id, err := flow.ParseActivationID(ref); err == nil {
		row, err := ad.st.Activation(ctx, id)
		if err == nil {
			return ad.withWaits(ctx, row)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return ActivationInfo{}, err
		}
		row, err = ad.st.ActivationByOutcome(ctx, flow.VowID(id))
		if err == nil {
			return ad.withWaits(ctx, row)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return ActivationInfo{}, err
		}
	}
	rows, err := ad.st.ActivationsByKey(ctx, ref)
	if err != nil {
		return ActivationInfo{}, err
	}
	switch len(rows) {
	case 0:
		return ActivationInfo{}, fmt.Errorf("runtime: %q is no activation's id, outcome or start key: %w", ref, ErrUnknownActivation)
	case 1:
		return ad.withWaits(ctx, rows[0])
	}
	var which []string
	for _, r := range rows {
		which = append(which, r.ID.String()+" ("+r.Flow+")")
	}
	return ActivationInfo{}, fmt.Errorf("runtime: start key %q: %w: %s", ref, ErrAmbiguous, strings.Join(which, ", "))
}

// ByKey returns the activations started with key, newest first: one per
// flow at most.
func (ad *Admin) ByKey(ctx context.Context, key string) ([]ActivationInfo, error) {
	rows, err := ad.st.ActivationsByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]ActivationInfo, len(rows))
	for i, r := range rows {
		out[i] = ad.info(r)
	}
	return out, nil
}

// Build returns the build of the runtime an Admin belongs to, or, for a
// store alone, the build its writes are recorded as.
func (ad *Admin) Build() string {
	if ad.rt != nil {
		return ad.rt.build
	}
	return ad.opts.Build
}

// Failures returns every failed activation with its diagnostic, newest
// first.
func (ad *Admin) Failures(ctx context.Context) ([]ActivationInfo, error) {
	var out []ActivationInfo
	err := ad.each(ctx, ListOptions{State: StateFailed}, func(i ActivationInfo) { out = append(out, i) })
	return out, err
}

// Unregistered returns the unfinished activations of flows this incarnation
// has not registered, newest first. It needs a runtime: an Admin on a store
// alone has no registry and returns ErrNoRuntime.
func (ad *Admin) Unregistered(ctx context.Context) ([]ActivationInfo, error) {
	if ad.rt == nil {
		return nil, fmt.Errorf("runtime: unregistered: %w", ErrNoRuntime)
	}
	var out []ActivationInfo
	for _, st := range []State{StateRunning, StateFailed, StateSuspended} {
		err := ad.each(ctx, ListOptions{State: st}, func(i ActivationInfo) {
			if !i.Registered {
				out = append(out, i)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	sortNewestFirst(out)
	return out, nil
}

// Log returns an activation's log, rendered: its timeline. An id that is
// no activation gives ErrUnknownActivation.
func (ad *Admin) Log(ctx context.Context, id flow.ActivationID) ([]LogEntry, error) {
	entries, err := ad.st.Log(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		// An empty log is an activation's only if there is one.
		if _, err := ad.st.Activation(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("runtime: log of %s: %w", id, ErrUnknownActivation)
		} else if err != nil {
			return nil, err
		}
	}
	out := make([]LogEntry, len(entries))
	for i, e := range entries {
		me := membrane.Entry{Step: e.Step, Kind: membrane.Kind(e.Kind), Gen: e.Gen, Payload: e.Payload}
		out[i] = LogEntry{Step: e.Step, Kind: me.Kind.String(), At: e.At, Gen: e.Gen, Build: ad.buildOf(e.Gen), Text: membrane.Describe(me)}
	}
	return out, nil
}
