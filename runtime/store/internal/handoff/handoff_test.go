package handoff

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

// A job offered to a free connection is committed by its waiter, on the
// waiter's goroutine, with the connection held meanwhile.
func TestTheWaiterCommits(t *testing.T) {
	var w Writer[int]
	p := store.NewPending()
	var ran []int
	require.True(t, w.Offer(7, p, func(j int) {
		assert.False(t, w.mu.TryLock(), "the connection is held while it commits")
		ran = append(ran, j)
		p.Complete(nil)
	}))
	assert.False(t, w.Offer(8, store.NewPending(), nil), "a second job finds the connection kept")
	require.NoError(t, p.Wait())
	assert.Equal(t, []int{7}, ran, "run on the waiting goroutine, before Wait returned")
	assert.True(t, w.mu.TryLock(), "and the connection let go")
}

// The committer, coming to the connection before the waiter has begun,
// takes the job back to commit it first; the waiter then just waits.
func TestTheCommitterTakesTheJobBack(t *testing.T) {
	var w Writer[int]
	p := store.NewPending()
	require.True(t, w.Offer(7, p, func(int) { t.Error("the waiter ran a job the committer took") }))
	j, taken := w.Lock()
	require.True(t, taken)
	assert.Equal(t, 7, j)
	done := make(chan error)
	go func() { done <- p.Wait() }()
	select {
	case <-done:
		t.Fatal("Wait returned before the committer completed the job")
	case <-time.After(20 * time.Millisecond):
	}
	p.Complete(nil)
	require.NoError(t, <-done)
	w.Unlock()
	_, taken = w.Lock()
	assert.False(t, taken, "nothing left to take")
	w.Unlock()
}

// Whichever of the waiter and the committer comes first commits the job,
// once; the other waits for the connection or for the job.
func TestOneOfThemCommits(t *testing.T) {
	for range 200 {
		var w Writer[int]
		p := store.NewPending()
		var mu sync.Mutex
		runs := 0
		commit := func(int) {
			mu.Lock()
			runs++
			mu.Unlock()
			p.Complete(nil)
		}
		require.True(t, w.Offer(1, p, commit))
		var wg sync.WaitGroup
		wg.Go(func() { _ = p.Wait() })
		wg.Go(func() {
			if j, taken := w.Lock(); taken {
				commit(j)
			}
			w.Unlock()
		})
		wg.Wait()
		assert.Equal(t, 1, runs)
	}
}

// Done and WaitContext cannot lend their goroutine: they start the job on
// another.
func TestDoneStartsTheJob(t *testing.T) {
	var w Writer[int]
	p := store.NewPending()
	require.True(t, w.Offer(1, p, func(int) { p.Complete(nil) }))
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not run")
	}
	p2 := store.NewPending()
	require.True(t, w.Offer(2, p2, func(int) { p2.Complete(nil) }))
	require.NoError(t, p2.WaitContext(t.Context()))
}
