package membrane

import (
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// Run is a flow with its arguments bound: what a dry run replays.
type Run func(fc flow.Context) ([]byte, error)

// DryHost is what a dry run needs of its host: names for diagnostics and a
// clock to date them. Nothing else is ever asked.
type DryHost interface {
	Build(gen int64) string
	Incarnation() (int64, string)
	Now() time.Time
}

// Trial is what one dry run of a log found.
type Trial struct {
	Decided  []string         // the patch ids it took as true without a marker
	End      bool             // the log replayed to its end
	Returned bool             // and the flow returned there
	Failure  *diag.Diagnostic // why not, if it did not
	Open     []string         // patch ids it answered false for want of a marker
	Replayed int64            // log entries replayed
}

// OK reports whether the run reproduced its whole log.
func (t *Trial) OK() bool { return t.Failure == nil && t.End }

// dryHost is the Host of a dry run: a run that only replays never calls the
// live methods.
type dryHost struct {
	DryHost
	mu      sync.Mutex
	failure *diag.Diagnostic
	end     bool
}

func (h *dryHost) Invoke(flow.CallInfo, []byte, time.Duration) ([]byte, bool, error) {
	panic("membrane: dry run called a host")
}
func (h *dryHost) WaitVow(flow.VowID, <-chan struct{}) error { panic("membrane: dry run waited") }
func (h *dryHost) Append(Entry, With) Commit                 { panic("membrane: dry run appended") }
func (h *dryHost) Watch([]flow.VowID, bool) (Watched, error) { panic("membrane: dry run watched") }
func (h *dryHost) Parked(bool)                               {}
func (h *dryHost) Evict() bool                               { return false }

func (h *dryHost) Failed(d *diag.Diagnostic) {
	h.mu.Lock()
	h.failure = d
	h.mu.Unlock()
}

func (h *dryHost) Live() {
	h.mu.Lock()
	h.end = true
	h.mu.Unlock()
}

// Dry replays c.Log with run and reports what it found, calling no host and
// appending nothing: c.Host is ignored and c.Dry implied. A guest that makes
// no crossing for stall while replaying is failed as stalled and abandoned.
func Dry(c Config, h DryHost, run Run, stall time.Duration) Trial {
	return dry(c, h, guestRun(run), stall)
}

// guestRun is a Run as the engine runs it: on the membrane, through the flow
// context generated code reaches it by.
func guestRun(run Run) func(m *Membrane) ([]byte, error) {
	return func(m *Membrane) ([]byte, error) { return run(flowimpl.NewContext(m)) }
}

func dry(c Config, h DryHost, run func(m *Membrane) ([]byte, error), stall time.Duration) Trial {
	dh := &dryHost{DryHost: h}
	c.Host, c.Dry = dh, true
	m := New(c)
	returned := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				m.Panicked(v, debug.Stack())
			}
		}()
		res, err := run(m)
		returned = true
		m.Returned(res, err)
	}()
	if stall <= 0 {
		stall = time.Minute
	}
	timer := time.NewTimer(stall)
	defer timer.Stop()
	last := m.Progress()
	abandoned := false
wait:
	for {
		select {
		case <-done:
			break wait
		case <-timer.C:
			if p := m.Progress(); p != last {
				last = p
				timer.Reset(stall)
				continue
			}
			if m.ReportStall(stall) {
				abandoned = true
				break wait
			}
			timer.Reset(stall)
		}
	}
	dh.mu.Lock()
	defer dh.mu.Unlock()
	t := Trial{Decided: slices.Clone(c.Decided), End: dh.end, Failure: dh.failure, Replayed: m.Progress()}
	if !abandoned {
		t.Returned = returned && dh.end
		t.Open = m.Open()
	}
	if t.Failure != nil {
		t.End = false
	}
	return t
}

// MaxTrials bounds the dry runs a search for patch decisions makes, the
// first included: every combination of up to three patch ids answered false
// for want of a marker.
const MaxTrials = 8

// Search looks for patch decisions under which the log replays to its end,
// when replay with c.Decided does not. Replay calls no host, so trying is
// free: each trial is a dry run. Breadth first, it takes as true one more of
// the ids the failed trial answered false for want of a marker, the one
// asked last first, up to MaxTrials runs. first, if not nil, is a trial
// already made with c.Decided (a live run that failed), so it is not run
// again.
//
// It returns the trial that reproduced the log, if one did, and every trial
// made, in order.
func Search(c Config, h DryHost, run Run, stall time.Duration, first *Trial) (*Trial, []Trial) {
	return search(c, h, guestRun(run), stall, first)
}

func search(c Config, h DryHost, run func(m *Membrane) ([]byte, error), stall time.Duration, first *Trial) (*Trial, []Trial) {
	var trials []Trial
	queue := [][]string{slices.Clone(c.Decided)}
	seen := map[string]bool{key(c.Decided): true}
	for len(queue) > 0 && len(trials) < MaxTrials {
		decided := queue[0]
		queue = queue[1:]
		var t Trial
		if len(trials) == 0 && first != nil {
			t = *first
			t.Decided = decided
		} else {
			c.Decided = decided
			t = dry(c, h, run, stall)
		}
		trials = append(trials, t)
		if t.OK() {
			return &trials[len(trials)-1], trials
		}
		for i := len(t.Open) - 1; i >= 0; i-- {
			next := append(slices.Clone(decided), t.Open[i])
			if k := key(next); !seen[k] {
				seen[k] = true
				queue = append(queue, next)
			}
		}
	}
	return nil, trials
}

func key(ids []string) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	k := ""
	for _, id := range s {
		k += strconv.Quote(id)
	}
	return k
}

// Explain adds to the diagnostic of a failed replay what a search for patch
// decisions tried: for each trial after the first, the decisions and where
// it failed.
func Explain(d *diag.Diagnostic, trials []Trial) {
	for _, t := range trials[min(1, len(trials)):] {
		line := "tried " + decisionsString(t.Decided) + ": "
		switch {
		case t.Failure != nil:
			line += string(t.Failure.Problem) + " at step " + strconv.FormatInt(t.Failure.Step, 10)
			if t.Failure.Got != "" {
				line += " (code did " + t.Failure.Got + ")"
			}
		default:
			line += "the replay did not reach the end of the log"
		}
		d.Patches = append(d.Patches, line)
	}
	if len(trials) >= MaxTrials {
		d.Patches = append(d.Patches, "the search stopped after "+strconv.Itoa(MaxTrials)+" replays")
	}
}

func decisionsString(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += " and "
		}
		s += "flow.Patched(" + strconv.Quote(id) + ") = true"
	}
	return s
}
