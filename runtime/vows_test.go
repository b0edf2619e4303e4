package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// TestVowsHaveOneShape drives every vow operation through the four
// functions, typed by the vow.
func TestVowsHaveOneShape(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return a, nil
	})
	ctx := t.Context()

	type order struct {
		ID    string
		Cents int64
	}
	v, err := runtime.NewVow[order](ctx, e.rt)
	require.NoError(t, err)
	require.NoError(t, runtime.Resolve(ctx, e.rt, v, order{ID: "o-1", Cents: 250}))
	got, err := runtime.Wait(ctx, e.rt, v)
	require.NoError(t, err)
	assert.Equal(t, order{ID: "o-1", Cents: 250}, got)
	assert.ErrorIs(t, runtime.Reject(ctx, e.rt, v, errors.New("too late")), runtime.ErrAlreadySettled)

	// The same vow, by its id, as bytes: what a program that does not know
	// the type (an operator's tool) reads.
	raw, err := runtime.Wait(ctx, e.rt, flow.VowOf[codec.Raw](v.ID()))
	require.NoError(t, err)
	assert.Equal(t, `{Cents: 250, ID: "o-1"}`, codec.Format(raw))

	// Rejected: Wait returns the rejection, and errors.Is sees registered
	// sentinels through it.
	r, err := runtime.NewVow[bool](ctx, e.rt)
	require.NoError(t, err)
	require.NoError(t, runtime.Reject(ctx, e.rt, r, errors.Join(errors.New("manager said no"), testkit.ErrDenied)))
	_, err = runtime.Wait(ctx, e.rt, r)
	var re *runtime.RejectionError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, r.ID(), re.Vow)
	assert.ErrorIs(t, err, testkit.ErrDenied)
	assert.Contains(t, err.Error(), "manager said no")
	assert.ErrorIs(t, runtime.Resolve(ctx, e.rt, r, true), runtime.ErrAlreadySettled)
	_, err = runtime.Wait(ctx, e.rt, flow.VowOf[codec.Raw](r.ID()))
	assert.ErrorAs(t, err, &re, "a rejection whatever the type")

	// Bad input.
	n, err := runtime.NewVow[int](ctx, e.rt)
	require.NoError(t, err)
	assert.ErrorContains(t, runtime.Reject(ctx, e.rt, n, nil), "a nil error")
	assert.ErrorContains(t, runtime.Resolve(ctx, e.rt, flow.VowOf[codec.Raw](n.ID()), codec.Raw{0xff}), "resolve vow")
	require.NoError(t, runtime.Resolve(ctx, e.rt, flow.VowOf[codec.Raw](n.ID()), codec.Raw(value(t, 7))), "a valid encoding is taken as it is")
	seven, err := runtime.Wait(ctx, e.rt, n)
	require.NoError(t, err)
	assert.Equal(t, 7, seven)
	_, err = runtime.Wait(ctx, e.rt, flow.VowOf[string](n.ID()))
	assert.ErrorContains(t, err, "does not decode", "a vow waited on as another type")
	assert.ErrorIs(t, runtime.Reject(ctx, e.rt, flow.VowOf[int](flow.NewVowID()), errors.New("x")), runtime.ErrUnknownVow)

	// Wait gives up with its context, and when the runtime closes.
	pending, err := runtime.NewVow[int](ctx, e.rt)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	_, err = runtime.Wait(short, e.rt, pending)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	waited := make(chan error, 1)
	go func() { _, err := runtime.Wait(ctx, e.rt, pending); waited <- err }()
	time.Sleep(10 * time.Millisecond)
	e.close()
	assert.ErrorIs(t, <-waited, runtime.ErrClosed)
	assert.ErrorIs(t, runtime.Resolve(ctx, e.rt, pending, 1), runtime.ErrClosed)
	assert.ErrorIs(t, runtime.Reject(ctx, e.rt, pending, errors.New("x")), runtime.ErrClosed)
	_, err = runtime.NewVow[int](ctx, e.rt)
	assert.ErrorIs(t, err, runtime.ErrClosed)
}

func value(t *testing.T, v any) []byte {
	t.Helper()
	b, err := codec.Marshal(v)
	require.NoError(t, err)
	return b
}
