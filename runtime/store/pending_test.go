package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

func TestPending(t *testing.T) {
	op := &store.CreateVow{ID: flow.NewVowID()}
	p := store.NewPending(op)
	assert.Equal(t, []store.Op{op}, p.Ops())
	select {
	case <-p.Done():
		t.Fatal("complete before Complete")
	default:
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, p.WaitContext(ctx), context.Canceled, "WaitContext gives up with its context")

	failure := errors.New("disk full")
	p.Complete(failure)
	<-p.Done()
	assert.ErrorIs(t, p.Wait(), failure)
	assert.ErrorIs(t, p.WaitContext(t.Context()), failure)
	assert.Panics(t, func() { p.Complete(nil) }, "a Pending completes once")

	ok := store.NewPending()
	ok.Complete(nil)
	assert.NoError(t, ok.Wait())
	assert.Empty(t, ok.Ops())
	for range 100 {
		assert.ErrorIs(t, ok.WaitContext(ctx), context.Canceled, "an ended context says so even when the ops are done, every time")
	}
}
