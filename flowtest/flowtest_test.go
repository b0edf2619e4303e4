package flowtest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flowtest"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
)

// recordingT is a testing.TB that keeps what the gate reports.
type recordingT struct {
	testing.TB
	errors []string
	fatal  string
	logs   []string
}

func (r *recordingT) Helper() {}
func (r *recordingT) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recordingT) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recordingT) Logf(format string, a ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, a...))
}

func asks(fc flow.Context, h testkit.Teller, a string) (string, error) {
	if _, err := h.Echo(fc, a); err != nil {
		return "", err
	}
	v, err := h.Ask(fc, a)
	if err != nil {
		return "", err
	}
	return flow.Await(fc, v)
}

// snapshot runs asks for "a" and "b" until both wait, and backs the store up.
func snapshot(t *testing.T) string {
	dir := t.TempDir()
	rt, err := runtime.Open(t.Context(), filepath.Join(dir, "live.db"), runtime.Options{Build: "b1"})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	host := &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", host)
	h := testkit.Register(rt, "test.F", asks)
	require.NoError(t, rt.Start(t.Context()))
	for _, a := range []string{"a", "b"} {
		_, err := h.StartWithID(t.Context(), a, testkit.TellerRef("host"), a)
		require.NoError(t, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := rt.Admin().Count(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
		require.NoError(t, err)
		if n == 2 {
			break
		}
		require.True(t, time.Now().Before(deadline))
		time.Sleep(2 * time.Millisecond)
	}
	snap := filepath.Join(dir, "snap.db")
	require.NoError(t, rt.Admin().Backup(t.Context(), snap))
	return snap
}

func TestReplayStorePassesABuildThatReplays(t *testing.T) {
	snap := snapshot(t)
	rec := &recordingT{}
	rep := flowtest.ReplayStore(rec, snap, func(r runtime.Registry) {
		testkit.ProvideTeller(r, "host", nil) // no implementation needed
		testkit.Register(r, "test.F", asks)
	})
	assert.Empty(t, rec.errors)
	assert.Empty(t, rec.fatal)
	require.NotNil(t, rep)
	assert.Equal(t, 2, rep.Replays)
	require.Len(t, rec.logs, 1)
	assert.Contains(t, rec.logs[0], "replay gate PASS")
}

func TestReplayStoreFailsWithEveryDivergence(t *testing.T) {
	snap := snapshot(t)
	rec := &recordingT{}
	rep := flowtest.ReplayStore(rec, snap, func(r runtime.Registry) {
		testkit.Register(r, "test.F", func(fc flow.Context, h testkit.Teller, a string) (string, error) {
			return h.Echo(fc, "changed "+a)
		})
	})
	require.NotNil(t, rep)
	require.Len(t, rec.errors, 3, "one per activation, and the summary")
	for _, key := range []string{"a", "b"} {
		found := false
		for _, e := range rec.errors[:2] {
			if strings.Contains(e, fmt.Sprintf(`(started with id %q)`, key)) {
				found = true
				assert.Contains(t, e, "logged:    service(\"host\").Echo(\""+key+"\")")
				assert.Contains(t, e, "code did:  call service(\"host\").Echo(\"changed "+key+"\")")
			}
		}
		assert.True(t, found, key)
	}
	assert.Contains(t, rec.errors[2], "would strand 2 of 2 unfinished activations: 2 stuck")
}

func TestReplayStoreOnSomethingUnreadable(t *testing.T) {
	rec := &recordingT{}
	rep := flowtest.ReplayStore(rec, filepath.Join(t.TempDir(), "none.db"), func(runtime.Registry) {})
	assert.Nil(t, rep)
	assert.Contains(t, rec.fatal, "replay gate: verify: sqlitestore: open")
}
