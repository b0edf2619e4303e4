package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
)

func TestBadInputGetsClearErrors(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return a, nil
	})
	ctx := t.Context()
	_, err := runtime.Wait(ctx, e.rt, flow.VowOf[string](flow.NewVowID()))
	assert.ErrorIs(t, err, runtime.ErrUnknownVow)
	assert.ErrorIs(t, runtime.Resolve(ctx, e.rt, flow.VowOf[int](flow.NewVowID()), 1), runtime.ErrUnknownVow)
	v, err := runtime.NewVow[int](ctx, e.rt)
	require.NoError(t, err)
	require.NoError(t, runtime.Resolve(ctx, e.rt, v, 7))
	assert.ErrorIs(t, runtime.Resolve(ctx, e.rt, v, 8), runtime.ErrAlreadySettled)
	n, err := runtime.Wait(ctx, e.rt, v)
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	assert.ErrorIs(t, e.rt.Admin().Retry(ctx, flow.NewActivationID()), runtime.ErrUnknownActivation)
	_, err = e.rt.Admin().Log(ctx, flow.NewActivationID())
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation, "the log of an activation that does not exist")
	assert.ErrorIs(t, e.rt.Start(ctx), runtime.ErrStarted)

	var bad flow.Vow[string]
	_, err = runtime.Wait(ctx, e.rt, bad)
	assert.ErrorIs(t, err, runtime.ErrUnknownVow)

	// A store already open.
	_, err = runtime.Open(ctx, e.path, runtime.Options{})
	assert.ErrorIs(t, err, store.ErrLocked)
}

// packagePrefix finds the prefixes of this module's packages in an error.
var packagePrefix = regexp.MustCompile(`(^|: )(runtime|sqlitestore|store): `)

// onePrefix checks an error starts with a package's name and names each
// package it crossed once.
func onePrefix(t *testing.T, err error, first string) {
	t.Helper()
	if !assert.Error(t, err) {
		return
	}
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, first+": "), "%q starts with %s", msg, first)
	seen := map[string]bool{}
	for _, m := range packagePrefix.FindAllStringSubmatch(msg, -1) {
		assert.False(t, seen[m[2]], "%s named twice in %q", m[2], msg)
		seen[m[2]] = true
	}
}

func TestErrorsNameEachPackageOnce(t *testing.T) {
	ctx := t.Context()
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, a)
	})
	e1.host.Hook = func(context.Context, string, ...any) error { panic("host bug") }
	e1.start("x")
	failed := e1.waitState(e1.only().ID, runtime.StateFailed).ID
	_, err := runtime.Open(ctx, path, runtime.Options{})
	onePrefix(t, err, "sqlitestore")
	assert.ErrorIs(t, err, store.ErrLocked)
	e1.close()

	// An incarnation that registers no flow.
	rt, err := runtime.Open(ctx, path, runtime.Options{Build: "b2"})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	require.NoError(t, rt.Start(ctx))
	err = rt.Admin().Retry(ctx, failed)
	onePrefix(t, err, "runtime")
	assert.ErrorIs(t, err, runtime.ErrUnregistered)
	assert.Equal(t, "runtime: retry "+failed.String()+": test.F: flow not registered in this incarnation", err.Error())
	err = rt.Start(ctx)
	onePrefix(t, err, "runtime")
	assert.ErrorIs(t, err, runtime.ErrStarted)
	err = runtime.Resolve(ctx, rt, flow.VowOf[int](flow.NewVowID()), 1)
	onePrefix(t, err, "runtime")
	assert.ErrorIs(t, err, runtime.ErrUnknownVow)
	err = rt.Admin().Terminate(ctx, flow.NewActivationID())
	onePrefix(t, err, "runtime")
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation)
	require.NoError(t, rt.Close(ctx))
	err = rt.Close(ctx)
	onePrefix(t, err, "runtime")
	assert.ErrorIs(t, err, runtime.ErrClosed)
	_, err = runtime.NewVow[int](ctx, rt)
	onePrefix(t, err, "runtime")
	assert.ErrorIs(t, err, runtime.ErrClosed)

	// A store that is damaged.
	corrupt := filepath.Join(t.TempDir(), "corrupt.db")
	require.NoError(t, os.WriteFile(corrupt, []byte("SQLite format 3\x00 and then nothing"), 0o644))
	_, err = runtime.Open(ctx, corrupt, runtime.Options{})
	onePrefix(t, err, "sqlitestore")
	assert.ErrorIs(t, err, store.ErrCorrupt)
	assert.Contains(t, err.Error(), ": corrupt: truncated")
}
