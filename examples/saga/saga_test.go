package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/examples/saga/shop"
	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// ops returns what the world did for an order: its new effects, in order.
func ops(effects []shop.Effect, order string) []string {
	var out []string
	for _, e := range effects {
		if e.Order == order && !e.Again {
			out = append(out, e.Op)
		}
	}
	return out
}

// TestOrders runs the three ends of an order in this process: picked up,
// failed at the carrier, cancelled while it waits for the pickup. The
// failed and the cancelled undo what they did, the last step first, and
// their outcomes say why.
func TestOrders(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	rt, err := runtime.Open(ctx, filepath.Join(dir, "saga.db"), runtime.Options{})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	journal := filepath.Join(dir, "world.jsonl")
	w, err := shop.NewWorld(rt, journal)
	require.NoError(t, err)
	defer w.Close()
	w.Undeliverable[nowhere] = true
	booked := make(chan shop.Booking, 3)
	w.Booked = func(order string, b shop.Booking) { booked <- b }
	shop.ProvideInventory(rt, "inventory", w)
	shop.ProvidePayments(rt, "payments", w)
	shop.ProvideShipping(rt, "shipping", w)
	h := shop.RegisterOrder(rt)
	require.NoError(t, rt.Start(ctx))
	start := func(id string, undeliverable bool) flow.Vow[shop.Receipt] {
		v, err := h.StartWithID(ctx, id, shop.InventoryRef("inventory"), shop.PaymentsRef("payments"), shop.ShippingRef("shipping"), Spec(id, undeliverable))
		require.NoError(t, err)
		return v
	}
	wctx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()

	shipped := start("ok", false)
	b := <-booked
	require.NoError(t, w.Pickup(ctx, b))
	r, err := runtime.Wait(wctx, rt, shipped)
	require.NoError(t, err)
	assert.Equal(t, shop.Receipt{Order: "ok", Charge: "ch-ok", Tracking: "track-bk-ok"}, r)

	failed := start("lost", true)
	_, err = runtime.Wait(wctx, rt, failed)
	assert.ErrorIs(t, err, shop.ErrUndeliverable, "the registered error survives the crossing")

	cancelled := start("changed", false)
	<-booked
	a, err := rt.Admin().Find(ctx, "changed")
	require.NoError(t, err)
	require.NoError(t, rt.Admin().RequestCancel(ctx, a.ID, "the customer changed their mind"))
	_, err = runtime.Wait(wctx, rt, cancelled)
	assert.ErrorIs(t, err, flow.ErrCancelled)
	assert.Contains(t, err.Error(), "the customer changed their mind")

	effects, err := shop.ReadJournal(journal)
	require.NoError(t, err)
	assert.Equal(t, []string{"Reserve", "Charge", "Book"}, ops(effects, "ok"))
	assert.Equal(t, []string{"Reserve", "Charge", "Refund", "Release"}, ops(effects, "lost"), "undone, the last step first")
	assert.Equal(t, []string{"Reserve", "Charge", "Book", "CancelBooking", "Refund", "Release"}, ops(effects, "changed"), "undone, the last step first")
}

// TestCompensationAcrossKill cancels an order and kills the process with
// SIGKILL in the middle of the compensation, right after the refund reached
// the payment service and before its result was logged. The next process
// replays the order, makes the refund again with the same idempotency key
// (the service does nothing twice) and finishes the compensation; so does
// the whole story the demo tells.
func TestCompensationAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and kills it")
	}
	ctx, stop := context.WithTimeout(t.Context(), 3*time.Minute)
	defer stop()
	dir := t.TempDir()
	bin := filepath.Join(dir, "saga")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/asyncflow-go/asyncflow/examples/saga").CombinedOutput()
	require.NoError(t, err, string(out))
	c := Child{bin: bin, store: filepath.Join(dir, "saga.db"), journal: filepath.Join(dir, "world.jsonl")}

	_, killed, err := c.Run(ctx, "-orders", "o4", "-cancel", "o4", "-die-after", "Refund")
	require.NoError(t, err)
	require.True(t, killed, "the process died after the refund")
	before, err := shop.ReadJournal(c.journal)
	require.NoError(t, err)
	assert.Equal(t, []string{"Reserve", "Charge", "Book", "CancelBooking", "Refund"}, ops(before, "o4"))

	outcomes, killed, err := c.Run(ctx, "-orders", "o4")
	require.NoError(t, err)
	require.False(t, killed)
	require.Len(t, outcomes, 1)
	assert.Equal(t, "order o4: flow: activation cancelled: the customer changed their mind", outcomes[0].Error)

	after, err := shop.ReadJournal(c.journal)
	require.NoError(t, err)
	assert.Equal(t, []string{"Reserve", "Charge", "Book", "CancelBooking", "Refund", "Release"}, ops(after, "o4"),
		"the compensation is completed, each step made once")
	again := after[len(before):]
	require.Len(t, again, 2, "the second process made the refund again and the release")
	assert.Equal(t, "Refund", again[0].Op)
	assert.True(t, again[0].Again, "the refund came again with its idempotency key")
	assert.Equal(t, before[len(before)-1].Key, again[0].Key)
	assert.NotEqual(t, before[len(before)-1].PID, again[0].PID)
	assert.Equal(t, "Release", again[1].Op)

	// The demo tells the same story, with its own processes.
	out, err = exec.CommandContext(ctx, bin, "-dir", filepath.Join(dir, "story")).CombinedOutput()
	require.NoError(t, err, string(out))
	for _, want := range []string{"o1: shipped", "o2: order o2", "undeliverable address", "o3: order o3: flow: activation cancelled", "made before under this key"} {
		assert.True(t, strings.Contains(string(out), want), "the story tells %q:\n%s", want, out)
	}
}
