package sqlitestore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime/store"
)

func gatherStore() *Store {
	return &Store{opts: Options{MaxBatch: 16}, queue: make(chan job, 16), stop: make(chan struct{})}
}

func callerJob() job { return job{p: store.NewPending()} }

// gatherSoon runs gather and fails the test if it has not returned within a
// generous time: the cases that use it must not wait for the window.
func gatherSoon(t *testing.T, s *Store, batch []job, l *linger) []job {
	t.Helper()
	done := make(chan []job, 1)
	go func() { done <- s.gather(batch, l) }()
	select {
	case b := <-done:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("gather waited for a window it should not have waited for")
		return nil
	}
}

func TestGatherWaitsForThoseTheLastCommitReleased(t *testing.T) {
	s := gatherStore()
	l := newLinger()
	l.released, l.until = 4, time.Now().Add(time.Hour)
	s.queue <- callerJob()
	go func() {
		time.Sleep(20 * time.Millisecond)
		s.queue <- callerJob()
		time.Sleep(20 * time.Millisecond)
		s.queue <- callerJob()
	}()
	batch := s.gather([]job{callerJob()}, l)
	assert.Len(t, batch, 4, "the first job, the one queued, and the two that came back")
}

func TestGatherDoesNotWaitOnceTheWindowHasClosed(t *testing.T) {
	s := gatherStore()
	l := newLinger()
	l.released, l.until = 5, time.Now().Add(-time.Millisecond)
	s.queue <- callerJob()
	assert.Len(t, gatherSoon(t, s, []job{callerJob()}, l), 2)
}

func TestGatherDoesNotWaitWhenAllAreBack(t *testing.T) {
	s := gatherStore()
	l := newLinger()
	l.released, l.until = 2, time.Now().Add(time.Hour)
	s.queue <- callerJob()
	assert.Len(t, gatherSoon(t, s, []job{callerJob()}, l), 2)
}

func TestGatherStopsWaitingWhenTheStoreStops(t *testing.T) {
	s := gatherStore()
	l := newLinger()
	l.released, l.until = 2, time.Now().Add(time.Hour)
	close(s.stop)
	assert.Len(t, gatherSoon(t, s, []job{callerJob()}, l), 1)
}

func TestGatherKeepsToMaxBatch(t *testing.T) {
	s := gatherStore()
	s.opts.MaxBatch = 3
	l := newLinger()
	l.released, l.until = 10, time.Now().Add(time.Hour)
	for range 5 {
		s.queue <- callerJob()
	}
	assert.Len(t, gatherSoon(t, s, []job{callerJob()}, l), 3)
	assert.Len(t, s.queue, 3, "what did not fit stays queued")
}

func TestCommittedCountsCallersAndBoundsTheWindow(t *testing.T) {
	l := newLinger()
	start := time.Now()
	l.committed([]job{callerJob(), {p: store.NewPending(), own: func(*writer) error { return nil }}, callerJob()}, start, start.Add(time.Millisecond))
	assert.Equal(t, 2, l.released, "the store's own work brings nobody back")
	assert.Equal(t, start.Add(time.Millisecond+250*time.Microsecond), l.until)

	l.committed([]job{callerJob()}, start, start.Add(time.Hour))
	require.Equal(t, 1, l.released)
	assert.Equal(t, start.Add(time.Hour+maxLinger), l.until)
}
