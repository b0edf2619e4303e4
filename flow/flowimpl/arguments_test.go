package flowimpl_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
)

// oneFlow is a Registry that keeps the one flow registered with it.
type oneFlow struct{ def flowimpl.FlowDef }

func (r *oneFlow) RegisterFlow(def flowimpl.FlowDef) flowimpl.Starter { r.def = def; return nil }
func (r *oneFlow) ProvideService(string, any, flowimpl.Dispatcher)    {}
func (r *oneFlow) ProvideResolver(string, flowimpl.Resolver, flowimpl.Dispatcher) {
}

// badArgs is a recorder that also takes BadArguments, as the membrane does.
type badArgs struct {
	recorder
	bad []string
}

func (g *badArgs) BadArguments(reason string) { g.bad = append(g.bad, reason) }

type order struct {
	ID    string
	Cents int64
}

// shipV2 is a flow that gained two trailing parameters since its
// activations were stored: a string and a struct.
func shipV2(r flowimpl.Registry, got *[]any) {
	flowimpl.Register(r, "shop.Ship", func(fc flow.Context, args flowimpl.Arguments) ([]byte, error) {
		d := args.Decoder(fc, 4, "id", "n", "note", "o")
		id := d.ReadString()
		n := d.ReadInt(64)
		note := d.ReadString()
		var o order
		d.Value(&o)
		args.Decoded(fc, d)
		*got = append(*got, id, n, note, o)
		return nil, nil
	})
}

func run(t *testing.T, register func(flowimpl.Registry, *[]any), stored []byte) (*badArgs, []any) {
	t.Helper()
	var got []any
	r := &oneFlow{}
	register(r, &got)
	g := &badArgs{}
	_, err := r.def.Run(flowimpl.NewContext(g), stored)
	require.NoError(t, err)
	return g, got
}

func TestArgumentsOfAnOlderArityGetZeroValues(t *testing.T) {
	old, err := codec.MarshalTuple("o-1", 3)
	require.NoError(t, err)
	g, got := run(t, shipV2, old)
	assert.Empty(t, g.bad)
	assert.Empty(t, g.reasons)
	assert.Equal(t, []any{"o-1", int64(3), "", order{}}, got)

	same, err := codec.MarshalTuple("o-2", 4, "fragile", order{ID: "o-2", Cents: 5})
	require.NoError(t, err)
	g, got = run(t, shipV2, same)
	assert.Empty(t, g.bad)
	assert.Equal(t, []any{"o-2", int64(4), "fragile", order{ID: "o-2", Cents: 5}}, got)
}

func TestArgumentsThatNoLongerFitNameTheParameter(t *testing.T) {
	// The second parameter was a string.
	stored, err := codec.MarshalTuple("o-1", "three")
	require.NoError(t, err)
	g, _ := run(t, shipV2, stored)
	require.NotEmpty(t, g.bad)
	assert.Contains(t, g.bad[0], `shop.Ship: parameter 2 of 4 (n) no longer fits its stored value "three": codec: cannot decode string into integer`)

	// The fourth was a list.
	stored, err = codec.MarshalTuple("o-1", 3, "x", []string{"a"})
	require.NoError(t, err)
	g, _ = run(t, shipV2, stored)
	require.NotEmpty(t, g.bad)
	assert.Contains(t, g.bad[0], `shop.Ship: parameter 4 of 4 (o) no longer fits its stored value ["a"]`)

	// A parameter was removed.
	stored, err = codec.MarshalTuple("o-1", 3, "x", order{}, true)
	require.NoError(t, err)
	g, _ = run(t, shipV2, stored)
	require.NotEmpty(t, g.bad)
	assert.Equal(t, "shop.Ship: the stored arguments are 5 values, the flow takes 4: parameter 5, stored as true, was removed", g.bad[0])

	// Not a tuple at all.
	g, _ = run(t, shipV2, []byte{0xff})
	require.NotEmpty(t, g.bad)
	assert.Contains(t, g.bad[0], "shop.Ship: the stored arguments do not decode: codec: malformed encoding")
}

func TestArgumentsFallBackToDiverge(t *testing.T) {
	// A guest without BadArguments still ends the flow, through Diverge.
	var got []any
	r := &oneFlow{}
	shipV2(r, &got)
	g := &recorder{}
	stored, err := codec.MarshalTuple(1)
	require.NoError(t, err)
	_, err = r.def.Run(flowimpl.NewContext(g), stored)
	require.NoError(t, err)
	require.NotEmpty(t, g.reasons)
	assert.Contains(t, g.reasons[0], "parameter 1 of 4")
}
