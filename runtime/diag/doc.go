// Package diag is the diagnostic of a stuck activation: what the runtime
// records when an activation fails, and what Admin().Failures() returns.
// Programs compare its [Problem] with the kinds declared here:
//
//	for _, f := range failures {
//		if f.Failure.Problem == diag.OtherCall { … }
//	}
//
// It is a package of its own so that the replay engine, which finds the
// problems, and the runtime, which reports them, share one documented type.
package diag
