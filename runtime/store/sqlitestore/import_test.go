package sqlitestore_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// TestImport writes a store from rows and reads it back; an import that
// fails, or finds its file taken, leaves no file behind it.
func TestImport(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	dest := filepath.Join(dir, "copy.db")
	act, outcome, timer := flow.NewActivationID(), flow.NewVowID(), flow.NewVowID()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	require.NoError(t, sqlitestore.Import(ctx, dest, func(l *sqlitestore.Loader) error {
		require.NoError(t, l.Incarnation(store.Incarnation{Gen: 7, Build: "b7", Started: at, PID: 70}))
		require.NoError(t, l.Activation(store.Activation{ID: act, Flow: "test.F", StartKey: "k", Args: []byte{8, 0}, State: store.Suspended,
			Outcome: outcome, CreatedGen: 7, Gen: 7, Created: at, StateSince: at.Add(time.Second)}, 0))
		require.NoError(t, l.Vow(store.Vow{ID: outcome, Kind: store.OutcomeVow, Gen: 7}))
		require.NoError(t, l.Vow(store.Vow{ID: timer, Kind: store.TimerVow, Gen: 7}))
		require.NoError(t, l.Timer(timer, at.Add(time.Hour)))
		require.NoError(t, l.Wait(act, timer))
		require.NoError(t, l.Entry(act, store.Entry{Step: 0, Kind: 1, Gen: 7, At: at, Payload: []byte("x")}))
		return nil
	}))
	s, err := sqlitestore.OpenReadOnly(ctx, dest, sqlitestore.Options{})
	require.NoError(t, err)
	a, err := s.Activation(ctx, act)
	require.NoError(t, err)
	assert.Equal(t, store.Suspended, a.State)
	assert.Equal(t, "k", a.StartKey)
	assert.True(t, a.StateSince.Equal(at.Add(time.Second)))
	byOutcome, err := s.ActivationByOutcome(ctx, outcome)
	require.NoError(t, err, "an outcome vow given after its activation names it")
	assert.Equal(t, act, byOutcome.ID)
	waits, err := s.Waits(ctx, act)
	require.NoError(t, err)
	assert.Equal(t, []flow.VowID{timer}, waits)
	next, ok, err := s.NextDeadline(ctx)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, next.Equal(at.Add(time.Hour)))
	inc, err := s.Incarnation(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, "b7", inc.Build)
	assert.NoError(t, s.Check(ctx))
	require.NoError(t, s.Close(ctx))

	err = sqlitestore.Import(ctx, dest, func(*sqlitestore.Loader) error { return nil })
	assert.ErrorIs(t, err, fs.ErrExist, "never over a file")

	failed := filepath.Join(dir, "failed.db")
	boom := errors.New("the source broke")
	err = sqlitestore.Import(ctx, failed, func(l *sqlitestore.Loader) error {
		require.NoError(t, l.Vow(store.Vow{ID: outcome, Gen: 1}))
		return boom
	})
	assert.ErrorIs(t, err, boom)
	err = sqlitestore.Import(ctx, failed, func(l *sqlitestore.Loader) error {
		require.NoError(t, l.Vow(store.Vow{ID: outcome, Gen: 1}))
		return l.Vow(store.Vow{ID: outcome, Gen: 1})
	})
	assert.Error(t, err, "an id given twice")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"copy.db"}, names, "a failed import leaves nothing")
}
