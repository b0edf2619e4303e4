package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// census counts the unfinished activations of st by flow and state: in one
// read if the store is a store.Censuser, otherwise page by page.
func census(ctx context.Context, st store.Store) ([]store.FlowCount, error) {
	if c, ok := st.(store.Censuser); ok {
		return c.Census(ctx)
	}
	counts := map[store.FlowCount]int{}
	for _, state := range []store.State{store.Running, store.Suspended, store.Failed} {
		f := store.Filter{State: state, Limit: store.DefaultLimit}
		for {
			page, err := st.Activations(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, a := range page {
				counts[store.FlowCount{Flow: a.Flow, State: state}]++
			}
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].Position()
		}
	}
	out := make([]store.FlowCount, 0, len(counts))
	for k, n := range counts {
		k.Count = n
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Flow != out[j].Flow {
			return out[i].Flow < out[j].Flow
		}
		return out[i].State < out[j].State
	})
	return out, nil
}

// Summary is what a runtime found at Start: the unfinished activations of
// its store, by what Start did with them.
type Summary struct {
	Revived int // running when the last incarnation stopped: replayed now
	Retried int // failed: replayed now, in case this build fixes them
	// Suspended are those waiting for a vow or a timer, left in the store
	// until it settles (counted just after Start, so those revived and
	// suspended again since may be among them).
	Suspended int
	// Unregistered counts, by flow name, the unfinished activations of
	// flows this incarnation does not register: left untouched. A renamed
	// flow function is the usual cause; see the flowgen:flow name directive.
	Unregistered map[string]int
}

// Summary returns what Start found, once it has been counted: Start counts
// the suspended and unregistered activations after it returns, so that
// starting does not grow with them, and logs the summary when it has.
func (rt *Runtime) Summary(ctx context.Context) (Summary, error) {
	select {
	case <-rt.summaryDone:
	case <-ctx.Done():
		return Summary{}, ctx.Err()
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	s := rt.summary
	s.Unregistered = make(map[string]int, len(rt.summary.Unregistered))
	for k, v := range rt.summary.Unregistered {
		s.Unregistered[k] = v
	}
	return s, rt.summaryErr
}

// summarize counts what Start found and logs it, once: a warning naming
// each unregistered flow if there are any. revived and retried are what
// Start revived.
func (rt *Runtime) summarize(revived, retried int) {
	defer rt.loops.Done()
	defer close(rt.summaryDone)
	counts, err := census(rt.hostCtx, rt.st)
	if err != nil {
		rt.mu.Lock()
		rt.summaryErr = fmt.Errorf("runtime: start summary: %w", err)
		rt.mu.Unlock()
		if rt.hostCtx.Err() == nil {
			rt.log.Error("asyncflow: cannot count the unfinished activations", "err", err)
		}
		return
	}
	s := Summary{Revived: revived, Retried: retried, Unregistered: map[string]int{}}
	for _, c := range counts {
		if _, ok := rt.flowNamed(c.Flow); !ok {
			s.Unregistered[c.Flow] += c.Count
			continue
		}
		if c.State == store.Suspended {
			s.Suspended += c.Count
		}
	}
	rt.mu.Lock()
	rt.summary = s
	rt.mu.Unlock()
	attrs := []any{"generation", rt.gen, "build", rt.build, "revived", s.Revived, "retried", s.Retried, "suspended", s.Suspended}
	if len(s.Unregistered) == 0 {
		rt.log.Info("asyncflow: started", attrs...)
		return
	}
	names := make([]string, 0, len(s.Unregistered))
	total := 0
	for name, n := range s.Unregistered {
		names = append(names, name)
		total += n
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	group := make([]any, 0, len(names))
	for i, name := range names {
		parts[i] = name + " (" + strconv.Itoa(s.Unregistered[name]) + ")"
		group = append(group, slog.Int(name, s.Unregistered[name]))
	}
	attrs = append(attrs, "unregistered", total, slog.Group("unregistered_flows", group...))
	rt.log.Warn(fmt.Sprintf("asyncflow: started; %d unfinished activations of flows this incarnation does not register are left untouched: %s "+
		"(register them, in every incarnation; a flow renamed keeps its activations with //flowgen:flow name=<old durable name>)",
		total, strings.Join(parts, ", ")), attrs...)
}
