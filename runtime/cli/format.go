package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/asyncflow-go/asyncflow/runtime"
)

// table writes aligned columns, a batch of rows at a time.
type table struct {
	c       *cli
	head    []string
	tw      *tabwriter.Writer
	rows    int // in the batch not yet flushed
	printed int
}

func (c *cli) table(head ...string) *table {
	return &table{c: c, head: head}
}

func (t *table) row(cells ...string) {
	if t.c.json {
		return
	}
	if t.tw == nil {
		t.tw = tabwriter.NewWriter(t.c.out, 2, 4, 2, ' ', 0)
		if t.printed == 0 {
			fmt.Fprintln(t.tw, strings.Join(t.head, "\t"))
		}
	}
	for i, s := range cells {
		if s == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
	t.rows++
}

func (t *table) flush() {
	if t.tw != nil {
		t.tw.Flush()
		t.tw = nil
	}
	t.printed += t.rows
	t.rows = 0
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func stampFine(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

// describe writes one activation for a person.
func (c *cli) describe(a runtime.ActivationInfo) {
	tw := tabwriter.NewWriter(c.out, 2, 4, 2, ' ', 0)
	line := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	line("activation", "%s", a.ID)
	line("flow", "%s", a.Flow)
	if a.StartKey != "" {
		line("start key", "%s", a.StartKey)
	}
	line("state", "%s since %s", a.State, stamp(a.StateSince))
	line("outcome", "vow:%s", a.Outcome)
	line("created", "%s by incarnation %d, build %s", stamp(a.Created), a.CreatedGen, orDash(a.CreatedBuild))
	line("last written", "%s by incarnation %d, build %s", stamp(a.Changed), a.LastGen, orDash(a.LastBuild))
	if !a.Finished.IsZero() {
		line("finished", "%s", stamp(a.Finished))
	}
	if a.Live() {
		reg := "yes"
		if !a.Registered {
			reg = "no: the running build does not register its flow, and leaves it untouched"
		}
		line("registered", "%s", reg)
		line("resident", "%s", yesNo(a.Resident))
	}
	if len(a.Waits) > 0 {
		var ws []string
		for _, w := range a.Waits {
			ws = append(ws, "vow:"+w.String())
		}
		line("waits for", "%s", strings.Join(ws, ", "))
	}
	if !a.Parent.IsZero() {
		line("parent", "%s", a.Parent)
	}
	if len(a.Children) > 0 {
		var cs []string
		for _, c := range a.Children {
			cs = append(cs, c.String())
		}
		line("children", "%s", strings.Join(cs, ", "))
	}
	for _, st := range a.Statuses {
		line("status "+st.Name, "%s", st.Text)
	}
	for _, m := range a.Mailbox {
		key := ""
		if m.Key != "" {
			key = " (key " + strconv.Quote(m.Key) + ")"
		}
		line("mailbox "+m.Signal, "#%d %s%s", m.Seq, m.Text, key)
	}
	tw.Flush()
	if a.Failure != nil {
		fmt.Fprintf(c.out, "\n%s\n", a.Failure.Error())
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
