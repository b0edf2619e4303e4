package membrane

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// future is the state of one host call issued without waiting.
type future struct {
	n        int
	info     flow.CallInfo
	args     []byte
	policy   *flowimpl.Policy // nil: one attempt
	attempt  int              // the attempt its next launch makes, from 1
	backoff  flow.VowID       // the timer that attempt waits for, if any
	launched bool             // the call was made live in this run
	done     bool             // its outcome arrived (live) but is not observed yet
	out      outcome          // valid when done
	seq      int              // arrival order of outcomes
	observed bool
}

// crossing is the future's issue as the guest made it.
func (f *future) crossing() crossing {
	return crossing{op: opIssue, target: f.info.Target, method: f.info.Method, args: f.args, future: f.n}
}

// Unavailable is what Host.Invoke returns when a call cannot be made in this
// incarnation at all, such as a call to a service it does not provide. The
// activation fails without logging anything and is retried by a later
// incarnation.
type Unavailable struct{ Err error }

func (u *Unavailable) Error() string { return u.Err.Error() }

func (m *Membrane) callInfo(target flow.Ref, method string) flow.CallInfo {
	info := flow.CallInfo{Activation: m.act, Flow: m.flow, Run: int(m.run), Index: m.calls, Target: target, Method: method}
	m.calls++
	return info
}

// Call implements flowimpl.Guest.
func (m *Membrane) Call(target flow.Ref, method string, args []byte) ([]byte, error) {
	return m.CallWith(target, method, args, nil)
}

// CallWith implements flowimpl.Guest: a host call whose failed attempts are
// made again under p (nil: one attempt). Replaying, the log holds a retry
// marker for each attempt that failed and was made again, then the call's
// outcome; the markers are consumed and the outcome handed back, without
// waiting. If the log runs out after a marker, the call goes on live from
// the attempt that marker scheduled, once its timer has fired.
func (m *Membrane) CallWith(target flow.Ref, method string, args []byte, p *flowimpl.Policy) ([]byte, error) {
	m.check()
	info := m.callInfo(target, method)
	if out, ok := m.replayCall(target, method, args); ok {
		m.consume()
		return m.answer(out)
	}
	info.Attempt = 1
	did := crossing{op: opCall, target: target, method: method, args: args}
	var backoff flow.VowID // the timer the next attempt waits for
	for en := m.next(); en != nil; en = m.next() {
		if r, ok := m.retryOf(en, did); ok {
			m.sameCall(en, r.target, r.method, r.args, did)
			if r.attempt != info.Attempt {
				m.diverge(en, diag.CorruptLog, did)
			}
			m.consume()
			info.Attempt, backoff = r.attempt+1, r.vow
			continue
		}
		if en.kind != KindCall {
			m.mismatch(en, did)
		}
		m.sameCall(en, en.target, en.method, en.args, did)
		m.consume()
		return m.answer(en.out)
	}
	if !backoff.IsZero() {
		m.waitTimer(backoff)
	}
	for {
		m.barrier()
		out, cut, failure := m.callHost(info, args, p.AttemptTimeout())
		if failure != nil {
			m.failHost(did, info, failure)
		}
		if cut {
			m.abandon()
		}
		m.check()
		if retries(p, out, info.Attempt) {
			r := m.scheduleRetry(p, info.Attempt, out)
			r.target, r.method, r.args = target, method, args
			m.append(r.entry(), true, With{Timer: &Timer{Vow: r.vow, Deadline: r.deadline}})
			m.waitTimer(r.vow)
			info.Attempt++
			continue
		}
		m.append(&entry{kind: KindCall, target: target, method: method, args: args, out: out}, true, With{})
		return m.answer(out)
	}
}

// sameCall fails the replay if the call logged at en is not the one the
// guest makes.
func (m *Membrane) sameCall(en *entry, target flow.Ref, method string, args []byte, did crossing) {
	switch {
	case target != did.target || method != did.method:
		m.diverge(en, diag.OtherCall, did)
	case !bytes.Equal(args, did.args):
		m.diverge(en, diag.OtherArguments, did)
	}
}

// replayCall answers a host call from the next log entry, without decoding
// the entry, when the entry records this very call: its payload then starts
// with the call's target and method as the guest encodes them, followed by
// the same arguments. It reports false whenever that is not so (another
// entry, the log used up, an encoding it does not recognise at a glance), and
// the general path, which decodes the entry, decides. It accepts only what
// that path would accept, and allocates nothing: it is the hot path of a
// replay.
func (m *Membrane) replayCall(target flow.Ref, method string, args []byte) (outcome, bool) {
	if m.live || m.cur >= len(m.raw) || m.raw[m.cur].Kind != KindCall {
		return outcome{}, false
	}
	payload := m.raw[m.cur].Payload
	h := m.head
	if h == nil {
		h = &callHead{}
		m.head = h
	}
	if !h.ok || h.target != target || h.method != method {
		h.enc.Reset()
		target.MarshalFlow(&h.enc)
		h.enc.PutString(method)
		h.ok, h.target, h.method = true, target, method
	}
	head := h.enc.Bytes()
	if !bytes.HasPrefix(payload, head) {
		return outcome{}, false
	}
	d := codec.NewDecoder(payload[len(head):])
	if !bytes.Equal(d.ReadRaw(), args) {
		return outcome{}, false
	}
	out := readOutcome(d)
	if d.Done() != nil {
		return outcome{}, false
	}
	return out, true
}

// callHead is the encoded target and method of the last call replayCall
// compared: a replay makes the same call many times over.
type callHead struct {
	ok     bool
	target flow.Ref
	method string
	enc    codec.Encoder
}

// answer hands a settlement to the guest: the value, or the error decoded, so
// the guest sees the same thing live and replaying.
func (m *Membrane) answer(o outcome) ([]byte, error) {
	if o.ok {
		return o.value, nil
	}
	return nil, o.guestError()
}

// hostFailure is why a host call gave no result to log.
type hostFailure struct {
	panicked bool   // the host method panicked; otherwise its target is unavailable
	detail   string // the panic value, or why the target is unavailable
	stack    string // the host's stack, for a panic
}

// callHost makes a live host call, for Call or on a future's goroutine. A
// call cut short by shutdown gives cut; a host panic or an unavailable
// target gives a failure. Neither has an outcome to log.
func (m *Membrane) callHost(info flow.CallInfo, args []byte, timeout time.Duration) (out outcome, cut bool, failure *hostFailure) {
	defer func() {
		if v := recover(); v != nil {
			out, cut, failure = outcome{}, false, &hostFailure{panicked: true, detail: fmt.Sprint(v), stack: string(debug.Stack())}
		}
	}()
	res, cut, err := m.host.Invoke(info, args, timeout)
	if cut {
		return outcome{}, true, nil
	}
	var un *Unavailable
	if errors.As(err, &un) {
		return outcome{}, false, &hostFailure{detail: un.Err.Error()}
	}
	return hostOutcome(res, err), false, nil
}

// hostOutcome is what a host call returned, as a settlement.
func hostOutcome(res []byte, err error) outcome {
	if err != nil {
		return errOutcome(err)
	}
	if res == nil {
		res = []byte{0x08, 0x00} // an empty tuple
	}
	return okOutcome(res)
}

// Issue implements flowimpl.Guest.
func (m *Membrane) Issue(target flow.Ref, method string, args []byte) int {
	return m.IssueWith(target, method, args, nil)
}

// IssueWith implements flowimpl.Guest: a future whose failed attempts are
// made again under p (nil: one attempt), on the future's own goroutine. Each
// retry is logged by the guest when it next waits (see logRetry), and
// replayed wherever it appears in the log (see next).
func (m *Membrane) IssueWith(target flow.Ref, method string, args []byte, p *flowimpl.Policy) int {
	m.check()
	info := m.callInfo(target, method)
	// The cursor moves first: if the log runs out here, going live issues
	// the earlier futures again, and must not issue this one too.
	en := m.next()
	f := &future{n: len(m.futures) + 1, info: info, args: args, policy: p, attempt: 1}
	m.futures = append(m.futures, f)
	if en != nil {
		switch {
		case en.kind != KindIssue:
			m.mismatch(en, f.crossing())
		case en.target != target || en.method != method || en.future != f.n:
			m.diverge(en, diag.OtherCall, f.crossing())
		case !bytes.Equal(en.args, args):
			m.diverge(en, diag.OtherArguments, f.crossing())
		}
		m.consume()
		return f.n
	}
	m.append(&entry{kind: KindIssue, future: f.n, target: target, method: method, args: args}, false, With{})
	m.launch(f)
	return f.n
}

// launch makes a future's host call on its own goroutine, from the attempt
// it is at; its outcome reaches the guest through the inbox. An attempt
// that fails and is to be made again is handed to the guest to log, with
// its timer, and the goroutine waits for the timer before the next.
func (m *Membrane) launch(f *future) {
	m.barrier()
	f.launched = true
	info, args, p := f.info, f.args, f.policy
	info.Attempt = f.attempt
	backoff := f.backoff
	gone := m.inbox.goneChan()
	go func() {
		for {
			if !backoff.IsZero() {
				if err := m.host.WaitVow(backoff, gone); err != nil {
					m.inbox.push(event{kind: evFuture, future: f.n, cut: true})
					return
				}
			}
			if m.Revoked() {
				return
			}
			out, cut, failure := m.callHost(info, args, p.AttemptTimeout())
			if failure != nil {
				m.inbox.push(event{kind: evHostFailed, future: f.n, failure: failure})
				return
			}
			if cut || !retries(p, out, info.Attempt) {
				m.inbox.push(event{kind: evFuture, future: f.n, out: out, cut: cut})
				return
			}
			r := m.scheduleRetry(p, info.Attempt, out)
			r.future = f.n
			r.logged = make(chan bool, 1)
			m.inbox.push(event{kind: evRetry, future: f.n, retry: r})
			select {
			case ok := <-r.logged:
				if !ok {
					return
				}
			case <-gone:
				return
			}
			info.Attempt++
			backoff = r.vow
		}
	}()
}
