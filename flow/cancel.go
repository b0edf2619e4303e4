package flow

// Cancellation returns the vow of the running activation's cancellation:
// it is fulfilled, with the reason given, once a host or an operator
// requests that the activation cancel (runtime's Admin.RequestCancel), and
// stays so, in this run and in later ones (continue-as-new). A flow that can
// be cancelled races it against its work and, when it wins, undoes what it
// did — calling hosts as usual, with their retry policies — and returns
// what it likes, which is its outcome:
//
//	cancel := flow.Cancellation(fc)
//	pickup, err := shipping.Book(fc, order)
//	...
//	if flow.Race(fc, pickup, cancel) == 1 {
//		reason, _ := flow.Await(fc, cancel)
//		return undo(fc, fmt.Errorf("order %s: %w: %s", order, flow.ErrCancelled, reason))
//	}
//
// A flow that never awaits it is not cancelled: the request only tells the
// flow. A request for an activation is one for its unfinished children too,
// whose flows hear it through their own Cancellation: a parent that
// cancels can await what each child made of it. To give an activation up without its cooperation, an operator
// terminates it (Admin.Terminate), which runs nothing more. Asking for the
// vow is not logged — it is the same vow every time — and awaiting it is
// logged like any vow's settlement, so it replays.
func Cancellation(fc Context) Vow[string] { return Vow[string]{id: guestOf(fc).Cancellation()} }
