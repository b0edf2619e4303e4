package diag

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

// Problem classifies why an activation failed. Its values are stable: they
// are stored with the diagnostic.
type Problem string

// The problems.
const (
	// The guest called a different target or method than the log records.
	OtherCall Problem = "other-call"
	// The guest called the logged target and method with other arguments.
	OtherArguments Problem = "other-arguments"
	// The guest made a host call where the log records something else.
	ExtraCall Problem = "extra-call"
	// The log records a host call here, but the guest did something else.
	StoppedShort Problem = "stopped-short"
	// The guest returned while log entries remain.
	ReturnedEarly Problem = "returned-early"
	// The guest awaited, asked the time or set a timer differently from the log.
	OtherStep Problem = "other-step"
	// A logged value does not decode into the type the code now expects.
	Undecodable Problem = "undecodable"
	// A log entry is malformed.
	CorruptLog Problem = "corrupt-log"
	// The guest panicked.
	GuestPanic Problem = "guest-panic"
	// A host method panicked.
	HostPanic Problem = "host-panic"
	// A replay made no progress for too long.
	Stalled Problem = "stalled"
	// The guest asked for something that cannot be done: a vow that does not
	// exist, a service this incarnation does not provide, arguments that do
	// not decode.
	Illegal Problem = "illegal"
	// The activation's stored arguments no longer fit the flow's parameters:
	// a parameter changed type, or was removed. (A parameter added at the
	// end is not a problem: old activations get its zero value.)
	BadArguments Problem = "arguments"
	// The store refused for good to record what the activation did: a value
	// over its size limit, or a write that breaks a constraint.
	StoreRefused Problem = "store-refused"
)

// Diagnostic says why an activation is stuck, in terms a developer can act on:
// where in the log, what was logged, what the code did instead and where, and
// which builds wrote and failed.
type Diagnostic struct {
	Problem    Problem           `json:"problem"`
	Activation flow.ActivationID `json:"-"`
	Flow       string            `json:"flow"`
	// Step is the log position at which the guest diverged; -1 if none.
	Step int64 `json:"step"`
	// Logged is the log entry at Step, rendered; empty past the end.
	Logged string `json:"logged,omitempty"`
	// Got is what the guest did instead, rendered.
	Got string `json:"got,omitempty"`
	// Site is the guest's source position, file:line.
	Site string `json:"site,omitempty"`
	// Detail adds what does not fit above.
	Detail string `json:"detail,omitempty"`
	// Patches are the flow.Patched answers replay took before it failed,
	// one sentence each: whether a marker was logged, missing, passed over,
	// or a decision taken without one, and what trying the other answer
	// found. A failure after such an answer may be caused by it.
	Patches []string `json:"patches,omitempty"`
	// Stack is the guest's (or host's) stack, for panics.
	Stack string `json:"stack,omitempty"`
	// The incarnation and build that wrote the logged entry.
	WrittenGen   int64  `json:"written_gen,omitempty"`
	WrittenBuild string `json:"written_build,omitempty"`
	// The incarnation and build that failed.
	FailedGen   int64     `json:"failed_gen"`
	FailedBuild string    `json:"failed_build"`
	Time        time.Time `json:"time"`
}

type diagnosticJSON struct {
	Activation string `json:"activation"`
	*diagAlias
}

type diagAlias Diagnostic

// MarshalJSON includes the activation id in its text form.
func (d *Diagnostic) MarshalJSON() ([]byte, error) {
	return json.Marshal(diagnosticJSON{Activation: d.Activation.String(), diagAlias: (*diagAlias)(d)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Diagnostic) UnmarshalJSON(b []byte) error {
	v := diagnosticJSON{diagAlias: (*diagAlias)(d)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Activation != "" {
		id, err := flow.ParseActivationID(v.Activation)
		if err != nil {
			return err
		}
		d.Activation = id
	}
	return nil
}

// LogAttrs gives the diagnostic as structured log attributes, one for each
// thing it says — problem, step, logged, did, at, detail, the builds that
// logged and failed, the stack of a panic — for a logger to print or index,
// rather than one string of several lines:
//
//	log.Warn("activation stuck", d.LogAttrs()...)
func (d *Diagnostic) LogAttrs() []slog.Attr {
	attrs := []slog.Attr{
		slog.String("activation", d.Activation.String()),
		slog.String("flow", d.Flow),
		slog.String("problem", string(d.Problem)),
	}
	add := func(key, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(key, v))
		}
	}
	if d.Step >= 0 {
		attrs = append(attrs, slog.Int64("step", d.Step))
	}
	add("logged", d.Logged)
	add("did", d.Got)
	add("at", d.Site)
	add("detail", d.Detail)
	if len(d.Patches) > 0 {
		attrs = append(attrs, slog.Any("patches", d.Patches))
	}
	if d.WrittenGen != 0 {
		attrs = append(attrs, slog.Int64("logged_gen", d.WrittenGen))
		add("logged_build", d.WrittenBuild)
	}
	attrs = append(attrs, slog.Int64("failed_gen", d.FailedGen))
	add("failed_build", d.FailedBuild)
	add("stack", d.Stack)
	return attrs
}

// LogValue makes a diagnostic logged as a value a group of its LogAttrs.
func (d *Diagnostic) LogValue() slog.Value { return slog.GroupValue(d.LogAttrs()...) }

// Error renders the diagnostic on several lines.
func (d *Diagnostic) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "activation %s of flow %s is stuck: %s", d.Activation, d.Flow, d.headline())
	if d.Site != "" {
		fmt.Fprintf(&b, "\n  at:        %s", d.Site)
	}
	if d.Step >= 0 {
		fmt.Fprintf(&b, "\n  log step:  %d", d.Step)
	}
	if d.Logged != "" {
		fmt.Fprintf(&b, "\n  logged:    %s", d.Logged)
	}
	if d.Got != "" {
		fmt.Fprintf(&b, "\n  code did:  %s", d.Got)
	}
	if d.Detail != "" {
		fmt.Fprintf(&b, "\n  detail:    %s", d.Detail)
	}
	for i, p := range d.Patches {
		label := "patches:  "
		if i > 0 {
			label = "          "
		}
		fmt.Fprintf(&b, "\n  %s %s", label, p)
	}
	if d.WrittenGen != 0 {
		fmt.Fprintf(&b, "\n  logged by: incarnation %d, build %s", d.WrittenGen, d.WrittenBuild)
	}
	if d.FailedGen == 0 {
		fmt.Fprintf(&b, "\n  failed in: the replay gate, build %s", d.FailedBuild)
	} else {
		fmt.Fprintf(&b, "\n  failed in: incarnation %d, build %s", d.FailedGen, d.FailedBuild)
	}
	if d.Stack != "" {
		fmt.Fprintf(&b, "\n  stack:\n%s", indent(d.Stack, "    "))
	}
	return b.String()
}

// Headline says in a sentence what went wrong, by problem kind.
func (d *Diagnostic) Headline() string { return d.headline() }

func (d *Diagnostic) headline() string {
	h := d.problemText()
	if len(d.Patches) > 0 {
		h += " (after flow.Patched answers: see patches)"
	}
	return h
}

func (d *Diagnostic) problemText() string {
	switch d.Problem {
	case OtherCall:
		return "replay failed: the code calls a different host method than the log records"
	case OtherArguments:
		return "replay failed: the code passes different arguments than the log records"
	case ExtraCall:
		return "replay failed: the code makes a host call the log does not record"
	case StoppedShort:
		return "replay failed: the log records a host call the code no longer makes here"
	case ReturnedEarly:
		return "replay failed: the code returned before the log was used up"
	case OtherStep:
		return "replay failed: the code does something other than the log records"
	case Undecodable:
		return "replay failed: a logged value does not fit the code's types"
	case CorruptLog:
		return "the log is corrupt"
	case GuestPanic:
		return "the flow panicked"
	case HostPanic:
		return "a host method panicked"
	case Stalled:
		return "replay made no progress"
	case Illegal:
		return "illegal crossing"
	case BadArguments:
		return "the stored arguments no longer fit the flow's parameters"
	}
	return string(d.Problem)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
