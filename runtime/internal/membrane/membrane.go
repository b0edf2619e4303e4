package membrane

import (
	"errors"
	goruntime "runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// Host is what the membrane needs from the runtime for live crossings.
type Host interface {
	// Invoke performs one attempt of a host call, with the timeout, if not
	// zero, as its context's deadline. cut is true when the runtime's
	// shutdown cut the call short: its result must not be logged. An
	// *Unavailable error says the call cannot be made in this incarnation at
	// all. A panic in the host method propagates to the membrane.
	Invoke(info flow.CallInfo, args []byte, timeout time.Duration) (result []byte, cut bool, err error)
	// WaitVow blocks until a vow has settled, from a future's goroutine. It
	// returns an error if stop is closed first, or if it cannot wait
	// (shutdown, a store failure).
	WaitVow(vow flow.VowID, stop <-chan struct{}) error
	// Append queues an entry to be made durable after everything appended
	// before, with what it brings into the store (a timer, a receiver, a
	// publication, a child activation) in the same transaction. It returns
	// nil when the activation may append nothing more (it is cancelled, or
	// the runtime shuts down). A Commit whose Wait returns a *Refused fails
	// the activation; any other error ends the run without a failure.
	Append(e Entry, with With) Commit
	// Watch checks vows and, if none is settled, records that the activation
	// waits for them (suspended, if suspend). Its errors are a Commit's.
	Watch(vows []flow.VowID, suspend bool) (Watched, error)
	// Now reads the runtime's clock.
	Now() time.Time
	// Parked tells the runtime the guest waits for events (true) or runs
	// again (false).
	Parked(parked bool)
	// Evict asks the runtime to let the guest go while parked. It returns
	// true if the runtime has forgotten the activation, which the guest must
	// then leave.
	Evict() bool
	// Failed records a failure durably. It is called at most once.
	Failed(d *diag.Diagnostic)
	// Live tells the runtime the replay has used up the log.
	Live()
	// Build returns the build of an incarnation.
	Build(gen int64) string
	// Incarnation returns this incarnation's generation and build.
	Incarnation() (int64, string)
}

// Entry is one entry of an activation's log: Payload encodes a crossing in
// the form Kind says.
type Entry struct {
	Step    int64
	Kind    Kind
	Gen     int64 // incarnation that wrote it
	Payload []byte
}

// With is what an appended entry brings into the store, in the same
// transaction: at most one thing, or nothing.
type With struct {
	Timer    *Timer    // flow.After: a durable timer
	Receiver *Receiver // Signal.Next: a receiver in a mailbox
	Status   *Status   // Status.Set: a publication
	Child    *Child    // a child activation started
}

// Timer is a durable timer an appended entry brings: a pending vow the
// runtime fulfils with its deadline once the deadline has passed.
type Timer struct {
	Vow      flow.VowID
	Deadline time.Time
}

// Receiver is a pending vow that the next message sent to the activation's
// mailbox Mailbox fulfils; a message waiting there fulfils it at once.
type Receiver struct {
	Mailbox string
	Vow     flow.VowID
}

// Status is a value the activation publishes under Name, replacing what it
// published under it before.
type Status struct {
	Name  string
	Value []byte
}

// Child is an activation of the flow Flow the activation starts as its
// child, with the encoded argument tuple Args and the outcome vow Outcome.
// The runtime runs it once the entry is durable, if it runs that flow.
type Child struct {
	ID      flow.ActivationID
	Flow    string
	Args    []byte
	Outcome flow.VowID
}

// Commit is an append on its way to durability.
type Commit interface {
	// Wait blocks until the append is durable, or failed.
	Wait() error
}

// Settlement is how a vow settled: fulfilled with Value, or rejected, Value
// then encoding the error.
type Settlement struct {
	Rejected bool
	Value    []byte
}

// Watched is what Host.Watch found.
type Watched struct {
	Missing    int        // position of the first vow that does not exist, or -1
	Settled    int        // position of the first vow settled already, or -1
	Settlement Settlement // of the vow at Settled
}

// Config describes one run of an activation.
type Config struct {
	Activation flow.ActivationID
	Flow       string
	Run        int     // the activation's run: 0, or how often it continued as new
	Log        []Entry // what replay answers from; empty for a new activation
	Host       Host
	// Decided are patch ids replay takes as true where the log has no
	// marker for them (see patches.go): decisions a search found. The run
	// records those it used when it goes live.
	Decided []string
	// Dry makes a run that only replays: when the log is used up the guest
	// ends (Host.Live is called first), so the host is never called and
	// nothing is appended. The replay gate and the search for patch
	// decisions run so.
	Dry bool
}

// Mode is what a run is doing.
type Mode int32

// Modes, as reported by Membrane.Mode.
const (
	ModeReplaying Mode = iota // answering from the log
	ModeRunning               // live
	ModeParked                // live, waiting for an event
	ModeDone                  // returned, failed or left
)

func (m Mode) String() string {
	switch m {
	case ModeReplaying:
		return "replaying"
	case ModeRunning:
		return "running"
	case ModeParked:
		return "parked"
	case ModeDone:
		return "done"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Membrane is the membrane of one run of one activation.
type Membrane struct {
	host Host
	act  flow.ActivationID
	flow string
	raw  []Entry
	cur  int   // next log entry to replay
	step int64 // next step number to append
	live bool
	dry  bool
	run  int32 // the activation's run (Config.Run)

	calls     int // host calls so far (sync and async): the call index
	futures   []*future
	arrivals  int
	observed  map[flow.AwaitKey]outcome
	patched   map[string]bool
	decided   map[string]int        // patch ids taken as true without a marker, by source
	open      []string              // patch ids answered false for want of a marker
	notes     []patchNote           // Patched answers while replaying, for diagnostics
	receivers map[string]flow.VowID // each mailbox's latest receiver; nil until one is made

	lastInfo Commit    // the last appended entry that brought the world's information in
	head     *callHead // of the last call replayCall compared; nil once live

	logRef   atomic.Pointer[[]Entry] // the replay log, for the watchdog; nil once live
	inbox    inbox
	revoked  atomic.Bool
	stopped  atomic.Bool
	progress atomic.Int64 // replayed entries so far, for the watchdog
	mode     atomic.Int32
}

// New returns the membrane for one run.
func New(c Config) *Membrane {
	m := &Membrane{
		host:     c.Host,
		act:      c.Activation,
		flow:     c.Flow,
		run:      int32(c.Run),
		raw:      c.Log,
		step:     int64(len(c.Log)),
		observed: map[flow.AwaitKey]outcome{},
		patched:  map[string]bool{},
		decided:  map[string]int{},
		dry:      c.Dry,
	}
	m.inbox.signal = make(chan struct{}, 1)
	m.logRef.Store(&m.raw)
	m.preloadDecisions()
	for _, id := range c.Decided {
		if _, ok := m.decided[id]; !ok {
			m.decided[id] = decidedGiven
		}
	}
	if len(c.Log) == 0 && !c.Dry {
		m.live = true
		m.setMode(ModeRunning)
	}
	return m
}

var _ flowimpl.Guest = (*Membrane)(nil)

// Activation implements flowimpl.Guest.
func (m *Membrane) Activation() flow.ActivationID { return m.act }

// Mode reports whether the guest is replaying, running live, parked or done.
func (m *Membrane) Mode() Mode { return Mode(m.mode.Load()) }

func (m *Membrane) setMode(mode Mode) { m.mode.Store(int32(mode)) }

// Progress returns how many log entries have been replayed; the watchdog
// compares readings.
func (m *Membrane) Progress() int64 { return m.progress.Load() }

// Replaying reports whether the log is not yet used up.
func (m *Membrane) Replaying() bool { return m.Mode() == ModeReplaying }

// Revoked reports whether the membrane has failed or been stopped.
func (m *Membrane) Revoked() bool { return m.revoked.Load() || m.stopped.Load() }

// Stop revokes the membrane without a failure, for shutdown, cancellation or
// eviction: the guest leaves at its next crossing, or at once if parked.
func (m *Membrane) Stop() {
	m.stopped.Store(true)
	m.over()
	m.inbox.push(event{kind: evStop})
}

// over tells the run's goroutines that the run is over.
func (m *Membrane) over() { m.inbox.end() }

// Deliver tells a parked or running guest that a vow it may wait for has
// settled.
func (m *Membrane) Deliver(vow flow.VowID, s Settlement) {
	m.inbox.push(event{kind: evVow, vow: vow, out: settled(s)})
}

// RequestEvict asks a parked guest to leave if it can.
func (m *Membrane) RequestEvict() { m.inbox.push(event{kind: evEvict}) }

// Pending reports whether events wait in the inbox.
func (m *Membrane) Pending() bool { return m.inbox.pending() }

// check ends the guest if the membrane is revoked.
func (m *Membrane) check() {
	if m.revoked.Load() || m.stopped.Load() {
		goruntime.Goexit()
	}
}

// leave ends the guest goroutine.
func (m *Membrane) leave() {
	goruntime.Goexit()
}

// abandon ends the guest without a failure: the run is given up — cancelled,
// cut short by shutdown, evicted, or left because the store failed — and a
// later run replays from what is durable.
func (m *Membrane) abandon() {
	m.stopped.Store(true)
	m.over()
	m.leave()
}

// position is the step the guest has reached.
func (m *Membrane) position() int64 {
	if m.live {
		return m.step
	}
	return int64(m.cur)
}

func (m *Membrane) decodeAt(i int) (*entry, error) {
	return decodeEntry(m.raw[i])
}

// next returns the next log entry to replay, or nil when the log is used up
// (the membrane is then live). Patch markers at the cursor are passed over:
// the crossing asking is not flow.Patched, which reads them itself. Nor are
// the retries of futures the guest's crossings: they are logged wherever the
// guest took them in, and next consumes them as it meets them.
func (m *Membrane) next() *entry {
	for !m.live {
		if m.cur >= len(m.raw) {
			m.goLive(true)
			return nil
		}
		en, err := m.decodeAt(m.cur)
		if err != nil {
			m.corrupt(m.raw[m.cur], err)
		}
		switch {
		case isPatchMarker(en):
			m.passMarker(en)
		case en.isRetry() && isFutureRetry(en.data):
			m.replayFutureRetry(en)
			m.consume()
		default:
			return en
		}
	}
	return nil
}

func (m *Membrane) consume() {
	m.cur++
	m.progress.Add(1)
}

// goLive switches to live mode when the log is used up. With reissue,
// futures issued during replay whose outcome was never observed are issued
// again, with their keys.
func (m *Membrane) goLive(reissue bool) {
	if m.live {
		return
	}
	if m.dry {
		m.host.Live()
		m.setMode(ModeDone)
		m.abandon()
	}
	m.live = true
	m.logRef.Store(nil)
	m.raw, m.head = nil, nil // replayed entries are not needed any more
	m.setMode(ModeRunning)
	m.host.Live()
	m.recordDecisions()
	if !reissue {
		return
	}
	for _, f := range m.futures {
		if !f.observed && !f.launched {
			m.launch(f)
		}
	}
}

// append logs an entry. informative entries carry something from the world
// into the guest, and must be durable before the guest's next effect.
func (m *Membrane) append(en *entry, informative bool, with With) Commit {
	en.step = m.step
	gen, _ := m.host.Incarnation()
	c := m.host.Append(Entry{Step: m.step, Kind: en.kind, Gen: gen, Payload: encodeEntry(en)}, with)
	if c == nil {
		m.abandon() // cancelled or shutting down: nothing more is logged
	}
	m.step++
	if informative {
		m.lastInfo = c
	}
	return c
}

// barrier waits until everything the guest has learned from the world is
// durable, so no effect that could depend on it reaches the world first.
func (m *Membrane) barrier() {
	if c := m.lastInfo; c != nil {
		if err := c.Wait(); err != nil {
			m.writeFailed(err)
		}
		m.lastInfo = nil
	}
	m.check()
}

// Refused is what Commit.Wait or Host.Watch returns when the store refuses
// for good to record what the guest did: a value over its size limit, a
// write that breaks a constraint. The activation fails with a StoreRefused
// diagnostic.
type Refused struct{ Err error }

func (r *Refused) Error() string { return r.Err.Error() }
func (r *Refused) Unwrap() error { return r.Err }

// writeFailed ends the guest after a write failed: with a failure if the
// store refused it for good, otherwise without one, and a later run replays
// from what is durable.
func (m *Membrane) writeFailed(err error) {
	var r *Refused
	if errors.As(err, &r) {
		m.Fail(&diag.Diagnostic{Problem: diag.StoreRefused, Step: m.step,
			Detail: "the store refused to record what the activation did, for good: " + r.Err.Error() +
				" (the log ends before it; the activation is tried again by Admin.Retry and by the next incarnation)"})
	}
	m.abandon()
}

// Returned is called when the flow function returns. It fails the replay if
// log entries remain; otherwise it waits for the calls the run issued (see
// settleCalls) and the caller settles the outcome.
func (m *Membrane) Returned(result []byte, err error) {
	m.check()
	if m.next() != nil { // patch markers and retries of futures are passed over
		m.returnedEarly(result, err)
	}
	m.settleCalls()
	m.barrier()
	m.setMode(ModeDone)
	m.over()
}
