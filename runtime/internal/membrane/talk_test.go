package membrane

import (
	"time"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

func receiveEntry(mailbox string, vow flow.VowID) *entry {
	var e codec.Encoder
	e.PutList(2)
	e.PutString(mailbox)
	e.PutVow(vow)
	return &entry{kind: KindMarker, marker: markerReceive, data: e.Bytes()}
}

func statusEntry(t *testing.T, name string, v any) *entry {
	var e codec.Encoder
	e.PutList(2)
	e.PutString(name)
	e.Value(codec.Raw(value(t, v)))
	return &entry{kind: KindMarker, marker: markerStatus, data: e.Bytes()}
}

func childEntry(name string, args []byte, id flow.ActivationID, outcome flow.VowID) *entry {
	return &entry{kind: KindChild, flow: name, args: args, child: id, vow: outcome}
}

// talker publishes a status, receives two messages of one mailbox, the
// first after asking twice, and starts a child with what they said.
func talker(t *testing.T) script {
	return func(g *Membrane) ([]byte, error) {
		g.SetStatus("stage", value(t, "waiting"))
		first := g.Receive("approve")
		if again := g.Receive("approve"); again != first {
			panic("a receiver not yet observed is handed out again")
		}
		a, err := await(g, flow.AwaitKey{Vow: first})
		if err != nil {
			return nil, err
		}
		b, err := await(g, flow.AwaitKey{Vow: g.Receive("approve")})
		if err != nil {
			return nil, err
		}
		id, outcome := g.StartChild("test.Child", tuple(t, codec.Raw(a), codec.Raw(b)))
		g.SetStatus("stage", value(t, "started"))
		return codec.MarshalTuple(id[:], outcome)
	}
}

func TestMailboxesStatusesAndChildrenAreLoggedAndReplayed(t *testing.T) {
	h := newHost()
	h.mailboxes["approve"] = [][]byte{value(t, "yes"), value(t, "and yes")}
	g := start(h, nil, talker(t))
	g.wait(t)
	require.True(t, g.returned, "the guest returned")
	require.NoError(t, g.err)
	_, log, failed := h.snapshot()
	require.Empty(t, failed)

	var texts []string
	for _, e := range log {
		texts = append(texts, Describe(e))
	}
	r1, r2 := h.with[1].Receiver, h.with[3].Receiver
	require.NotNil(t, r1)
	require.NotNil(t, r2)
	assert.NotEqual(t, r1.Vow, r2.Vow, "a new receiver once the first is observed")
	assert.Equal(t, "approve", r1.Mailbox)
	c := h.with[5].Child
	require.NotNil(t, c)
	assert.Equal(t, ChildID(testActivation, 0, 5), c.ID, "the child's id comes from the parent's id and step")
	assert.NotEqual(t, c.ID, ChildID(testActivation, 1, 5), "and run: a run that continued as new starts children of its own")
	assert.Equal(t, ChildOutcome(c.ID), c.Outcome)
	assert.Equal(t, "test.Child", c.Flow)
	assert.Equal(t, `"yes", "and yes"`, codec.FormatTuple(c.Args))
	require.NotNil(t, h.with[0].Status)
	assert.Equal(t, "stage", h.with[0].Status.Name)
	assert.Equal(t, value(t, "waiting"), h.with[0].Status.Value)
	assert.Equal(t, []string{
		`flow.Status("stage").Set("waiting")`,
		`flow.Signal("approve").Next() = vow:` + r1.Vow.String(),
		"vow:" + r1.Vow.String() + ` settled → "yes"`,
		`flow.Signal("approve").Next() = vow:` + r2.Vow.String(),
		"vow:" + r2.Vow.String() + ` settled → "and yes"`,
		`child test.Child("yes", "and yes") = activation ` + c.ID.String() + ", outcome vow:" + c.Outcome.String(),
		`flow.Status("stage").Set("started")`,
	}, texts)

	// Replaying makes no receiver, publishes nothing and starts no child:
	// the log hands back the same vows and ids.
	again := newHost()
	again.methods = nil
	rg := start(again, log, talker(t))
	rg.wait(t)
	require.True(t, rg.returned)
	assert.Equal(t, g.result, rg.result)
	_, appended, failed := again.snapshot()
	assert.Empty(t, appended)
	assert.Empty(t, failed)
}

func TestAReplayMayPublishAnotherValue(t *testing.T) {
	log := logOf(statusEntry(t, "stage", "old wording"), nowEntry(t, time.Unix(1_800_000_000, 0)))
	h := newHost()
	g := start(h, log, func(g *Membrane) ([]byte, error) {
		g.SetStatus("stage", value(t, "new wording"))
		g.Now()
		return nil, nil
	})
	g.wait(t)
	require.True(t, g.returned, "a flow never reads what it published: another value replays")
	_, appended, failed := h.snapshot()
	assert.Empty(t, appended, "and writes nothing")
	assert.Empty(t, failed)
}

func TestTalkProblems(t *testing.T) {
	child := flow.ActivationID{7}
	cases := []struct {
		name    string
		log     []Entry
		script  script
		problem diag.Problem
		got     string
	}{
		{"a receiver of another mailbox",
			logOf(receiveEntry("approve", flow.VowID{4})),
			func(g *Membrane) ([]byte, error) { g.Receive("reject"); return nil, nil },
			diag.OtherStep, `flow.Signal("reject").Next()`},
		{"a status of another name",
			logOf(statusEntry(t, "stage", "x")),
			func(g *Membrane) ([]byte, error) { g.SetStatus("phase", value(t, "x")); return nil, nil },
			diag.OtherStep, `flow.Status("phase").Set("x")`},
		{"a receiver where a status is logged",
			logOf(statusEntry(t, "stage", "x")),
			func(g *Membrane) ([]byte, error) { g.Receive("approve"); return nil, nil },
			diag.OtherStep, `flow.Signal("approve").Next()`},
		{"a child of another flow",
			logOf(childEntry("test.Child", tuple(t, 1), child, ChildOutcome(child))),
			func(g *Membrane) ([]byte, error) { g.StartChild("test.Other", tuple(t, 1)); return nil, nil },
			diag.OtherCall, "child test.Other(1)"},
		{"a child with other arguments",
			logOf(childEntry("test.Child", tuple(t, 1), child, ChildOutcome(child))),
			func(g *Membrane) ([]byte, error) { g.StartChild("test.Child", tuple(t, 2)); return nil, nil },
			diag.OtherArguments, "child test.Child(2)"},
		{"a host call where a child is logged",
			logOf(childEntry("test.Child", tuple(t, 1), child, ChildOutcome(child))),
			func(g *Membrane) ([]byte, error) { return call(g, host, "Echo", tuple(t, 1)), nil },
			diag.OtherCall, `call service("host").Echo(1)`},
		{"a child where a marker is logged",
			logOf(nowEntry(t, time.Unix(1_800_000_000, 0))),
			func(g *Membrane) ([]byte, error) { g.StartChild("test.Child", tuple(t, 1)); return nil, nil },
			diag.ExtraCall, "child test.Child(1)"},
		{"a marker where a child is logged",
			logOf(childEntry("test.Child", tuple(t, 1), child, ChildOutcome(child))),
			func(g *Membrane) ([]byte, error) { g.Receive("approve"); return nil, nil },
			diag.StoppedShort, `flow.Signal("approve").Next()`},
		{"a receiver marker that does not decode",
			logOf(&entry{kind: KindMarker, marker: markerReceive, data: value(t, "approve")}),
			func(g *Membrane) ([]byte, error) { g.Receive("approve"); return nil, nil },
			diag.CorruptLog, `flow.Signal("approve").Next()`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHost()
			g := start(h, c.log, c.script)
			g.wait(t)
			_, appended, failed := h.snapshot()
			require.Len(t, failed, 1)
			assert.Equal(t, c.problem, failed[0].Problem)
			assert.Equal(t, c.got, failed[0].Got)
			assert.Equal(t, int64(0), failed[0].Step)
			assert.Empty(t, appended)
			assert.False(t, g.returned)
		})
	}
}

func TestARaceTakesNoMessage(t *testing.T) {
	h := newHost()
	h.mailboxes["approve"] = [][]byte{value(t, "first"), value(t, "second")}
	other := flow.VowID{6}
	h.vows[other] = nil
	g := start(h, nil, func(g *Membrane) ([]byte, error) {
		next := g.Receive("approve")
		if won := g.Await([]flow.AwaitKey{{Vow: other}, {Vow: next}}, true); won != 1 {
			panic("the waiting message wins")
		}
		if err := g.Rejection(flow.AwaitKey{Vow: next}); err != nil {
			return nil, err
		}
		if g.Receive("approve") != next {
			panic("a message the flow has not read is still the next")
		}
		a, _ := await(g, flow.AwaitKey{Vow: next})
		b, _ := await(g, flow.AwaitKey{Vow: g.Receive("approve")})
		return codec.MarshalTuple(codec.Raw(a), codec.Raw(b))
	})
	g.wait(t)
	require.True(t, g.returned)
	assert.Equal(t, `"first", "second"`, codec.FormatTuple(g.result))
	assert.Equal(t, "child", KindChild.String())
}
