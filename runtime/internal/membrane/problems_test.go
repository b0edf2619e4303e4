package membrane

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// problemCase is a log, a host and a guest script, and the problem the run
// must end with.
type problemCase struct {
	name   string
	log    func(t *testing.T) []Entry // nil: a new activation
	host   func(h *fakeHost)          // adjusts the host; nil: as it is
	script func(t *testing.T) script

	problem diag.Problem
	step    int64
	logged  string // the rendered log entry, exactly; "" if none
	got     string // what the code did, exactly; "" if none
	detail  string // a part of the detail
	calls   int    // host calls the run makes before it fails
	appends int    // entries it appends before it fails
}

func problemCases() []problemCase {
	echoA := func(t *testing.T) []Entry {
		return logOf(callEntry("Echo", tuple(t, "a"), tuple(t, "a")), nowEntry(t, time.Unix(1_800_000_000, 0)))
	}
	pending := flow.VowID{9}
	return []problemCase{
		{name: "other-call: another method", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, host, "Add", tuple(t, 1, 2)), nil }
			},
			problem: diag.OtherCall, step: 0,
			logged: `service("host").Echo("a") → ["a"]`, got: `call service("host").Add(1, 2)`},
		{name: "other-call: another target", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, elsewhere, "Echo", tuple(t, "a")), nil }
			},
			problem: diag.OtherCall, step: 0, got: `call service("elsewhere").Echo("a")`},
		{name: "other-call: a future where a call is logged", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Issue(host, "Echo", tuple(t, "a")); return nil, nil }
			},
			problem: diag.OtherCall, step: 0, got: `go service("host").Echo("a") as future#1`},
		{name: "other-arguments", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, host, "Echo", tuple(t, "b")), nil }
			},
			problem: diag.OtherArguments, step: 0,
			logged: `service("host").Echo("a") → ["a"]`, got: `call service("host").Echo("b")`},
		{name: "other-arguments: a future's",
			log: func(t *testing.T) []Entry { return logOf(issueEntry(1, "Echo", tuple(t, "a"))) },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Issue(host, "Echo", tuple(t, "z")); return nil, nil }
			},
			problem: diag.OtherArguments, step: 0,
			logged: `go service("host").Echo("a") as future#1`, got: `go service("host").Echo("z") as future#1`},
		{name: "extra-call", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					call(g, host, "Echo", tuple(t, "a"))
					return call(g, host, "Echo", tuple(t, "new")), nil // the log has flow.Now here
				}
			},
			problem: diag.ExtraCall, step: 1, logged: "flow.Now() = 2027-01-15T08:00:00Z", got: `call service("host").Echo("new")`},
		{name: "stopped-short", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Now(); return nil, nil }
			},
			problem: diag.StoppedShort, step: 0, logged: `service("host").Echo("a") → ["a"]`, got: "flow.Now()"},
		{name: "stopped-short: an await where a call is logged", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Await([]flow.AwaitKey{{Vow: pending}}, false); return nil, nil }
			},
			problem: diag.StoppedShort, step: 0, got: "await vow:" + pending.String()},
		{name: "returned-early", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { call(g, host, "Echo", tuple(t, "a")); return value(t, "short"), nil }
			},
			problem: diag.ReturnedEarly, step: 1, logged: "flow.Now() = 2027-01-15T08:00:00Z", got: `return "short"`, detail: "1 log entries remain"},
		{name: "returned-early: with an error", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return nil, errors.New("gave up") }
			},
			problem: diag.ReturnedEarly, step: 0, got: `return error "gave up"`, detail: "2 log entries remain"},
		{name: "other-step: a timer where Now is logged", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					call(g, host, "Echo", tuple(t, "a"))
					g.After(time.Minute)
					return nil, nil
				}
			},
			problem: diag.OtherStep, step: 1, got: "flow.After(1m0s)"},
		{name: "other-step: flow.Random where Now is logged", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { call(g, host, "Echo", tuple(t, "a")); g.Random(); return nil, nil }
			},
			problem: diag.OtherStep, step: 1, logged: "flow.Now() = 2027-01-15T08:00:00Z", got: "flow.Random()"},
		{name: "extra-call: a host call where flow.UUID is logged",
			log: func(t *testing.T) []Entry {
				return logOf(&entry{kind: KindMarker, marker: markerUUID, data: value(t, make([]byte, 16))})
			},
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, host, "Echo", tuple(t, "a")), nil }
			},
			problem: diag.ExtraCall, step: 0, logged: "flow.UUID() = 00000000-0000-0000-0000-000000000000", got: `call service("host").Echo("a")`},
		{name: "corrupt-log: a UUID of three bytes",
			log: func(t *testing.T) []Entry {
				return logOf(&entry{kind: KindMarker, marker: markerUUID, data: value(t, []byte{1, 2, 3})})
			},
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.UUID(); return nil, nil }
			},
			problem: diag.CorruptLog, step: 0, got: "flow.UUID()"},
		{name: "other-step: another duration",
			log: func(t *testing.T) []Entry {
				return logOf(afterEntry(time.Hour, flow.VowID{7}, time.Unix(1_800_003_600, 0)))
			},
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.After(2 * time.Hour); return nil, nil }
			},
			problem: diag.OtherStep, step: 0, got: "flow.After(2h0m0s)"},
		{name: "other-step: another vow settles",
			log: func(t *testing.T) []Entry { return logOf(vowEntry(flow.VowID{5}, value(t, true))) },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Await([]flow.AwaitKey{{Vow: pending}}, false); return nil, nil }
			},
			problem: diag.OtherStep, step: 0, got: "await vow:" + pending.String()},
		{name: "undecodable",
			log: func(t *testing.T) []Entry { return logOf(callEntry("Add", tuple(t, 1, 2), tuple(t, 3))) },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					call(g, host, "Add", tuple(t, 1, 2))
					g.Diverge("Host.Add: [3] does not decode into struct{Sum int}")
					return nil, nil
				}
			},
			problem: diag.Undecodable, step: 0, logged: `service("host").Add(1, 2) → [3]`, detail: "does not decode"},
		{name: "arguments",
			log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					g.BadArguments("test.F: parameter 2 of 2 no longer fits the stored value \"x\"")
					return nil, nil
				}
			},
			problem: diag.BadArguments, step: -1, detail: "parameter 2 of 2"},
		{name: "corrupt-log: a payload that does not decode",
			log: func(t *testing.T) []Entry {
				return append(echoA(t)[:1], Entry{Step: 1, Kind: KindCall, Gen: 1, Payload: []byte{0xff, 0, 0xff}})
			},
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { call(g, host, "Echo", tuple(t, "a")); g.Now(); return nil, nil }
			},
			problem: diag.CorruptLog, step: 1, detail: "entry of kind 1 does not decode"},
		{name: "corrupt-log: an unknown kind",
			log: func(t *testing.T) []Entry { return []Entry{{Step: 0, Kind: 99, Gen: 1, Payload: []byte{0x08, 0x00}}} },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Now(); return nil, nil }
			},
			problem: diag.CorruptLog, step: 0, detail: "unknown entry kind 99"},
		{name: "corrupt-log: a reading of the clock that is no time",
			log: func(t *testing.T) []Entry {
				return logOf(&entry{kind: KindMarker, marker: markerNow, data: value(t, "noon")})
			},
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Now(); return nil, nil }
			},
			problem: diag.CorruptLog, step: 0, got: "flow.Now()"},
		{name: "guest-panic", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					call(g, host, "Echo", tuple(t, "a"))
					var m map[string]int
					//lint:ignore SA5000 the guest's bug this case is about
					m["boom"]++
					return nil, nil
				}
			},
			problem: diag.GuestPanic, step: 1, logged: "flow.Now() = 2027-01-15T08:00:00Z", detail: "assignment to entry in nil map"},
		{name: "host-panic",
			host: func(h *fakeHost) { h.methods["Echo"] = func([]byte) ([]byte, error) { panic("host bug") } },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, host, "Echo", tuple(t, "x")), nil }
			},
			problem: diag.HostPanic, step: 0, got: `call service("host").Echo("x")`,
			detail: "host bug (not logged: the call is made again, with the same idempotency key " + testActivation.String() + "/0/host.Echo", calls: 1},
		{name: "host-panic: a future's",
			host: func(h *fakeHost) { h.methods["Echo"] = func([]byte) ([]byte, error) { panic("host bug") } },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					return await(g, flow.AwaitKey{Future: g.Issue(host, "Echo", tuple(t, "x"))})
				}
			},
			problem: diag.HostPanic, step: 1, got: `go service("host").Echo("x") as future#1`, detail: "host bug", calls: 1, appends: 1},
		{name: "store-refused",
			host: func(h *fakeHost) {
				c := &blocked{release: make(chan struct{}), err: &Refused{Err: errors.New("value too big")}}
				close(c.release)
				h.commit = func() Commit { return c }
			},
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, host, "Echo", tuple(t, "x")), nil }
			},
			problem: diag.StoreRefused, step: 1, detail: "the store refused to record what the activation did, for good: value too big",
			calls: 1, appends: 1},
		{name: "stalled", log: echoA,
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					call(g, host, "Echo", tuple(t, "a"))
					stall <- struct{}{} // blocks outside the membrane
					<-stall
					return call(g, host, "Echo", tuple(t, "never")), nil
				}
			},
			problem: diag.Stalled, step: 1, logged: "flow.Now() = 2027-01-15T08:00:00Z", detail: "no crossing for 1m0s"},
		{name: "illegal: await of the zero vow",
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { g.Await([]flow.AwaitKey{{}}, false); return nil, nil }
			},
			problem: diag.Illegal, step: 0, got: "await of the zero vow"},
		{name: "illegal: a vow that does not exist",
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					g.Await([]flow.AwaitKey{{Vow: flow.VowID{42}}}, false)
					return nil, nil
				}
			},
			problem: diag.Illegal, step: 0, got: "await vow:" + flow.VowID{42}.String(), detail: "no such vow"},
		{name: "illegal: a service not provided",
			host: func(h *fakeHost) { h.unavailable["elsewhere"] = true },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) { return call(g, elsewhere, "Echo", tuple(t, "x")), nil }
			},
			problem: diag.Illegal, step: 0, got: `call service("elsewhere").Echo("x")`,
			detail: `service("elsewhere") is not provided in this incarnation (not logged`, calls: 1},
		{name: "illegal: a future's service not provided",
			host: func(h *fakeHost) { h.unavailable["elsewhere"] = true },
			script: func(t *testing.T) script {
				return func(g *Membrane) ([]byte, error) {
					return await(g, flow.AwaitKey{Future: g.Issue(elsewhere, "Echo", tuple(t, "x"))})
				}
			},
			problem: diag.Illegal, step: 1, got: `go service("elsewhere").Echo("x") as future#1`, detail: "not provided", calls: 1, appends: 1},
	}
}

// stall is where the stalled case's guest blocks.
var stall = make(chan struct{})

func TestProblems(t *testing.T) {
	covered := map[diag.Problem]bool{}
	for _, c := range problemCases() {
		t.Run(c.name, func(t *testing.T) {
			h := newHost()
			pending := flow.VowID{9}
			h.vows[pending] = nil
			h.vows[flow.VowID{5}] = &Settlement{Value: value(t, true)}
			if c.host != nil {
				c.host(h)
			}
			var log []Entry
			if c.log != nil {
				log = c.log(t)
			}
			g := start(h, log, c.script(t))
			if c.problem == diag.Stalled {
				<-stall // the guest is stuck outside the membrane
				assert.True(t, g.m.ReportStall(time.Minute))
				assert.False(t, g.m.ReportStall(time.Minute), "a run fails once")
				stall <- struct{}{} // it crosses again, and ends there
			}
			g.wait(t)

			calls, appended, failed := h.snapshot()
			require.Len(t, failed, 1, "one failure is recorded")
			d := failed[0]
			assert.False(t, g.returned, "the run does not go on to settle its outcome")
			assert.Equal(t, c.problem, d.Problem)
			assert.Equal(t, c.step, d.Step, "step")
			if c.logged != "" {
				assert.Equal(t, c.logged, d.Logged, "logged")
			}
			if c.got != "" {
				assert.Equal(t, c.got, d.Got, "code did")
			}
			assert.Contains(t, d.Detail, c.detail)
			assert.Len(t, calls, c.calls, "host calls")
			assert.Len(t, appended, c.appends, "appends")
			assert.Equal(t, testActivation, d.Activation)
			assert.Equal(t, "test.F", d.Flow)
			assert.Equal(t, int64(2), d.FailedGen)
			assert.Equal(t, "build-2", d.FailedBuild)
			if c.logged != "" {
				assert.Equal(t, int64(1), d.WrittenGen)
				assert.Equal(t, "build-1", d.WrittenBuild)
			}
			assert.Equal(t, ModeDone, g.m.Mode())
			assert.True(t, g.m.Revoked())
			covered[c.problem] = true
		})
	}
	for _, p := range []diag.Problem{diag.OtherCall, diag.OtherArguments, diag.ExtraCall, diag.StoppedShort,
		diag.ReturnedEarly, diag.OtherStep, diag.Undecodable, diag.CorruptLog, diag.GuestPanic, diag.HostPanic,
		diag.Stalled, diag.Illegal, diag.BadArguments, diag.StoreRefused} {
		assert.True(t, covered[p], "no case for %s", p)
	}
}
