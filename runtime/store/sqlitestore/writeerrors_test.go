package sqlitestore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/smallfs"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// TestFullDisk fills a real file system under a store. Writes then fail as
// unavailable — something to try again — with one error, not a second line
// about a rollback; every submission of a shared transaction fails alike;
// and once space comes back the same writes succeed and nothing committed
// before is lost.
func TestFullDisk(t *testing.T) {
	dir := smallfs.Mount(t, 8<<20)
	ctx := t.Context()
	s := open(t, filepath.Join(dir, "app.db"))
	acts := make([]flow.ActivationID, 4)
	for i := range acts {
		acts[i], _ = newActivation(t, s, 1)
	}
	ballast := smallfs.Fill(t, dir, 512<<10)

	payload := make([]byte, 32<<10)
	next := make([]int64, len(acts))
	var failed error
	for round := 0; failed == nil && round < 1000; round++ {
		ps := make([]*store.Pending, len(acts))
		for i, a := range acts {
			ps[i] = s.Submit(&store.Append{Act: a, Entry: store.Entry{Step: next[i], Kind: 1, Gen: 1, Payload: payload}})
		}
		for i, p := range ps {
			if err := p.Wait(); err != nil {
				failed = err
				continue
			}
			next[i]++
		}
	}
	require.Error(t, failed, "the file system fills")
	assert.ErrorIs(t, failed, store.ErrUnavailable)
	assert.NotErrorIs(t, failed, store.ErrRefused)
	assert.NotContains(t, failed.Error(), "rollback", "one error, not a second one about the rollback")
	assert.NotContains(t, failed.Error(), "\n")
	onePrefix(t, failed)
	t.Logf("full: %v", failed)

	// Full, every submission fails alike, again and again, and nothing is
	// half written.
	for range 3 {
		ps := make([]*store.Pending, len(acts))
		for i, a := range acts {
			ps[i] = s.Submit(&store.Append{Act: a, Entry: store.Entry{Step: next[i], Kind: 1, Gen: 1, Payload: payload}})
		}
		for i, p := range ps {
			if err := p.Wait(); err != nil {
				assert.ErrorIs(t, err, store.ErrUnavailable)
				assert.NotContains(t, err.Error(), "rollback")
				continue
			}
			next[i]++
		}
	}

	require.NoError(t, os.Remove(ballast))
	for i, a := range acts {
		require.NoError(t, store.Apply(ctx, s, &store.Append{Act: a, Entry: store.Entry{Step: next[i], Kind: 1, Gen: 1, Payload: payload}}), "space is back")
		next[i]++
	}
	for i, a := range acts {
		log, err := s.Log(ctx, a)
		require.NoError(t, err)
		assert.Len(t, log, int(next[i]), "every committed append is there")
	}
	require.NoError(t, s.Check(ctx))
	require.NoError(t, s.Close(ctx))
	s = open(t, filepath.Join(dir, "app.db"))
	for i, a := range acts {
		log, err := s.Log(ctx, a)
		require.NoError(t, err)
		assert.Len(t, log, int(next[i]), "and after a reopen")
	}
}

// TestValueTooBig: a value over the store's limit is refused for good, with
// both sizes, and the submissions sharing its transaction commit.
func TestValueTooBig(t *testing.T) {
	ctx := t.Context()
	s, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "app.db"), sqlitestore.Options{MaxValueSize: 1 << 20})
	require.NoError(t, err)
	defer s.Close(ctx)
	a, _ := newActivation(t, s, 1)
	b, _ := newActivation(t, s, 1)
	var ps []*store.Pending
	for i := range 20 {
		ps = append(ps, s.Submit(&store.Append{Act: a, Entry: store.Entry{Step: int64(i), Kind: 1, Gen: 1, Payload: make([]byte, 1<<10)}}))
	}
	big := s.Submit(&store.Append{Act: b, Entry: store.Entry{Step: 0, Kind: 1, Gen: 1, Payload: make([]byte, 1<<20+1)}})
	err = big.Wait()
	assert.ErrorIs(t, err, store.ErrRefused)
	assert.NotErrorIs(t, err, store.ErrUnavailable)
	assert.ErrorContains(t, err, "1048577 bytes, over the store's limit of 1048576")
	onePrefix(t, err)
	for i, p := range ps {
		assert.NoError(t, p.Wait(), "submission %d", i)
	}
	for _, op := range []store.Op{
		&store.CreateActivation{Activation: store.Activation{ID: flow.NewActivationID(), Flow: "test.F", Args: make([]byte, 2<<20), Outcome: flow.NewVowID(), CreatedGen: 1}},
		&store.SetState{Act: a, State: store.Failed, Failure: make([]byte, 2<<20), Gen: 1},
		&store.Finish{Act: a, State: store.VowFulfilled, Payload: make([]byte, 2<<20), Gen: 1},
	} {
		assert.ErrorIs(t, store.Apply(ctx, s, op), store.ErrRefused, "%T", op)
	}
	log, err := s.Log(ctx, a)
	require.NoError(t, err)
	assert.Len(t, log, 20)
}
