package membrane

// How a run ends. A run that returns has its outcome settled by the
// runtime; before that, the calls it issued and never awaited are made.

// settleCalls waits until every future the run issued has come back, so that
// no issued call is lost when the run ends: at least once holds for futures
// a flow never awaits, as for the others. Futures issued during replay whose
// outcome the log does not hold have been issued again by goLive, with their
// keys. Their outcomes are not logged — the guest never observes them, so a
// replay that reaches the same return at the end of the log issues them
// again, and a replay that reaches it earlier in the log is not disturbed by
// entries the guest never asked for. A host panic or an unavailable target
// fails the activation, as for a future the guest awaits; a call cut short
// by shutdown abandons the run, and the next incarnation makes it again.
func (m *Membrane) settleCalls() {
	for m.inflight() {
		ev := m.wait()
		if ev.kind != evVow { // of no interest to a run that has returned
			m.other(&ev) // a run with calls in flight is not evicted
		}
	}
}
