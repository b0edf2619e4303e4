package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime"
)

func commands() map[string]command {
	return map[string]command{
		"list":         {run: (*cli).list, flags: listFlags},
		"show":         {run: (*cli).show},
		"log":          {run: (*cli).log},
		"failures":     {run: (*cli).failures},
		"unregistered": {run: (*cli).unregistered},
		"retry":        {run: operation("retry")},
		"wake":         {run: operation("wake")},
		"cancel":       {run: operation("cancel"), flags: cancelFlags, write: true},
		"terminate":    {run: operation("terminate"), write: true},
		"purge":        {run: (*cli).purge, flags: purgeFlags, write: true},
		"backup":       {run: (*cli).backup},
		"verify":       {run: (*cli).verify, flags: verifyFlags},
	}
}

func listFlags(fs *flag.FlagSet) {
	fs.String("state", "", "running, suspended, failed or done")
	fs.String("flow", "", "only this flow")
	fs.String("build", "", "only those started by this build")
	fs.String("since", "", "created at or after this time")
	fs.String("until", "", "created before this time")
	fs.Int("limit", 50, "at most this many")
	fs.String("after", "", "resume after this cursor")
	fs.Bool("all", false, "every page")
}

func cancelFlags(fs *flag.FlagSet) {
	fs.String("reason", "", "why, for the flow to see")
}

func purgeFlags(fs *flag.FlagSet) {
	fs.String("before", "", "purge those finished before this time")
	fs.String("older-than", "", "purge those finished longer ago than this (720h, 30d)")
}

func str(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(args, " "))
	}
	return nil
}

func oneRef(args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", usagef("give one activation: its id, its outcome vow or its start key")
	}
	return args[0], nil
}

// when reads a time flag: a date, an RFC 3339 time, or a duration ago.
func (c *cli) when(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if d, err := duration(s); err == nil {
		return c.now.Add(-d), nil
	}
	return time.Time{}, usagef("-%s %q: want a time (2026-12-01, 2026-12-01T10:00:00Z) or a duration ago (90m, 24h, 7d)", name, s)
}

// duration is time.ParseDuration with days.
func duration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, err
}

func (c *cli) list(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	o := runtime.ListOptions{State: runtime.State(str(fs, "state")), Flow: str(fs, "flow"), Build: str(fs, "build"), After: str(fs, "after")}
	switch o.State {
	case "", runtime.StateRunning, runtime.StateSuspended, runtime.StateFailed, runtime.StateDone, runtime.StateReplaying:
	default:
		return usagef("-state %q: want running, suspended, failed or done", o.State)
	}
	var err error
	if o.Since, err = c.when("since", str(fs, "since")); err != nil {
		return err
	}
	if o.Until, err = c.when("until", str(fs, "until")); err != nil {
		return err
	}
	if o.Limit, err = strconv.Atoi(str(fs, "limit")); err != nil || o.Limit < 1 {
		return usagef("-limit %q: want a count", str(fs, "limit"))
	}
	all := str(fs, "all") == "true"
	var got []runtime.ActivationInfo
	next := ""
	t := c.table("ACTIVATION", "FLOW", "START KEY", "STATE", "CREATED", "IN STATE SINCE", "STARTED BY")
	b, err := c.open(ctx)
	if err != nil {
		return err
	}
	for {
		page, err := b.List(ctx, o)
		if err != nil {
			return err
		}
		if c.json {
			got = append(got, page...)
		}
		for _, a := range page {
			state := string(a.State)
			if a.Failure != nil {
				state += " (" + string(a.Failure.Problem) + ")"
			}
			t.row(a.ID.String(), a.Flow, a.StartKey, state, stamp(a.Created), stamp(a.StateSince), a.CreatedBuild)
		}
		next = ""
		if len(page) == o.Limit {
			next = page[len(page)-1].Cursor()
		}
		if !all || next == "" {
			break
		}
		o.After = next
		if !c.json {
			t.flush()
		}
	}
	if c.json {
		if got == nil {
			got = []runtime.ActivationInfo{}
		}
		return c.printJSON(map[string]any{"activations": got, "next": next})
	}
	if t.rows == 0 && t.printed == 0 {
		fmt.Fprintln(c.out, "No activation matches.")
		return nil
	}
	t.flush()
	if next != "" {
		fmt.Fprintf(c.errOut, "More: add -after %s (or -all).\n", next)
	}
	return nil
}

func (c *cli) show(ctx context.Context, _ *flag.FlagSet, args []string) error {
	ref, err := oneRef(args)
	if err != nil {
		return err
	}
	b, err := c.open(ctx)
	if err != nil {
		return err
	}
	a, err := b.Find(ctx, ref)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(a)
	}
	c.describe(a)
	return nil
}

func (c *cli) log(ctx context.Context, _ *flag.FlagSet, args []string) error {
	ref, err := oneRef(args)
	if err != nil {
		return err
	}
	b, err := c.open(ctx)
	if err != nil {
		return err
	}
	a, err := b.Find(ctx, ref)
	if err != nil {
		return err
	}
	entries, err := b.Log(ctx, a.ID)
	if err != nil {
		return err
	}
	if c.json {
		if entries == nil {
			entries = []runtime.LogEntry{}
		}
		return c.printJSON(map[string]any{"activation": a, "entries": entries})
	}
	fmt.Fprintf(c.out, "%s %s (%s)\n", a.Flow, a.ID, a.State)
	if len(entries) == 0 {
		if a.State == runtime.StateDone {
			fmt.Fprintln(c.out, "Its log was deleted when it finished.")
		} else {
			fmt.Fprintln(c.out, "No entry yet.")
		}
		return nil
	}
	failed := int64(-2)
	if a.Failure != nil {
		failed = a.Failure.Step
	}
	t := c.table("STEP", "KIND", "WRITTEN", "BUILD", "WHAT")
	for _, e := range entries {
		step := strconv.FormatInt(e.Step, 10)
		if e.Step == failed {
			step = "▶" + step
		}
		t.row(step, e.Kind, stampFine(e.At), e.Build, e.Text)
	}
	t.flush()
	if a.Failure != nil {
		fmt.Fprintf(c.out, "\n%s\n", a.Failure.Error())
	}
	return nil
}

// listed runs a command that takes no arguments and lists activations:
// what fetch answers is printed as JSON, or handed back (with people true)
// to be printed for people.
func (c *cli) listed(ctx context.Context, args []string, fetch func(backend) ([]runtime.ActivationInfo, error)) (list []runtime.ActivationInfo, people bool, err error) {
	if err := noArgs(args); err != nil {
		return nil, false, err
	}
	b, err := c.open(ctx)
	if err != nil {
		return nil, false, err
	}
	if list, err = fetch(b); err != nil {
		return nil, false, err
	}
	if c.json {
		if list == nil {
			list = []runtime.ActivationInfo{}
		}
		return nil, false, c.printJSON(map[string]any{"activations": list})
	}
	return list, true, nil
}

func (c *cli) failures(ctx context.Context, _ *flag.FlagSet, args []string) error {
	list, people, err := c.listed(ctx, args, func(b backend) ([]runtime.ActivationInfo, error) { return b.Failures(ctx) })
	if err != nil || !people {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(c.out, "No failed activation.")
		return nil
	}
	for i, a := range list {
		if i > 0 {
			fmt.Fprintln(c.out)
		}
		key := ""
		if a.StartKey != "" {
			key = " (" + a.StartKey + ")"
		}
		fmt.Fprintf(c.out, "%s%s, failed since %s\n", a.ID, key, stamp(a.StateSince))
		if a.Failure != nil {
			fmt.Fprintln(c.out, a.Failure.Error())
		}
	}
	fmt.Fprintf(c.errOut, "%d failed.\n", len(list))
	return nil
}

func (c *cli) unregistered(ctx context.Context, _ *flag.FlagSet, args []string) error {
	list, people, err := c.listed(ctx, args, func(b backend) ([]runtime.ActivationInfo, error) { return b.Unregistered(ctx) })
	if err != nil || !people {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(c.out, "Every unfinished activation's flow is registered.")
		return nil
	}
	byFlow := map[string]int{}
	var flows []string
	t := c.table("ACTIVATION", "FLOW", "START KEY", "STATE", "CREATED", "STARTED BY")
	for _, a := range list {
		if byFlow[a.Flow] == 0 {
			flows = append(flows, a.Flow)
		}
		byFlow[a.Flow]++
		t.row(a.ID.String(), a.Flow, a.StartKey, string(a.State), stamp(a.Created), a.CreatedBuild)
	}
	t.flush()
	for _, f := range flows {
		fmt.Fprintf(c.errOut, "%s: %d activations, not registered in the running build\n", f, byFlow[f])
	}
	return nil
}

// operation is retry, wake, cancel or terminate: on the activation REF names.
func operation(op string) func(c *cli, ctx context.Context, fs *flag.FlagSet, args []string) error {
	return func(c *cli, ctx context.Context, fs *flag.FlagSet, args []string) error {
		ref, err := oneRef(args)
		if err != nil {
			return err
		}
		b, err := c.open(ctx)
		if err != nil {
			return err
		}
		a, err := b.Find(ctx, ref)
		if err != nil {
			return err
		}
		switch op {
		case "retry":
			err = b.Retry(ctx, a.ID)
		case "wake":
			err = b.Wake(ctx, a.ID)
		case "cancel":
			err = b.RequestCancel(ctx, a.ID, str(fs, "reason"))
		case "terminate":
			err = b.Terminate(ctx, a.ID)
		}
		if err != nil {
			return err
		}
		after, err := b.Find(ctx, a.ID.String())
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(after)
		}
		past := map[string]string{"retry": "Retried", "wake": "Woke", "cancel": "Requested cancellation of", "terminate": "Terminated"}[op]
		fmt.Fprintf(c.out, "%s %s %s: now %s.\n", past, after.Flow, after.ID, after.State)
		return nil
	}
}

func (c *cli) purge(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	beforeS, olderS := str(fs, "before"), str(fs, "older-than")
	var before time.Time
	switch {
	case beforeS != "" && olderS != "":
		return usagef("give -before or -older-than, not both")
	case beforeS != "":
		t, err := c.when("before", beforeS)
		if err != nil {
			return err
		}
		before = t
	case olderS != "":
		d, err := duration(olderS)
		if err != nil {
			return usagef("-older-than %q: want a duration (720h, 30d)", olderS)
		}
		before = c.now.Add(-d)
	default:
		return usagef("purge needs -before TIME or -older-than DURATION")
	}
	b, err := c.open(ctx)
	if err != nil {
		return err
	}
	n, err := b.Purge(ctx, before, func(n int) {
		c.progress("purge: %d purged so far…", n)
	})
	if err != nil {
		return fmt.Errorf("%w (%d purged before it)", err, n)
	}
	if c.json {
		return c.printJSON(map[string]any{"purged": n, "before": before})
	}
	fmt.Fprintf(c.out, "Purged %d activations finished before %s.\n", n, stamp(before))
	return nil
}
