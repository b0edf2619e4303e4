package flowimpl

import (
	"fmt"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// Continuation is the error a flow returns to continue as new: the
// activation ends its current run and carries on as a fresh run of the flow
// with new arguments, keeping its id, start key and outcome vow. Generated
// Continue…AsNew functions make one; the runtime reads it in a flow's
// returned error (errors.As).
type Continuation struct {
	flow string
	args []byte
}

// Flow returns the durable name of the flow the next run runs.
func (c *Continuation) Flow() string { return c.flow }

// Args returns the encoded argument tuple of the next run.
func (c *Continuation) Args() []byte { return c.args }

func (c *Continuation) Error() string {
	return "flow " + c.flow + " continues as new with " + codec.FormatTuple(c.args)
}

// ContinueAsNew returns the Continuation of the running flow, whose durable
// name is flowName, with the encoded argument tuple of its next run. It
// panics outside a flow, and if args failed to encode: a value a flow
// cannot pass on is a mistake in the flow (see the package documentation).
func ContinueAsNew(fc flow.Context, flowName string, args *codec.Encoder) error {
	mustGuest(fc)
	if err := args.Err(); err != nil {
		panic(fmt.Errorf("%s: continue as new: the arguments do not encode: %w", flowName, err))
	}
	return &Continuation{flow: flowName, args: args.Bytes()}
}
