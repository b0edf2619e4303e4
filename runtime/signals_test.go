package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/flowimpl"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
)

// collector receives notes until one says "end", after asking the host a
// question first, so messages sent early wait in its mailbox.
func collector(fc flow.Context, h testkit.Teller, a string) (string, error) {
	notes := flowimpl.Signal[string]("note")
	v, err := h.Ask(fc, "go?")
	if err != nil {
		return "", err
	}
	if _, err := flow.Await(fc, v); err != nil {
		return "", err
	}
	var got []string
	for {
		n, err := notes.Receive(fc)
		if err != nil {
			return "", err
		}
		if n == "end" {
			return strings.Join(got, ","), nil
		}
		got = append(got, n)
	}
}

func TestSignalsArriveInOrderOnceEach(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, collector)
	ctx := t.Context()
	v, err := e.h.StartWithID(ctx, "order-1", testkit.TellerRef("host"), "")
	require.NoError(t, err)
	id := e.only().ID
	byKey := flowimpl.Recipient{Key: "order-1"}

	// Sent before the flow asks: they wait in its mailbox.
	require.NoError(t, e.h.Send(ctx, byKey, "note", "", "a"))
	require.NoError(t, runtime.Send(ctx, e.rt, id, "note", "", "b"))
	require.NoError(t, e.h.Send(ctx, byKey, "note", "hook-1", "c"))
	require.NoError(t, e.h.Send(ctx, byKey, "note", "hook-1", "c"), "a key is taken once")
	err = e.h.Send(ctx, byKey, "note", "hook-1", "changed")
	assert.ErrorIs(t, err, runtime.ErrSendConflict)
	info, err := e.rt.Admin().Get(ctx, id)
	require.NoError(t, err)
	require.Len(t, info.Mailbox, 3, "Admin shows what waits")
	assert.Equal(t, runtime.Message{Seq: 3, Signal: "note", Key: "hook-1", Text: `"c"`, Gen: e.rt.Generation()}, info.Mailbox[2])

	e.ask("go?", "yes")
	waiting := e.waitState(id, runtime.StateSuspended) // waiting for the fourth
	require.Len(t, waiting.Waits, 1)
	err = runtime.Resolve(ctx, e.rt, flow.VowOf[string](waiting.Waits[0]), "forged")
	assert.ErrorIs(t, err, runtime.ErrRuntimeVow, "only a message settles a receiver")
	assert.ErrorContains(t, err, "a receiver in a flow's mailbox")
	require.NoError(t, e.h.Send(ctx, flowimpl.Recipient{ID: id}, "note", "", "d"), "a waiting receiver takes it at once")
	require.NoError(t, e.h.Send(ctx, byKey, "note", "", "end"))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "a,b,c,d", got)

	err = e.h.Send(ctx, byKey, "note", "", "late")
	assert.ErrorIs(t, err, runtime.ErrFinished, "a finished activation refuses sends")
	assert.ErrorContains(t, err, "runtime: send note to "+id.String()+": activation already finished")
	err = e.h.Send(ctx, flowimpl.Recipient{Key: "no-such-order"}, "note", "", "x")
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation)
	e.close()

	rt, err := runtime.Open(ctx, e.path, runtime.Options{Build: "sender"})
	require.NoError(t, err)
	defer rt.Close(ctx)
	other := testkit.Register(rt, "test.Other", collector)
	err = other.Send(ctx, flowimpl.Recipient{ID: id}, "note", "", "x")
	assert.ErrorIs(t, err, runtime.ErrOtherFlow, "a handle sends to its own flow's activations")
}

// TestASignalSentWhileNoIncarnationRunsTheFlow sends from a program that
// opens the store, sends and closes it without starting: the next
// incarnation that runs the flow delivers the message.
func TestASignalSentWhileNoIncarnationRunsTheFlow(t *testing.T) {
	path := tempStore(t)
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return flowimpl.Signal[string]("approve").Receive(fc)
	}
	e1 := incarnation(t, path, "b1", runtime.Options{}, body)
	v, err := e1.h.StartWithID(t.Context(), "pay-1", testkit.TellerRef("host"), "")
	require.NoError(t, err)
	id := e1.only().ID
	e1.waitState(id, runtime.StateSuspended)
	e1.close()

	// A sender: no flows registered, never started.
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: "sender"})
	require.NoError(t, err)
	require.NoError(t, runtime.Send(t.Context(), rt, id, "approve", "mail-9", "granted"))
	require.NoError(t, rt.Close(t.Context()))

	e2 := incarnation(t, path, "b2", runtime.Options{}, body)
	got, err := e2.wait(flow.VowOf[string](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, "granted", got)
}

// TestANextLostToATimerIsStillTheNextMessage races the next message against
// a timer; the timer wins, and asking again gets the message sent after.
func TestANextLostToATimerIsStillTheNextMessage(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		approve := flowimpl.Signal[string]("approve")
		var out []string
		for range 2 {
			if flow.Race(fc, approve.Next(fc), flow.After(fc, time.Hour)) == 1 {
				out = append(out, "reminded")
				if _, err := h.Echo(fc, "reminder"); err != nil {
					return "", err
				}
				continue
			}
			s, err := approve.Receive(fc) // the message that won the race
			if err != nil {
				return "", err
			}
			out = append(out, s)
		}
		return strings.Join(out, ","), nil
	}
	e := incarnation(t, tempStore(t), "b1", runtime.Options{Clock: clock}, body)
	v := e.start("")
	id := e.only().ID
	e.waitState(id, runtime.StateSuspended)
	clock.Advance(2 * time.Hour)
	eventually(t, func() bool { return len(e.host.Calls()) == 1 }, "the reminder")
	e.waitState(id, runtime.StateSuspended)
	require.NoError(t, runtime.Send(t.Context(), e.rt, id, "approve", "", "yes"))
	got, err := e.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "reminded,yes", got)
	assert.Len(t, e.host.Calls(), 1)
}

func TestSendRefusesBadInput(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, collector)
	id := flow.NewActivationID()
	assert.ErrorContains(t, runtime.Send(t.Context(), e.rt, id, "", "", 1), "a signal needs a name")
	assert.ErrorIs(t, runtime.Send(t.Context(), e.rt, id, "note", "", 1), runtime.ErrUnknownActivation)
	assert.ErrorContains(t, runtime.Send(t.Context(), e.rt, id, "note", "", make(chan int)), "runtime: send note to "+id.String())
	e.close()
	assert.ErrorIs(t, runtime.Send(t.Context(), e.rt, id, "note", "", 1), runtime.ErrClosed)
}
