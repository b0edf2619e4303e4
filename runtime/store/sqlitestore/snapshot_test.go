package sqlitestore_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// writeActivation creates an activation with three log entries in one
// submission: a copy holds all of them or none.
func writeActivation(s store.Store, gen int64) *store.Pending {
	id := flow.NewActivationID()
	ops := []store.Op{&store.CreateActivation{Activation: store.Activation{ID: id, Flow: "snap.F", Args: []byte{0x08, 0x00}, Outcome: flow.NewVowID(), CreatedGen: gen}}}
	for step := range int64(3) {
		ops = append(ops, &store.Append{Act: id, Entry: store.Entry{Step: step, Kind: 5, Gen: gen, Payload: []byte{0x00}}})
	}
	return s.Submit(ops...)
}

func TestBackupIsAConsistentCopyOfAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "live.db"))
	gen, err := s.BeginIncarnation(t.Context(), "b1", 1)
	require.NoError(t, err)
	require.NoError(t, writeActivation(s, gen).Wait())

	// Writers go on while the copy is made.
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if writeActivation(s, gen).Wait() == nil {
					written.Add(1)
				}
			}
		}()
	}
	for written.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	snap := filepath.Join(dir, "snap.db")
	require.NoError(t, s.Backup(t.Context(), snap))
	close(stop)
	wg.Wait()

	r, err := sqlitestore.OpenReadOnly(t.Context(), snap, sqlitestore.Options{})
	require.NoError(t, err)
	defer r.Close(context.Background())
	acts, err := r.Activations(t.Context(), store.Filter{Limit: 100_000})
	require.NoError(t, err)
	assert.Greater(t, len(acts), 20)
	assert.Less(t, len(acts), int(written.Load())+1, "the writes after the copy began are not in it")
	for _, a := range acts {
		log, err := r.Log(t.Context(), a.ID)
		require.NoError(t, err)
		assert.Len(t, log, 3, "a submission is in the copy whole, or not at all")
	}
	inc, err := r.Incarnation(t.Context(), gen)
	require.NoError(t, err)
	assert.Equal(t, "b1", inc.Build)
	require.NoError(t, r.Check(t.Context()))

	// The copy is never written to.
	err = writeActivation(r, gen).Wait()
	assert.ErrorIs(t, err, sqlitestore.ErrReadOnly)
	_, err = r.BeginIncarnation(t.Context(), "b2", 2)
	assert.ErrorIs(t, err, sqlitestore.ErrReadOnly)

	// A copy is made only where nothing is.
	err = s.Backup(t.Context(), snap)
	assert.ErrorIs(t, err, fs.ErrExist)
}

func TestBackupOfAMemoryStoreIsRefused(t *testing.T) {
	s := open(t, sqlitestore.Memory)
	err := s.Backup(t.Context(), filepath.Join(t.TempDir(), "snap.db"))
	assert.ErrorContains(t, err, "an in-memory store has no file to copy")
}

func TestBackupOfAClosedStore(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "live.db"))
	require.NoError(t, s.Close(t.Context()))
	err := s.Backup(t.Context(), filepath.Join(t.TempDir(), "late.db"))
	assert.ErrorIs(t, err, store.ErrClosed)
}
