package adminhttp_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/adminhttp"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// TestBackupThroughTheHandler: the copy arrives whole and reads as a store
// with the activation in it; it needs the token, and never writes over a
// file.
func TestBackupThroughTheHandler(t *testing.T) {
	_, srv, id := served(t, "tok")
	ctx := t.Context()
	dir := t.TempDir()
	c := &adminhttp.Client{Base: srv.URL + "/ops/", Token: "tok"}

	dest := filepath.Join(dir, "snap.db")
	require.NoError(t, c.Backup(ctx, dest))
	ad, err := runtime.OpenAdmin(ctx, dest, runtime.AdminOptions{})
	require.NoError(t, err)
	a, err := ad.Find(ctx, "order-1")
	require.NoError(t, err)
	assert.Equal(t, id, a.ID)
	assert.Equal(t, runtime.StateSuspended, a.State)
	require.NoError(t, ad.Close(context.Background()))

	before, err := os.ReadFile(dest)
	require.NoError(t, err)
	assert.Error(t, c.Backup(ctx, dest), "a backup over an existing file")
	after, err := os.ReadFile(dest)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the file is left as it was")

	other := filepath.Join(dir, "other.db")
	for _, bad := range []*adminhttp.Client{{Base: srv.URL + "/ops/"}, {Base: srv.URL + "/ops/", Token: "nope"}} {
		assert.ErrorIs(t, bad.Backup(ctx, other), adminhttp.ErrUnauthorized)
		_, err := os.Stat(other)
		assert.True(t, os.IsNotExist(err), "a refused backup leaves no file")
	}
}

// TestBackupAndVerifyNeedAToken: mounted without a token, the handler
// serves neither the whole store nor a replay of every activation.
func TestBackupAndVerifyNeedAToken(t *testing.T) {
	_, srv, _ := served(t, "")
	ctx := t.Context()
	c := &adminhttp.Client{Base: srv.URL + "/ops/"}
	dest := filepath.Join(t.TempDir(), "snap.db")
	assert.ErrorIs(t, c.Backup(ctx, dest), adminhttp.ErrForbidden)
	_, err := os.Stat(dest)
	assert.True(t, os.IsNotExist(err))
	_, err = c.Verify(ctx, verify.Options{})
	assert.ErrorIs(t, err, adminhttp.ErrForbidden)
}

// TestVerifyThroughTheHandler: the running build replays its own store.
func TestVerifyThroughTheHandler(t *testing.T) {
	_, srv, _ := served(t, "tok")
	c := &adminhttp.Client{Base: srv.URL + "/ops/", Token: "tok"}
	rep, err := c.Verify(t.Context(), verify.Options{Workers: 1})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%s", rep)
	assert.Equal(t, 1, rep.Activations)
	assert.Equal(t, 1, rep.Replays)
	assert.Equal(t, "b1", rep.Build)
	require.Len(t, rep.Flows, 1)
	assert.Equal(t, "ops.Ask", rep.Flows[0].Flow)
}
