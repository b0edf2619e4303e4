package payments

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// Host implements Ledger, Approvals and Notifier, recording every effect in
// a journal. It is idempotent by the runtime's idempotency keys: a call made
// again after a crash returns what the first one did.
type Host struct {
	rt *runtime.Runtime
	j  *Journal

	mu       sync.Mutex
	requests map[string]flow.VowID // Request calls, by idempotency key
	pending  map[flow.VowID]string // unanswered requests: vow → activation
}

// NewHost returns a host recording into j; earlier effects (from earlier
// incarnations) are read from the journal at path.
func NewHost(rt *runtime.Runtime, j *Journal, path string) (*Host, error) {
	h := &Host{rt: rt, j: j, requests: map[string]flow.VowID{}, pending: map[flow.VowID]string{}}
	effects, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	for _, e := range effects {
		switch e.Op {
		case "Request":
			id, err := flow.ParseVowID(e.Vow)
			if err != nil {
				return nil, fmt.Errorf("journal: %w", err)
			}
			h.requests[e.Key] = id
			h.pending[id] = e.Activation
		case "approve":
			id, _ := flow.ParseVowID(e.Vow)
			delete(h.pending, id)
		}
	}
	return h, nil
}

func (h *Host) record(ctx context.Context, op string, args string) error {
	info, _ := flow.CallInfoFrom(ctx)
	return h.j.Record(Effect{Op: op, Key: info.IdempotencyKey(), Activation: info.Activation.String(), Args: args})
}

// Fee implements Ledger: one percent.
func (h *Host) Fee(ctx context.Context, cents int64) (int64, error) {
	if err := h.record(ctx, "Fee", fmt.Sprint(cents)); err != nil {
		return 0, err
	}
	return cents / 100, nil
}

// Reserve implements Ledger.
func (h *Host) Reserve(ctx context.Context, account string, cents int64) (Hold, error) {
	if err := h.record(ctx, "Reserve", fmt.Sprintf("%s %d", account, cents)); err != nil {
		return Hold{}, err
	}
	info, _ := flow.CallInfoFrom(ctx)
	return Hold{ID: "hold-" + info.Activation.String()[:8], Account: account, Cents: cents}, nil
}

// Transfer implements Ledger.
func (h *Host) Transfer(ctx context.Context, hold Hold) (TxID, error) {
	if err := h.record(ctx, "Transfer", fmt.Sprintf("%s %s %d", hold.ID, hold.Account, hold.Cents)); err != nil {
		return "", err
	}
	return TxID("tx-" + hold.ID), nil
}

// Request implements Approvals: it returns a vow a person settles later.
func (h *Host) Request(ctx context.Context, account string, cents int64) (flow.Vow[bool], error) {
	info, _ := flow.CallInfoFrom(ctx)
	key := info.IdempotencyKey()
	h.mu.Lock()
	id, again := h.requests[key]
	h.mu.Unlock()
	if again {
		return flow.VowOf[bool](id), nil
	}
	v, err := runtime.NewVow[bool](ctx, h.rt)
	if err != nil {
		return v, err
	}
	if err := h.j.Record(Effect{Op: "Request", Key: key, Activation: info.Activation.String(), Args: fmt.Sprintf("%s %d", account, cents), Vow: v.ID().String()}); err != nil {
		return v, err
	}
	h.mu.Lock()
	h.requests[key] = v.ID()
	h.pending[v.ID()] = info.Activation.String()
	h.mu.Unlock()
	return v, nil
}

// Send implements Notifier.
func (h *Host) Send(ctx context.Context, to, text string) error {
	return h.record(ctx, "Send", to+": "+text)
}

// Approve answers yes to every unanswered request made by one of acts (all,
// if acts is nil), and returns how many it answered.
func (h *Host) Approve(ctx context.Context, acts map[string]bool) (int, error) {
	h.mu.Lock()
	var todo []flow.VowID
	for id, act := range h.pending {
		if acts == nil || acts[act] {
			todo = append(todo, id)
		}
	}
	h.mu.Unlock()
	for _, id := range todo {
		err := runtime.Resolve(ctx, h.rt, flow.VowOf[bool](id), true)
		if err != nil && !errors.Is(err, runtime.ErrAlreadySettled) { // settled before a kill
			return 0, err
		}
		if err := h.j.Record(Effect{Op: "approve", Vow: id.String()}); err != nil {
			return 0, err
		}
		h.mu.Lock()
		delete(h.pending, id)
		h.mu.Unlock()
	}
	return len(todo), nil
}
