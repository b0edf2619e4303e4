package runtime

import (
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/internal/membrane"
)

// Patch decisions: when a replay fails after flow.Patched answered false for
// want of a marker, the log may still be reproduced with the patch taken as
// true — an activation that ran the new path under a build without the
// patch. Replay calls no host, so the runtime tries: dry replays, bounded by
// membrane.MaxTrials. If one reproduces the log, the run starts again with
// those decisions and records them when it goes live; otherwise the failure
// is recorded with what was tried.

// resolvePatches is called with the diagnostic of a failed run, on its
// goroutine. It reports true if decisions were found: the failure is then
// not recorded, and the run is started again when it leaves.
func (a *activation) resolvePatches(d *diag.Diagnostic) bool {
	open := a.m.Open()
	if len(open) == 0 || a.searched {
		return false
	}
	a.searched = true
	a.searching.Store(true)
	defer a.searching.Store(false)
	c := membrane.Config{Activation: a.id, Flow: a.fd.name, Run: a.runNo, Log: a.m.Log(), Decided: a.decided}
	first := &membrane.Trial{Failure: d, Open: open}
	found, trials := membrane.Search(c, a, a.runFlow, a.rt.opts.ReplayStall, first)
	if found == nil {
		membrane.Explain(d, trials)
		return false
	}
	a.rt.log.Info("asyncflow: replay decided flow.Patched where the log has no marker", "activation", a.id, "flow", a.fd.name,
		"patches", found.Decided, "replays", len(trials))
	a.restart = found.Decided
	return true
}

// runFlow runs the activation's flow on its stored arguments.
func (a *activation) runFlow(fc flow.Context) ([]byte, error) { return a.fd.def.Run(fc, a.args) }

// relaunch starts the run again with the decisions resolvePatches found,
// when the failed run's goroutine leaves. It reports false if there is
// nothing to start again, or the activation is stopped.
func (a *activation) relaunch() bool {
	decided := a.restart
	if decided == nil {
		return false
	}
	a.restart, a.decided = nil, decided
	return a.rerun(membrane.New(membrane.Config{Activation: a.id, Flow: a.fd.name, Run: a.runNo, Log: a.m.Log(), Decided: decided, Host: a}))
}
