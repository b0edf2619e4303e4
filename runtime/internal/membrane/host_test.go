package membrane

import (
	"fmt"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// fakeHost is a Host in memory: host methods are functions the test gives,
// appends are kept in a slice and durable at once, vows live in a map.
type fakeHost struct {
	mu          sync.Mutex
	methods     map[string]func(args []byte) ([]byte, error) // by method name
	unavailable map[string]bool                              // targets this incarnation does not provide, by name
	vows        map[flow.VowID]*Settlement                   // nil: pending; absent: no such vow
	now         time.Time
	commit      func() Commit // the Commit of each append; nil: durable at once

	mailboxes map[string][][]byte // messages waiting, by mailbox

	calls     []flow.CallInfo
	timeouts  []time.Duration // of each call
	appended  []Entry
	with      []With // what each append brought
	timers    []Timer
	watched   [][]flow.VowID
	failed    []*diag.Diagnostic
	live      bool
	parked    bool
	suspended bool // the last Watch asked to suspend
}

func newHost() *fakeHost {
	return &fakeHost{
		methods: map[string]func([]byte) ([]byte, error){
			"Echo": func(args []byte) ([]byte, error) { return args, nil },
			"Add": func(args []byte) ([]byte, error) {
				var a, b int64
				d := codec.NewDecoder(args)
				d.ReadList()
				a, b = d.ReadInt(64), d.ReadInt(64)
				return codec.MarshalTuple(a + b)
			},
		},
		unavailable: map[string]bool{},
		mailboxes:   map[string][][]byte{},
		vows:        map[flow.VowID]*Settlement{},
		now:         time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
	}
}

type done struct{}

func (done) Wait() error { return nil }

func (h *fakeHost) Invoke(info flow.CallInfo, args []byte, timeout time.Duration) ([]byte, bool, error) {
	h.mu.Lock()
	h.calls = append(h.calls, info)
	h.timeouts = append(h.timeouts, timeout)
	fn, ok := h.methods[info.Method]
	unavailable := h.unavailable[info.Target.Name]
	h.mu.Unlock()
	if unavailable {
		return nil, false, &Unavailable{Err: fmt.Errorf("%s is not provided in this incarnation", info.Target)}
	}
	if !ok {
		return nil, false, fmt.Errorf("no method %s", info.Method)
	}
	res, err := fn(args)
	return res, false, err
}

func (h *fakeHost) Append(e Entry, with With) Commit {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.commit != nil {
		c := h.commit()
		if c == nil {
			return nil
		}
		h.appended = append(h.appended, e)
		return c
	}
	h.appended = append(h.appended, e)
	h.with = append(h.with, with)
	if t := with.Timer; t != nil {
		h.timers = append(h.timers, *t)
		h.vows[t.Vow] = nil
	}
	if r := with.Receiver; r != nil {
		h.vows[r.Vow] = nil
		if q := h.mailboxes[r.Mailbox]; len(q) > 0 {
			h.vows[r.Vow] = &Settlement{Value: q[0]}
			h.mailboxes[r.Mailbox] = q[1:]
		}
	}
	if c := with.Child; c != nil {
		h.vows[c.Outcome] = nil
	}
	return done{}
}

func (h *fakeHost) Watch(vows []flow.VowID, suspend bool) (Watched, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, v := range vows {
		if _, ok := h.vows[v]; !ok {
			return Watched{Missing: i, Settled: -1}, nil
		}
	}
	for i, v := range vows {
		if s := h.vows[v]; s != nil {
			return Watched{Missing: -1, Settled: i, Settlement: *s}, nil
		}
	}
	h.watched = append(h.watched, vows)
	h.suspended = suspend
	return Watched{Missing: -1, Settled: -1}, nil
}

func (h *fakeHost) WaitVow(vow flow.VowID, stop <-chan struct{}) error {
	for {
		h.mu.Lock()
		s, ok := h.vows[vow]
		h.mu.Unlock()
		switch {
		case !ok:
			return fmt.Errorf("no vow %s", vow)
		case s != nil:
			return nil
		}
		select {
		case <-stop:
			return fmt.Errorf("stopped")
		case <-time.After(time.Millisecond):
		}
	}
}

// settle settles a vow the guest may wait for, and tells the guest.
func (h *fakeHost) settle(m *Membrane, vow flow.VowID, s Settlement) {
	h.mu.Lock()
	h.vows[vow] = &s
	h.mu.Unlock()
	m.Deliver(vow, s)
}

func (h *fakeHost) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *fakeHost) Parked(parked bool) {
	h.mu.Lock()
	h.parked = parked
	h.mu.Unlock()
}

func (h *fakeHost) Evict() bool { return true }

func (h *fakeHost) Failed(d *diag.Diagnostic) {
	h.mu.Lock()
	h.failed = append(h.failed, d)
	h.mu.Unlock()
}

func (h *fakeHost) Live() {
	h.mu.Lock()
	h.live = true
	h.mu.Unlock()
}

func (h *fakeHost) Build(gen int64) string { return fmt.Sprintf("build-%d", gen) }

func (h *fakeHost) Incarnation() (int64, string) { return 2, "build-2" }

func (h *fakeHost) snapshot() (calls []flow.CallInfo, appended []Entry, failed []*diag.Diagnostic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]flow.CallInfo(nil), h.calls...), append([]Entry(nil), h.appended...), append([]*diag.Diagnostic(nil), h.failed...)
}

// script is a guest: the body of a flow, crossing through the membrane.
type script func(g *Membrane) ([]byte, error)

// guest is one run of a script, on its own goroutine as the runtime runs it.
type guest struct {
	m        *Membrane
	exited   chan struct{}
	returned bool
	result   []byte
	err      error
}

// start runs a script behind a membrane on log, the way the runtime does: a
// panic is recorded through Panicked, a return through Returned.
func start(h *fakeHost, log []Entry, s script) *guest {
	g := &guest{m: New(Config{Activation: testActivation, Flow: "test.F", Log: log, Host: h}), exited: make(chan struct{})}
	go func() {
		defer close(g.exited)
		defer func() {
			if v := recover(); v != nil {
				g.m.Panicked(v, debug.Stack())
			}
		}()
		res, err := s(g.m)
		g.m.Returned(res, err)
		g.returned, g.result, g.err = true, res, err
	}()
	return g
}

// wait waits for the guest goroutine to end.
func (g *guest) wait(t *testing.T) {
	t.Helper()
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the guest did not end")
	}
}

// eventually waits for cond.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var (
	testActivation = flow.ActivationID{1, 2, 3}
	host           = flowimpl.ServiceRef("host")
	elsewhere      = flowimpl.ServiceRef("elsewhere")
)

func tuple(t *testing.T, vs ...any) []byte {
	t.Helper()
	b, err := codec.MarshalTuple(vs...)
	require.NoError(t, err)
	return b
}

func value(t *testing.T, v any) []byte {
	t.Helper()
	b, err := codec.Marshal(v)
	require.NoError(t, err)
	return b
}

// logOf encodes entries as a log written by incarnation 1, steps from 0.
func logOf(es ...*entry) []Entry {
	out := make([]Entry, len(es))
	for i, en := range es {
		out[i] = Entry{Step: int64(i), Kind: en.kind, Gen: 1, Payload: encodeEntry(en)}
	}
	return out
}

func callEntry(method string, args, result []byte) *entry {
	return &entry{kind: KindCall, target: host, method: method, args: args, out: okOutcome(result)}
}

func nowEntry(t *testing.T, at time.Time) *entry {
	t.Helper()
	var e codec.Encoder
	e.PutTime(at)
	return &entry{kind: KindMarker, marker: markerNow, data: e.Bytes()}
}

func afterEntry(dur time.Duration, id flow.VowID, deadline time.Time) *entry {
	var e codec.Encoder
	e.PutList(3)
	e.PutInt(int64(dur))
	e.PutVow(id)
	e.PutTime(deadline)
	return &entry{kind: KindMarker, marker: markerAfter, data: e.Bytes()}
}

func patchedEntry(id string) *entry {
	var e codec.Encoder
	e.PutString(id)
	return &entry{kind: KindMarker, marker: markerPatched, data: e.Bytes()}
}

func issueEntry(n int, method string, args []byte) *entry {
	return &entry{kind: KindIssue, future: n, target: host, method: method, args: args}
}

func resultEntry(n int, result []byte) *entry {
	return &entry{kind: KindResult, future: n, out: okOutcome(result)}
}

func vowEntry(id flow.VowID, v []byte) *entry {
	return &entry{kind: KindVow, vow: id, out: okOutcome(v)}
}

// call makes a host call from a script and requires it to succeed.
func call(g *Membrane, target flow.Ref, method string, args []byte) []byte {
	res, err := g.Call(target, method, args)
	if err != nil {
		panic("call failed: " + err.Error())
	}
	return res
}

// await awaits one key from a script and returns its value.
func await(g *Membrane, k flow.AwaitKey) ([]byte, error) {
	g.Await([]flow.AwaitKey{k}, false)
	return g.Settlement(k)
}
