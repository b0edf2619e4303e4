package membrane

import (
	"bytes"
	"fmt"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// crossing is what the guest did at a crossing, kept raw: the text a
// diagnostic shows is built only when replay fails, never on the way of a
// replay that matches its log.
type crossing struct {
	op     crossingOp
	target flow.Ref
	method string
	args   []byte
	future int
	dur    time.Duration
	keys   []flow.AwaitKey
	patch  string
	name   string // the mailbox, status or child flow
}

type crossingOp int

const (
	opCall    crossingOp = iota + 1 // a host call
	opIssue                         // a host call issued as a future
	opAwait                         // Await or All
	opRace                          // Race
	opNow                           // flow.Now
	opAfter                         // flow.After or flow.Sleep
	opRandom                        // flow.Random
	opUUID                          // flow.UUID
	opPatched                       // flow.Patched
	opReceive                       // Signal.Next
	opStatus                        // Status.Set
	opChild                         // a child started
)

// calls reports whether the crossing is a host call.
func (c crossing) calls() bool { return c.op == opCall || c.op == opIssue || c.op == opChild }

func (c crossing) String() string {
	switch c.op {
	case opCall:
		return "call " + callString(c.target, c.method, c.args)
	case opIssue:
		return "go " + callString(c.target, c.method, c.args) + " as future#" + strconv.Itoa(c.future)
	case opAwait:
		return "await " + keysString(c.keys)
	case opRace:
		return "flow.Race(" + keysString(c.keys) + ")"
	case opNow:
		return "flow.Now()"
	case opAfter:
		return "flow.After(" + c.dur.String() + ")"
	case opRandom:
		return "flow.Random()"
	case opUUID:
		return "flow.UUID()"
	case opPatched:
		return "flow.Patched(" + strconv.Quote(c.patch) + ")"
	case opReceive:
		return "flow.Signal(" + strconv.Quote(c.name) + ").Next()"
	case opStatus:
		return "flow.Status(" + strconv.Quote(c.name) + ").Set(" + codec.Format(c.args) + ")"
	case opChild:
		return childString(c.name, c.args)
	}
	return "crossing " + strconv.Itoa(int(c.op))
}

// Fail records a failure and ends the guest. Only the first failure of a run
// is recorded.
func (m *Membrane) Fail(d *diag.Diagnostic) {
	if m.revoked.Swap(true) {
		m.leave()
	}
	m.fill(d)
	if d.Patches == nil {
		d.Patches = m.patchNotes()
	}
	if d.Site == "" {
		d.Site = guestSite()
	}
	m.setMode(ModeDone)
	m.over()
	if !m.stopped.Load() {
		m.host.Failed(d)
	}
	m.leave()
}

// FailFromOutside records a failure found by someone other than the guest
// (the watchdog) and revokes the membrane. It reports false if the
// membrane had already failed.
func (m *Membrane) FailFromOutside(d *diag.Diagnostic) bool {
	if m.revoked.Swap(true) {
		return false
	}
	m.fill(d)
	m.setMode(ModeDone)
	m.over()
	m.host.Failed(d)
	m.inbox.push(event{kind: evStop})
	return true
}

// ReportStall fails a replay that has made no progress for the given time,
// from the watchdog's goroutine. The guest, which may be looping, is
// abandoned: if it ever crosses again it ends. It reports false if the run
// had already ended or failed.
func (m *Membrane) ReportStall(quiet time.Duration) bool {
	if m.Mode() != ModeReplaying {
		return false
	}
	pos := m.progress.Load()
	d := &diag.Diagnostic{Problem: diag.Stalled, Step: pos,
		Detail: "no crossing for " + quiet.String() + " while replaying; the code loops or blocks outside the membrane (a channel, a lock, a busy loop)"}
	if log := m.logRef.Load(); log != nil && int(pos) < len(*log) {
		r := (*log)[pos]
		if en, err := decodeEntry(r); err == nil {
			d.Logged = en.String()
		}
		d.WrittenGen, d.WrittenBuild = r.Gen, m.host.Build(r.Gen)
	}
	return m.FailFromOutside(d)
}

func (m *Membrane) fill(d *diag.Diagnostic) {
	d.Activation, d.Flow = m.act, m.flow
	d.FailedGen, d.FailedBuild = m.host.Incarnation()
	if d.Time.IsZero() {
		d.Time = m.host.Now()
	}
}

// logged fills in the log entry at step i, if it decodes.
func (m *Membrane) logged(d *diag.Diagnostic, i int) {
	if m.live || i < 0 || i >= len(m.raw) {
		return
	}
	if en, err := m.decodeAt(i); err == nil {
		d.Logged, d.WrittenGen, d.WrittenBuild = en.String(), en.gen, m.host.Build(en.gen)
	}
}

// Panicked records a guest panic. It is called from the guest goroutine's
// outermost deferred function with the recovered value; a panic after a
// revocation is contained without a record.
func (m *Membrane) Panicked(v any, stack []byte) {
	if m.revoked.Swap(true) || m.stopped.Load() {
		return
	}
	d := &diag.Diagnostic{Problem: diag.GuestPanic, Step: m.position(), Detail: fmt.Sprint(v), Stack: string(stack)}
	m.logged(d, m.cur)
	d.Site = panicSite(stack)
	d.Patches = m.patchNotes()
	m.fill(d)
	m.setMode(ModeDone)
	m.over()
	m.host.Failed(d)
}

// Diverge implements flowimpl.Guest.
func (m *Membrane) Diverge(reason string) {
	m.check()
	step := m.position() - 1
	d := &diag.Diagnostic{Problem: diag.Undecodable, Step: step, Detail: reason}
	m.logged(d, int(step))
	m.Fail(d)
}

// BadArguments fails the activation because its stored arguments no longer
// fit the flow's parameters; generated code calls it through flowimpl. It
// does not return.
func (m *Membrane) BadArguments(reason string) {
	m.check()
	m.Fail(&diag.Diagnostic{Problem: diag.BadArguments, Step: -1, Detail: reason})
}

// returnedEarly fails a replay whose guest returned while log entries
// remain.
func (m *Membrane) returnedEarly(result []byte, err error) {
	got := "return " + codec.Format(result)
	if err != nil {
		got = "return error " + strconv.Quote(err.Error())
	}
	d := &diag.Diagnostic{Problem: diag.ReturnedEarly, Step: m.raw[m.cur].Step, Got: got,
		Detail: strconv.Itoa(len(m.raw)-m.cur) + " log entries remain"}
	m.logged(d, m.cur)
	m.Fail(d)
}

// corrupt fails the replay at a log entry that does not decode.
func (m *Membrane) corrupt(r Entry, err error) {
	m.Fail(&diag.Diagnostic{Problem: diag.CorruptLog, Step: r.Step, Logged: codec.Format(r.Payload),
		Detail:     "entry of kind " + strconv.Itoa(int(r.Kind)) + " does not decode: " + err.Error(),
		WrittenGen: r.Gen, WrittenBuild: m.host.Build(r.Gen)})
}

// diverge fails the replay at the current entry: the guest did did instead.
func (m *Membrane) diverge(en *entry, problem diag.Problem, did crossing) {
	m.Fail(&diag.Diagnostic{Problem: problem, Step: en.step, Logged: en.String(), Got: did.String(),
		WrittenGen: en.gen, WrittenBuild: m.host.Build(en.gen)})
}

// mismatch fails the replay for a crossing of another kind than the logged
// entry, with the problem that says which way they differ.
func (m *Membrane) mismatch(en *entry, did crossing) {
	loggedCall := en.kind == KindCall || en.kind == KindIssue || en.kind == KindChild || en.isRetry()
	switch {
	case loggedCall && did.calls():
		m.diverge(en, diag.OtherCall, did)
	case loggedCall:
		m.diverge(en, diag.StoppedShort, did)
	case did.calls():
		m.diverge(en, diag.ExtraCall, did)
	default:
		m.diverge(en, diag.OtherStep, did)
	}
}

// failHost fails the activation for a live host call that gave no result to
// log, for a direct call and a future alike. Nothing is logged: the
// activation is retried, and the call made again with its idempotency key.
func (m *Membrane) failHost(did crossing, info flow.CallInfo, f *hostFailure) {
	d := &diag.Diagnostic{Problem: diag.Illegal, Step: m.step, Got: did.String(),
		Detail: f.detail + " (not logged: the activation is retried when a later incarnation provides it)"}
	if f.panicked {
		d.Problem, d.Stack = diag.HostPanic, f.stack
		d.Detail = f.detail + " (not logged: the call is made again, with the same idempotency key " + info.IdempotencyKey() + ", when the activation is retried)"
	}
	m.Fail(d)
}

// guestSite returns the file:line of the innermost frame of the guest's own
// code: the first frame outside this module's flow and runtime packages, the
// Go runtime, and guest proxies (generated files, or types named …proxy).
func guestSite() string {
	pcs := make([]uintptr, 64)
	n := goruntime.Callers(2, pcs)
	frames := goruntime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !skipFrame(f) {
			return shortFile(f.File) + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return ""
		}
	}
}

const modulePath = "github.com/asyncflow-go/asyncflow/"

func skipFrame(f goruntime.Frame) bool {
	fn := f.Function
	switch {
	case fn == "":
		return true
	case strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "testing."):
		return true
	case strings.HasPrefix(fn, modulePath+"flow.") || strings.HasPrefix(fn, modulePath+"flow/"):
		return true
	case strings.HasPrefix(fn, modulePath+"runtime.") || strings.HasPrefix(fn, modulePath+"runtime/"):
		return true
	case strings.Contains(f.File, "flowgen"):
		return true
	}
	// A method of a guest proxy type: pkg.(*ledgerProxy).Transfer or pkg.ledgerProxy.Transfer.
	name := fn[strings.LastIndex(fn, "/")+1:]
	parts := strings.SplitN(name, ".", 3)
	if len(parts) == 3 {
		recv := strings.ToLower(strings.Trim(parts[1], "(*)"))
		if k := strings.Index(recv, "["); k >= 0 {
			recv = recv[:k]
		}
		return strings.HasSuffix(recv, "proxy")
	}
	return false
}

// shortFile keeps the last two path elements: pkg/file.go.
func shortFile(path string) string {
	i := strings.LastIndex(path, "/")
	if i < 0 {
		return path
	}
	if j := strings.LastIndex(path[:i], "/"); j >= 0 {
		return path[j+1:]
	}
	return path
}

// panicSite finds the guest's frame in a panic stack (as debug.Stack prints it).
func panicSite(stack []byte) string {
	lines := bytes.Split(stack, []byte("\n"))
	afterPanic := false
	for i := 0; i+1 < len(lines); i++ {
		fn := string(bytes.TrimSpace(lines[i]))
		if bytes.HasPrefix(lines[i], []byte("panic(")) {
			afterPanic = true
			continue
		}
		if !afterPanic || len(fn) == 0 || bytes.HasPrefix(lines[i], []byte("\t")) {
			continue
		}
		file := string(bytes.TrimSpace(lines[i+1]))
		if j := bytes.LastIndexByte([]byte(file), ' '); j > 0 {
			file = file[:j]
		}
		name := fn
		if j := bytes.LastIndexByte([]byte(name), '('); j > 0 {
			name = name[:j]
		}
		if !skipFrame(goruntime.Frame{Function: name, File: file}) {
			return shortFile(file)
		}
	}
	return ""
}
