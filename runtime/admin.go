package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
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
	// Registered is false for activations of a flow this incarnation has
	// not registered: they are left untouched until one does.
	Registered bool
	// Resident is true if a goroutine runs or holds it now.
	Resident   bool
	Outcome    flow.VowID
	CreatedGen int64
	Gen        int64            // incarnation of the last state change
	Failure    *diag.Diagnostic // why it is stuck, while failed
	Waits      []flow.VowID     // filled by Get
}

// LogEntry is one log entry, rendered.
type LogEntry struct {
	Step int64
	Gen  int64
	Text string
}

// Admin inspects and manages activations.
type Admin struct{ rt *Runtime }

// Admin returns the runtime's administration interface.
func (rt *Runtime) Admin() *Admin { return &Admin{rt: rt} }

// ListOptions select activations; zero fields select everything.
type ListOptions struct {
	State State
	Flow  string
	After flow.ActivationID // for paging: list ids after this one
	Limit int               // default 1000
}

func (ad *Admin) info(a store.Activation) ActivationInfo {
	rt := ad.rt
	info := ActivationInfo{ID: a.ID, Flow: a.Flow, StartKey: a.StartKey, Outcome: a.Outcome, CreatedGen: a.CreatedGen, Gen: a.Gen}
	rt.mu.Lock()
	_, info.Registered = rt.flows[a.Flow]
	act, resident := rt.active[a.ID]
	replaying := resident && act.m != nil && act.m.Replaying()
	rt.mu.Unlock()
	info.Resident = resident
	switch a.State {
	case store.Running:
		info.State = StateRunning
		if replaying {
			info.State = StateReplaying
		}
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
	return info
}

func toStoreState(s State) (store.State, error) {
	switch s {
	case "":
		return 0, nil
	case StateRunning, StateReplaying:
		return store.Running, nil
	case StateSuspended:
		return store.Suspended, nil
	case StateFailed:
		return store.Failed, nil
	case StateDone:
		return store.Done, nil
	}
	return 0, fmt.Errorf("runtime: unknown state %q", s)
}

// List lists activations in id order.
func (ad *Admin) List(ctx context.Context, o ListOptions) ([]ActivationInfo, error) {
	st, err := toStoreState(o.State)
	if err != nil {
		return nil, err
	}
	rows, err := ad.rt.st.Activations(ctx, store.Filter{State: st, Flow: o.Flow, After: o.After, Limit: o.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]ActivationInfo, 0, len(rows))
	for _, r := range rows {
		if i := ad.info(r); o.State == "" || i.State == o.State || (o.State == StateRunning && i.State == StateReplaying) {
			out = append(out, i)
		}
	}
	return out, nil
}

// each calls fn for every activation matching o, page by page.
func (ad *Admin) each(ctx context.Context, o ListOptions, fn func(ActivationInfo)) error {
	o.Limit = 1000
	for {
		page, err := ad.rt.st.Activations(ctx, store.Filter{State: mustState(o.State), Flow: o.Flow, After: o.After, Limit: o.Limit})
		if err != nil {
			return err
		}
		for _, r := range page {
			fn(ad.info(r))
		}
		if len(page) < o.Limit {
			return nil
		}
		o.After = page[len(page)-1].ID
	}
}

func mustState(s State) store.State {
	st, _ := toStoreState(s)
	return st
}

// Get returns one activation, with what it waits for.
func (ad *Admin) Get(ctx context.Context, id flow.ActivationID) (ActivationInfo, error) {
	row, err := ad.rt.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ActivationInfo{}, fmt.Errorf("runtime: activation %s: %w", id, ErrUnknownActivation)
	}
	if err != nil {
		return ActivationInfo{}, err
	}
	info := ad.info(row)
	info.Waits, err = ad.rt.st.Waits(ctx, id)
	return info, err
}

// Failures returns every failed activation with its diagnostic.
func (ad *Admin) Failures(ctx context.Context) ([]ActivationInfo, error) {
	var out []ActivationInfo
	err := ad.each(ctx, ListOptions{State: StateFailed}, func(i ActivationInfo) { out = append(out, i) })
	return out, err
}

// Unregistered returns the unfinished activations of flows this incarnation
// has not registered. It reads every activation: an inspection, not a hot
// path.
func (ad *Admin) Unregistered(ctx context.Context) ([]ActivationInfo, error) {
	var out []ActivationInfo
	err := ad.each(ctx, ListOptions{}, func(i ActivationInfo) {
		if !i.Registered && i.State != StateDone {
			out = append(out, i)
		}
	})
	return out, err
}

// Log returns an activation's log, rendered.
func (ad *Admin) Log(ctx context.Context, id flow.ActivationID) ([]LogEntry, error) {
	entries, err := ad.rt.st.Log(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]LogEntry, len(entries))
	for i, e := range entries {
		out[i] = LogEntry{Step: e.Step, Gen: e.Gen, Text: membrane.Describe(membrane.Entry{Step: e.Step, Kind: membrane.Kind(e.Kind), Gen: e.Gen, Payload: e.Payload})}
	}
	return out, nil
}

// Retry replays a failed activation now, as Start would.
func (ad *Admin) Retry(ctx context.Context, id flow.ActivationID) error {
	rt := ad.rt
	row, err := rt.st.Activation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrUnknownActivation
	}
	if err != nil {
		return fmt.Errorf("runtime: retry %s: %w", id, err)
	}
	if row.State != store.Failed {
		return fmt.Errorf("runtime: retry %s (%s): %w", id, row.State, ErrNotFailed)
	}
	if _, ok := rt.flowNamed(row.Flow); !ok {
		return fmt.Errorf("runtime: retry %s: %s: %w", id, row.Flow, ErrUnregistered)
	}
	if rt.isClosing() {
		return fmt.Errorf("runtime: retry %s: %w", id, ErrClosed)
	}
	rt.wake(id, reviveRetry)
	return nil
}

// Cancel gives an activation up: its outcome is rejected with
// flow.ErrCancelled and its log deleted. A resident guest leaves at its next
// crossing and performs nothing more.
func (ad *Admin) Cancel(ctx context.Context, id flow.ActivationID) error {
	rt := ad.rt
	var e codec.Encoder
	e.EncodeError(flow.ErrCancelled)
	op := &store.Finish{Act: id, State: store.VowRejected, Payload: e.Bytes(), Gen: rt.gen}

	rt.mu.Lock()
	if rt.closing {
		rt.mu.Unlock()
		return fmt.Errorf("runtime: cancel %s: %w", id, ErrClosed)
	}
	a, resident := rt.active[id]
	if !resident {
		// Hold the place, so nothing revives it meanwhile.
		a = &activation{rt: rt, id: id, exited: make(chan struct{}), dead: true}
		rt.active[id] = a
	}
	rt.mu.Unlock()

	a.mu.Lock()
	a.dead = true
	m := a.m
	p := rt.st.Submit(op) // after every append of the guest
	a.mu.Unlock()
	if m != nil {
		m.Stop()
	}
	err := p.Wait()
	if !resident {
		a.exit()
	}
	if err != nil {
		return fmt.Errorf("runtime: cancel %s: %w", id, err)
	}
	if !op.Finished {
		if _, gerr := rt.st.Activation(ctx, id); errors.Is(gerr, store.ErrNotFound) {
			return fmt.Errorf("runtime: cancel %s: %w", id, ErrUnknownActivation)
		}
		return fmt.Errorf("runtime: cancel %s: %w", id, ErrFinished)
	}
	rt.settled(op.Outcome, op.State, op.Payload, op.Waiters)
	return nil
}

// WakeAll replays every suspended activation of a registered flow now, so
// that an upgrade's stuck activations show up at once instead of when what
// they wait for settles. It returns how many it woke.
func (ad *Admin) WakeAll(ctx context.Context) (int, error) {
	return ad.rt.wakeSuspended(ctx)
}

func (rt *Runtime) wakeSuspended(ctx context.Context) (int, error) {
	n := 0
	err := rt.Admin().each(ctx, ListOptions{State: StateSuspended}, func(i ActivationInfo) {
		if i.Registered {
			rt.wake(i.ID, reviveSuspended)
			n++
		}
	})
	return n, err
}

// Check verifies the store's integrity.
func (ad *Admin) Check(ctx context.Context) error { return ad.rt.st.Check(ctx) }
