package flowimpl_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
)

// recorder is a Guest that records the calls made through it and answers
// each with the argument bytes it was given.
type recorder struct {
	calls    []string
	issued   int
	reasons  []string
	policies []*flowimpl.Policy // of the calls made under one
}

func (r *recorder) Activation() flow.ActivationID { return flow.ActivationID{1} }
func (r *recorder) Call(target flow.Ref, method string, args []byte) ([]byte, error) {
	r.calls = append(r.calls, target.String()+"."+method+"("+codec.FormatTuple(args)+")")
	return args, nil
}
func (r *recorder) Issue(target flow.Ref, method string, args []byte) int {
	r.issued++
	return r.issued
}
func (r *recorder) CallWith(target flow.Ref, method string, args []byte, p *flowimpl.Policy) ([]byte, error) {
	r.policies = append(r.policies, p)
	return r.Call(target, method, args)
}
func (r *recorder) IssueWith(target flow.Ref, method string, args []byte, p *flowimpl.Policy) int {
	r.policies = append(r.policies, p)
	return r.Issue(target, method, args)
}
func (r *recorder) Await(keys []flow.AwaitKey, race bool) int    { return -1 }
func (r *recorder) Settlement(key flow.AwaitKey) ([]byte, error) { return nil, nil }
func (r *recorder) Rejection(key flow.AwaitKey) error            { return nil }
func (r *recorder) Now() time.Time                               { return time.Time{} }
func (r *recorder) After(d time.Duration) flow.VowID             { return flow.VowID{} }
func (r *recorder) Patched(id string) bool                       { return false }
func (r *recorder) Random() uint64                               { return 7 }
func (r *recorder) UUID() [16]byte                               { return [16]byte{0: 1, 6: 0x40, 8: 0x80} }
func (r *recorder) Receive(mailbox string) flow.VowID {
	r.calls = append(r.calls, "receive "+mailbox)
	return flow.VowID{3}
}
func (r *recorder) SetStatus(name string, value []byte) {
	r.calls = append(r.calls, "status "+name+" = "+codec.Format(value))
}
func (r *recorder) StartChild(name string, args []byte) (flow.ActivationID, flow.VowID) {
	r.calls = append(r.calls, "child "+name+"("+codec.FormatTuple(args)+")")
	return flow.ActivationID{4}, flow.VowID{5}
}
func (r *recorder) Diverge(reason string)    { r.reasons = append(r.reasons, reason) }
func (r *recorder) Cancellation() flow.VowID { return flow.VowID{9} }

var _ flowimpl.Guest = (*recorder)(nil)

type testKey struct{}

func TestContextCarriesTheGuest(t *testing.T) {
	g := &recorder{}
	fc := flowimpl.NewContext(g)
	assert.Equal(t, flow.ActivationID{1}, fc.Activation())
	got, ok := flow.FromContext(context.WithValue(fc, testKey{}, 1))
	require.True(t, ok, "a context derived from a flow's is still the flow's")
	assert.Equal(t, fc, got)

	var e codec.Encoder
	e.PutList(1)
	e.PutString("x")
	res, err := flowimpl.Call(context.WithValue(fc, testKey{}, 1), flowimpl.ServiceRef("s"), "M", &e)
	require.NoError(t, err)
	assert.Equal(t, e.Bytes(), res)
	assert.Equal(t, []string{`service("s").M("x")`}, g.calls)
}

func TestCallOutsideAFlow(t *testing.T) {
	var e codec.Encoder
	e.PutList(0)
	_, err := flowimpl.Call(context.Background(), flowimpl.ServiceRef("s"), "M", &e)
	assert.ErrorIs(t, err, flow.ErrNotInFlow)
	assert.PanicsWithValue(t, "flow: "+flow.ErrNotInFlow.Error()+": this operation needs the flow.Context of a running flow", func() {
		flowimpl.Go[int](context.Background(), flowimpl.ServiceRef("s"), "M", &e)
	})
}

func TestEncodingFailurePanicsInBothProxies(t *testing.T) {
	g := &recorder{}
	fc := flowimpl.NewContext(g)
	var e codec.Encoder
	e.PutList(1)
	flowimpl.PutProxy(&e, 42, "p.Ledger")
	require.Error(t, e.Err())
	for name, call := range map[string]func(){
		"sync":  func() { _, _ = flowimpl.Call(fc, flowimpl.ServiceRef("s"), "M", &e) },
		"async": func() { flowimpl.Go[int](fc, flowimpl.ServiceRef("s"), "M", &e) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				v := recover()
				err, ok := v.(error)
				require.True(t, ok, "panics with an error, got %v", v)
				assert.Equal(t, `service("s").M: the arguments do not encode: a int is not a p.Ledger a flow holds (a guest proxy)`, err.Error())
			}()
			call()
		})
	}
	assert.Empty(t, g.calls, "nothing crossed")
	assert.Zero(t, g.issued, "nothing crossed")
}

func TestGoNumbersFutures(t *testing.T) {
	g := &recorder{}
	fc := flowimpl.NewContext(g)
	var e codec.Encoder
	e.PutList(0)
	f1 := flowimpl.Go[int](fc, flowimpl.ServiceRef("s"), "M", &e)
	f2 := flowimpl.Go[string](fc, flowimpl.ServiceRef("s"), "M", &e)
	assert.Equal(t, flow.AwaitKey{Future: 1}, f1.AwaitKey())
	assert.Equal(t, flow.AwaitKey{Future: 2}, f2.AwaitKey())
}

func TestResultsThatNoLongerFitDiverge(t *testing.T) {
	g := &recorder{}
	fc := flowimpl.NewContext(g)
	res, err := codec.MarshalTuple("a", "b")
	require.NoError(t, err)
	var one string
	flowimpl.DecodeResult(fc, "H.M", res, &one)
	require.NotEmpty(t, g.reasons)
	assert.Equal(t, `H.M: the logged result ["a", "b"] has 2 values, the code expects 1`, g.reasons[0])

	g.reasons = nil
	res, err = codec.MarshalTuple("a")
	require.NoError(t, err)
	var n int
	flowimpl.DecodeResult(fc, "H.M", res, &n)
	require.Len(t, g.reasons, 1)
	assert.Contains(t, g.reasons[0], `H.M: ["a"] does not decode: `)
}

type keyed string

func (k keyed) FlowKey() string { return string(k) }

type proxy struct{ ref flow.Ref }

func (p proxy) FlowRef() flow.Ref { return p.ref }

func TestStartRefs(t *testing.T) {
	var e codec.Encoder
	e.PutList(3)
	flowimpl.PutStartRef(&e, "a", proxy{flowimpl.ServiceRef("svc")}, "p.H")
	flowimpl.PutStartRef(&e, "b", keyed("k1"), "p.H")
	flowimpl.PutStartRef(&e, "c", nil, "p.H")
	require.NoError(t, e.Err())
	assert.Equal(t, `service("svc"), p.H["k1"], nil`, codec.FormatTuple(e.Bytes()))

	flowimpl.PutStartRef(&e, "d", 7, "p.H")
	assert.EqualError(t, e.Err(), "parameter d: a int is neither a reference made by the generated Ref function nor a keyed host object (with a FlowKey method)")
}

func TestReadProxy(t *testing.T) {
	h := flowimpl.HostInterface[flowimpl.Referrer]{Name: "p.H", Proxy: func(ref flow.Ref) flowimpl.Referrer { return proxy{ref} }}
	var e codec.Encoder
	flowimpl.ServiceRef("svc").MarshalFlow(&e)
	e.PutNil()
	d := codec.NewDecoder(e.Bytes())
	assert.Equal(t, proxy{flowimpl.ServiceRef("svc")}, flowimpl.ReadProxy(d, h))
	assert.Nil(t, flowimpl.ReadProxy(d, h))
	require.NoError(t, d.Done())
}

func TestHostSide(t *testing.T) {
	d := codec.NewDecoder([]byte{0x08, 0x01, 0x00})
	flowimpl.HostArguments(d, 2)
	err := flowimpl.HostDecoded("H.M", d)
	assert.EqualError(t, err, "H.M: arguments: 1 values, want 2")
	assert.True(t, errors.Is(flowimpl.UnknownMethod("H", "X"), flow.ErrUnknownMethod))
	info := flow.CallInfo{Activation: flow.ActivationID{2}, Index: 3, Target: flowimpl.ObjectRef("p.H", "k"), Method: "M"}
	ctx := flowimpl.HostCallContext(context.Background(), info, nil)
	got, ok := flow.CallInfoFrom(ctx)
	require.True(t, ok)
	assert.Equal(t, info, got)
	assert.Equal(t, info.IdempotencyKey(), flow.IdempotencyKey(ctx))
}

var errBusy = errors.New("busy")

func init() { flow.RegisterError("flowimpl_test.Busy", errBusy) }

func TestPolicies(t *testing.T) {
	g := &recorder{}
	fc := flowimpl.NewContext(g)
	var e codec.Encoder
	e.PutList(0)
	declared := flowimpl.NewPolicy(flowimpl.Policy{Attempts: 4, Timeout: time.Second, Retryable: []string{"x.ErrY"}})

	_, err := flowimpl.CallWith(fc, flowimpl.ServiceRef("s"), "M", &e, declared)
	require.NoError(t, err)
	require.Len(t, g.policies, 1, "a declared policy reaches the guest")
	assert.Equal(t, &flowimpl.Policy{Attempts: 4, Backoff: time.Second, MaxBackoff: 100 * time.Second, Multiplier: 2, Timeout: time.Second, Retryable: []string{"x.ErrY"}}, g.policies[0])

	ctx := flow.WithRetry(fc, flow.RetryPolicy{Attempts: 2, Backoff: time.Minute, Retryable: []error{errBusy, nil}})
	_, err = flowimpl.CallWith(ctx, flowimpl.ServiceRef("s"), "M", &e, declared)
	require.NoError(t, err)
	flowimpl.Go[struct{}](ctx, flowimpl.ServiceRef("s"), "M", &e)
	require.Len(t, g.policies, 3, "a policy on the context replaces the declared one, for calls and futures")
	want := &flowimpl.Policy{Attempts: 2, Backoff: time.Minute, MaxBackoff: 100 * time.Minute, Multiplier: 2, Retryable: []string{"flowimpl_test.Busy"}}
	assert.Equal(t, want, g.policies[1])
	assert.Equal(t, want, g.policies[2])
	got, ok := flow.FromContext(ctx)
	require.True(t, ok, "the context is still the flow's")
	assert.Equal(t, fc, got)

	// One attempt and no timeout is no policy at all: the plain crossing.
	_, err = flowimpl.CallWith(flow.WithRetry(fc, flow.RetryPolicy{}), flowimpl.ServiceRef("s"), "M", &e, declared)
	require.NoError(t, err)
	_, err = flowimpl.Call(fc, flowimpl.ServiceRef("s"), "M", &e)
	require.NoError(t, err)
	assert.Len(t, g.policies, 3)
	assert.Len(t, g.calls, 4)
	assert.Equal(t, 1, g.issued)

	p := flowimpl.PolicyOf(flow.RetryPolicy{Attempts: 3, Retryable: []error{fmt.Errorf("wrapped: %w", errBusy)}})
	assert.True(t, p.Retries(""), "an unregistered error is retried")
	assert.True(t, p.Retries("context.DeadlineExceeded"), "a deadline is retried")
	assert.True(t, p.Retries("flowimpl_test.Busy"), "a listed error is retried")
	assert.False(t, p.Retries("flow.UnknownMethod"), "another registered error is not")
}
