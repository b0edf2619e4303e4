// Package membrane is the replay engine: the layer between a guest (a flow
// while it runs) and its host. Live, it performs each crossing and records it
// in the activation's log; replaying, it answers each crossing from the log
// and checks that the guest asks the same things in the same order. When the
// log runs out it goes live.
//
// It knows nothing of stores. The runtime hands it the log as [Entry] values
// and, through [Host], takes the entries it appends, the timers they bring
// and the vows it watches, and translates them into store operations.
//
// A Membrane serves one run of one activation and is used from the guest's
// goroutine only, except for [Membrane.Stop], [Membrane.Deliver],
// [Membrane.RequestEvict] and the read-only progress accessors. When the
// guest diverges from its log the membrane records a diag.Diagnostic through
// its Host and is revoked: from then on every crossing, from deferred
// functions too, ends the guest goroutine with runtime.Goexit, which recover
// cannot stop, and nothing more is performed, appended or settled.
//
// The files follow the crossings: this one holds the engine's core and its
// log cursor; calls.go host calls and futures; awaits.go awaiting vows and
// futures; markers.go flow.Now, flow.After, flow.Patched, flow.Random and
// flow.UUID; signals.go mailboxes (Signal.Next) and publications
// (Status.Set); children.go child activations; failure.go replay failures
// and diagnostics; inbox.go the events that reach a parked guest; finish.go
// how a run ends; entry.go the log's encoding.
package membrane
