package membrane

import "github.com/asyncflow-go/asyncflow/flow"

// CallOf returns the host call an entry records — a call, or a call issued
// as a future — for the runtime's telemetry of replayed calls; ok is false
// for an entry that records no host call, or does not decode.
func CallOf(e Entry) (target flow.Ref, method string, ok bool) {
	if e.Kind != KindCall && e.Kind != KindIssue {
		return flow.Ref{}, "", false
	}
	en, err := decodeEntry(e)
	if err != nil {
		return flow.Ref{}, "", false
	}
	return en.target, en.method, true
}
