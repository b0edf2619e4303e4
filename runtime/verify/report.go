package verify

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// Report is what a replay of a store found.
type Report struct {
	Store string // the file replayed, for ReplayFile
	Build string // the build verified

	Activations int   // unfinished activations replayed
	Entries     int64 // log entries they hold
	// How many activations got each verdict.
	Replays, Stuck, Unregistered, BadArguments int
	// Flows are the counts by flow, registered or not, in name order; flows
	// the build registers with no unfinished activation are listed too.
	Flows []FlowReport
	// Problems are the results of the activations that do not replay, by
	// flow, then id: what deploying the build would strand.
	Problems []Result
	// Decided are the results of the activations that replay only with a
	// patch decision (see flow.Patched): the next run records it.
	Decided []Result
	Elapsed time.Duration
}

// FlowReport counts the unfinished activations of one flow by verdict and
// by stored state.
type FlowReport struct {
	Flow       string
	Registered bool
	// By verdict.
	Activations, Replays, Stuck, BadArguments int
	// By state as stored.
	Running, Suspended, Failed int
	Entries                    int64
}

// OK reports whether every unfinished activation replays: the build may be
// deployed without stranding any.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func newReport(build string, reg *registry) *Report {
	r := &Report{Build: build}
	for _, n := range reg.names() {
		r.Flows = append(r.Flows, FlowReport{Flow: n, Registered: true})
	}
	return r
}

func (r *Report) flow(name string) *FlowReport {
	i, found := slices.BinarySearchFunc(r.Flows, name, func(f FlowReport, n string) int { return strings.Compare(f.Flow, n) })
	if !found {
		r.Flows = slices.Insert(r.Flows, i, FlowReport{Flow: name})
	}
	return &r.Flows[i]
}

func (r *Report) add(res Result) {
	r.Activations++
	r.Entries += int64(res.Entries)
	f := r.flow(res.Flow)
	f.Activations++
	f.Entries += int64(res.Entries)
	switch res.State {
	case store.Running:
		f.Running++
	case store.Suspended:
		f.Suspended++
	case store.Failed:
		f.Failed++
	}
	switch res.Verdict {
	case Replays:
		r.Replays++
		f.Replays++
		if len(res.Decided) > 0 {
			r.Decided = append(r.Decided, res)
		}
		return
	case Stuck:
		r.Stuck++
		f.Stuck++
	case Unregistered:
		r.Unregistered++
	case BadArguments:
		r.BadArguments++
		f.BadArguments++
	}
	r.Problems = append(r.Problems, res)
}

func (r *Report) finish(elapsed time.Duration) {
	r.Elapsed = elapsed
	order := func(a, b Result) int {
		if c := strings.Compare(a.Flow, b.Flow); c != 0 {
			return c
		}
		return bytes.Compare(a.Activation[:], b.Activation[:])
	}
	slices.SortFunc(r.Problems, order)
	slices.SortFunc(r.Decided, order)
}

// String renders the report for people: the counts, a table by flow, and
// each activation that does not replay with its full diagnostic.
func (r *Report) String() string {
	var b strings.Builder
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "replay gate %s: build %s", verdict, r.Build)
	if r.Store != "" {
		fmt.Fprintf(&b, " against %s", r.Store)
	}
	fmt.Fprintf(&b, "\n%d unfinished activations, %d log entries, replayed in %s\n", r.Activations, r.Entries, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "  %d replay to the end of their logs", r.Replays)
	if len(r.Decided) > 0 {
		fmt.Fprintf(&b, " (%d with a flow.Patched decision)", len(r.Decided))
	}
	fmt.Fprintf(&b, "\n  %d stuck\n  %d whose flow this build does not register\n  %d whose arguments no longer decode\n", r.Stuck, r.Unregistered, r.BadArguments)
	if len(r.Flows) > 0 {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  flow\tactivations\trunning\tsuspended\tfailed\treplay\tstuck\targuments\t")
		for _, f := range r.Flows {
			name := f.Flow
			if !f.Registered {
				name += " (not registered)"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, f.Activations, f.Running, f.Suspended, f.Failed, f.Replays, f.Stuck, f.BadArguments)
		}
		tw.Flush()
	}
	for _, p := range r.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	for _, d := range r.Decided {
		fmt.Fprintf(&b, "\nactivation %s of flow %s%s replays with %s taken as true: it ran the new path under a build without the patch\n",
			d.Activation, d.Flow, startedAs(d), patchList(d.Decided))
	}
	return b.String()
}

// String renders one result, with the full diagnostic of a problem.
func (r Result) String() string {
	head := fmt.Sprintf("activation %s of flow %s%s, %s with %d log entries: ", r.Activation, r.Flow, startedAs(r), r.State, r.Entries)
	switch r.Verdict {
	case Replays:
		if r.Returns {
			return head + "replays to the end of its log, where it returns"
		}
		return head + "replays to the end of its log"
	case Unregistered:
		return head + "its flow is not registered in this build, which would leave it untouched (a renamed flow keeps its durable name with //flowgen:flow name=" + r.Flow + ")"
	}
	what := "stuck"
	if r.Verdict == BadArguments {
		what = "its arguments no longer decode"
	}
	if r.Failure == nil {
		return head + what
	}
	return head + what + "\n" + indent(r.Failure.Error())
}

func startedAs(r Result) string {
	if r.StartKey == "" {
		return ""
	}
	return fmt.Sprintf(" (started with id %q)", r.StartKey)
}

func patchList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("flow.Patched(%q)", id)
	}
	return strings.Join(parts, " and ")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
