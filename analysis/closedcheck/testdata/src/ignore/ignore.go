package ignore // want package:"analysed"

import (
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Metrics(fc flow.Context) int64 {
	start := time.Now() //closedcheck:ignore measures this step for a log line only
	//closedcheck:ignore a local timing loop, not used in decisions
	for i := 0; i < 3; i++ {
		_ = time.Now()
		_ = time.Since(start)
	}
	return timing()
}

// timing is trusted as a whole.
//
//closedcheck:ignore reads the clock for metrics only
func timing() int64 { return time.Now().Unix() }

//flowgen:flow
func NoReason(fc flow.Context) int64 { // want `flow NoReason is not closed` NoReason:`open: ignore\.NoReason → time\.Now`
	//closedcheck:ignore // want `//closedcheck:ignore needs a reason`
	return time.Now().Unix() // want `time.Now`
}

//flowgen:flow
func NextLineOnly(fc flow.Context) int64 { // want `flow NextLineOnly is not closed` NextLineOnly:`open: ignore\.NextLineOnly → time\.Now`
	//closedcheck:ignore the first read is fine
	a := time.Now().Unix()
	b := time.Now().Unix() // want `time.Now`
	return a + b
}

//
//closedcheck:ignore this whole flow is reviewed and closed by construction
//flowgen:flow
func Trusted(fc flow.Context) int64 {
	return time.Now().Unix()
}
