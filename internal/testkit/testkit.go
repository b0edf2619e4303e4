// Package testkit is a small host interface with a hand-written guest proxy,
// service dispatcher and typed flow handles, in the shape flowgen generates,
// and a host implementation that records every call it receives. Runtime
// tests and test programs use it.
package testkit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// ErrDenied is a sentinel host error, registered so it survives crossing.
var ErrDenied = errors.New("denied")

func init() { flow.RegisterError("testkit.ErrDenied", ErrDenied) }

// Record is a struct that crosses the membrane.
type Record struct {
	Name   string
	Amount int64
	Tags   []string
}

// Host is the host interface flows under test call.
type Host interface {
	Echo(ctx context.Context, s string) (string, error)
	Add(ctx context.Context, a, b int64) (int64, error)
	// Fail returns ErrDenied (wrapped) for code "denied", another error
	// otherwise.
	Fail(ctx context.Context, code string) error
	// Ask returns a vow the test settles later.
	Ask(ctx context.Context, question string) (flow.Vow[string], error)
	Save(ctx context.Context, r Record) (Record, error)
}

// Proxy is the guest proxy of Host.
type Proxy struct{ Ref flow.Ref }

// Service returns the proxy for a named service.
func Service(name string) Proxy { return Proxy{Ref: flow.ServiceRef(name)} }

var _ Host = Proxy{}

// FlowRef implements flow.Referrer.
func (p Proxy) FlowRef() flow.Ref { return p.Ref }

func (p Proxy) call(ctx context.Context, method string, args []byte, outs ...any) error {
	res, err := flow.Call(ctx, p.Ref, method, args)
	if err != nil {
		return err
	}
	flow.DecodeResult(ctx, "Host."+method, res, outs...)
	return nil
}

func tuple(vs ...any) []byte {
	b, err := codec.MarshalTuple(vs...)
	if err != nil {
		panic(err)
	}
	return b
}

func (p Proxy) Echo(ctx context.Context, s string) (string, error) {
	var out string
	err := p.call(ctx, "Echo", tuple(s), &out)
	return out, err
}

func (p Proxy) Add(ctx context.Context, a, b int64) (int64, error) {
	var out int64
	err := p.call(ctx, "Add", tuple(a, b), &out)
	return out, err
}

func (p Proxy) Fail(ctx context.Context, code string) error {
	return p.call(ctx, "Fail", tuple(code))
}

func (p Proxy) Ask(ctx context.Context, question string) (flow.Vow[string], error) {
	var out flow.Vow[string]
	err := p.call(ctx, "Ask", tuple(question), &out)
	return out, err
}

func (p Proxy) Save(ctx context.Context, r Record) (Record, error) {
	var out Record
	err := p.call(ctx, "Save", tuple(r), &out)
	return out, err
}

// EchoAsync is the async companion of Echo.
func (p Proxy) EchoAsync(ctx context.Context, s string) flow.Future[string] {
	return flow.Go[string](ctx, p.Ref, "Echo", tuple(s))
}

// AddAsync is the async companion of Add.
func (p Proxy) AddAsync(ctx context.Context, a, b int64) flow.Future[int64] {
	return flow.Go[int64](ctx, p.Ref, "Add", tuple(a, b))
}

// Provide offers impl as the named service.
func Provide(r flow.Registry, name string, impl Host) {
	r.ProvideService(name, impl, dispatch)
}

func dispatch(ctx context.Context, obj any, method string, args []byte) ([]byte, error) {
	impl := obj.(Host)
	{
		d := codec.NewDecoder(args)
		n := d.List()
		arity := map[string]int{"Echo": 1, "Add": 2, "Fail": 1, "Ask": 1, "Save": 1}
		want, ok := arity[method]
		if !ok {
			return nil, fmt.Errorf("Host.%s: %w", method, flow.ErrUnknownMethod)
		}
		if n != want {
			return nil, fmt.Errorf("Host.%s: %d arguments, want %d", method, n, want)
		}
		switch method {
		case "Echo":
			s := d.String()
			if err := d.Done(); err != nil {
				return nil, err
			}
			out, err := impl.Echo(ctx, s)
			if err != nil {
				return nil, err
			}
			return codec.MarshalTuple(out)
		case "Add":
			a, b := d.Int(64), d.Int(64)
			if err := d.Done(); err != nil {
				return nil, err
			}
			out, err := impl.Add(ctx, a, b)
			if err != nil {
				return nil, err
			}
			return codec.MarshalTuple(out)
		case "Fail":
			code := d.String()
			if err := d.Done(); err != nil {
				return nil, err
			}
			if err := impl.Fail(ctx, code); err != nil {
				return nil, err
			}
			return codec.MarshalTuple()
		case "Ask":
			q := d.String()
			if err := d.Done(); err != nil {
				return nil, err
			}
			out, err := impl.Ask(ctx, q)
			if err != nil {
				return nil, err
			}
			return codec.MarshalTuple(out)
		default: // Save
			var r Record
			d.Value(&r)
			if err := d.Done(); err != nil {
				return nil, err
			}
			out, err := impl.Save(ctx, r)
			if err != nil {
				return nil, err
			}
			return codec.MarshalTuple(out)
		}
	}
}

// Call is one call a Recorder received.
type Call struct {
	Method string
	Args   string // rendered
	Key    string // idempotency key
}

// Recorder implements Host, recording every call.
type Recorder struct {
	// NewVow makes the vows Ask returns.
	NewVow func(ctx context.Context) (flow.VowID, error)
	// Hook, if set, runs first in every call; an error it returns is the
	// call's error.
	Hook func(ctx context.Context, method string, args ...any) error

	mu    sync.Mutex
	calls []Call
	asked map[string]flow.VowID
}

func (r *Recorder) record(ctx context.Context, method string, args ...any) error {
	r.mu.Lock()
	r.calls = append(r.calls, Call{Method: method, Args: fmt.Sprint(args...), Key: flow.IdempotencyKey(ctx)})
	r.mu.Unlock()
	if r.Hook != nil {
		return r.Hook(ctx, method, args...)
	}
	return nil
}

// Calls returns the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Methods returns the method names of the calls so far.
func (r *Recorder) Methods() []string {
	var ms []string
	for _, c := range r.Calls() {
		ms = append(ms, c.Method)
	}
	return ms
}

// Asked returns the vow Ask made for a question.
func (r *Recorder) Asked(question string) (flow.VowID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.asked[question]
	return id, ok
}

func (r *Recorder) Echo(ctx context.Context, s string) (string, error) {
	if err := r.record(ctx, "Echo", s); err != nil {
		return "", err
	}
	return s, nil
}

func (r *Recorder) Add(ctx context.Context, a, b int64) (int64, error) {
	if err := r.record(ctx, "Add", a, b); err != nil {
		return 0, err
	}
	return a + b, nil
}

func (r *Recorder) Fail(ctx context.Context, code string) error {
	if err := r.record(ctx, "Fail", code); err != nil {
		return err
	}
	if code == "denied" {
		return fmt.Errorf("payout to %s: %w", code, ErrDenied)
	}
	return errors.New("failure " + code)
}

func (r *Recorder) Ask(ctx context.Context, q string) (flow.Vow[string], error) {
	if err := r.record(ctx, "Ask", q); err != nil {
		return flow.Vow[string]{}, err
	}
	r.mu.Lock()
	if id, ok := r.asked[q]; ok {
		r.mu.Unlock()
		return flow.VowOf[string](id), nil
	}
	r.mu.Unlock()
	id, err := r.NewVow(ctx)
	if err != nil {
		return flow.Vow[string]{}, err
	}
	r.mu.Lock()
	if r.asked == nil {
		r.asked = map[string]flow.VowID{}
	}
	r.asked[q] = id
	r.mu.Unlock()
	return flow.VowOf[string](id), nil
}

func (r *Recorder) Save(ctx context.Context, rec Record) (Record, error) {
	if err := r.record(ctx, "Save", rec); err != nil {
		return Record{}, err
	}
	rec.Tags = append(rec.Tags, "saved")
	return rec, nil
}

// Handle starts activations of a flow taking one argument.
type Handle[A, R any] struct{ s flow.Starter }

// Register registers a flow taking the Host (passed as a service reference)
// and one argument of type A, returning R.
func Register[A, R any](r flow.Registry, name string, f func(fc flow.Context, h Proxy, a A) (R, error)) Handle[A, R] {
	s := r.RegisterFlow(flow.FlowDef{Name: name, Run: func(fc flow.Context, args []byte) ([]byte, error) {
		d := codec.NewDecoder(args)
		n := d.List()
		var ref flow.Ref
		ref.UnmarshalFlow(d)
		var a A
		d.Value(&a)
		if err := d.Done(); err != nil || n != 2 {
			flow.Diverge(fc, fmt.Sprintf("the stored arguments %s do not fit %s: %v", codec.Format(args), name, err))
		}
		res, err := f(fc, Proxy{Ref: ref}, a)
		if err != nil {
			return nil, err
		}
		return codec.Marshal(res)
	}})
	return Handle[A, R]{s: s}
}

// Start starts an activation.
func (h Handle[A, R]) Start(ctx context.Context, host Proxy, a A) (flow.Vow[R], error) {
	return h.StartWithID(ctx, "", host, a)
}

// StartWithID starts at most one activation per id.
func (h Handle[A, R]) StartWithID(ctx context.Context, id string, host Proxy, a A) (flow.Vow[R], error) {
	args, err := codec.MarshalTuple(host.Ref, a)
	if err != nil {
		return flow.Vow[R]{}, err
	}
	vid, err := h.s.StartFlow(ctx, id, args)
	return flow.VowOf[R](vid), err
}
