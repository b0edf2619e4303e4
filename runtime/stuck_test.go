package runtime_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

func TestWaitOnAStuckActivationSaysSo(t *testing.T) {
	path := tempStore(t)
	e1, v, id := suspendedV1(t, path, "b1", "x")
	asked, _ := e1.host.Asked("q")
	e1.close()

	// A build that gets it stuck: Wait returns at once, with the diagnostic.
	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, "something else")
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := runtime.Wait(ctx, e2.rt, v)
	var stuck *runtime.StuckError
	require.ErrorAs(t, err, &stuck)
	assert.NoError(t, ctx.Err(), "returned before the context ended")
	assert.ErrorIs(t, err, runtime.ErrStuck)
	assert.Equal(t, id, stuck.Activation)
	assert.Equal(t, "test.F", stuck.Flow)
	assert.False(t, stuck.Unregistered)
	require.NotNil(t, stuck.Diagnostic)
	assert.Equal(t, diag.OtherArguments, stuck.Diagnostic.Problem)
	var d *diag.Diagnostic
	assert.ErrorAs(t, err, &d, "the diagnostic is in the chain")
	var rej *runtime.RejectionError
	assert.False(t, errors.As(err, &rej), "not an outcome")
	assert.Contains(t, err.Error(), "is stuck: replay failed")
	e2.close()

	// A build that does not register the flow: the same, without a
	// diagnostic.
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: "b3"})
	require.NoError(t, err)
	require.NoError(t, rt.Start(t.Context()))
	_, err = runtime.Wait(ctx, rt, v)
	require.ErrorAs(t, err, &stuck)
	assert.True(t, stuck.Unregistered)
	assert.ErrorIs(t, err, runtime.ErrUnregistered)
	require.NoError(t, rt.Close(t.Context()))

	// Nothing was given up: the fixed build finishes it.
	e4 := incarnation(t, path, "b4", runtime.Options{}, v1)
	require.NoError(t, runtime.Resolve(t.Context(), e4.rt, flow.VowOf[string](asked), "ok"))
	got, err := e4.wait(v)
	require.NoError(t, err)
	assert.Equal(t, "after ok", got)
}

func TestWaitWaitsForARetry(t *testing.T) {
	path := tempStore(t)
	e1, v, _ := suspendedV1(t, path, "b1", "x")
	asked, _ := e1.host.Asked("q")
	e1.close()
	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, "something else")
	})
	var stuck *runtime.StuckError
	_, err := e2.wait(v)
	require.ErrorAs(t, err, &stuck)
	e2.close()

	// The next build retries it at Start: Wait waits for that run, which
	// suspends, and for the answer.
	e3 := incarnation(t, path, "b3", runtime.Options{}, v1)
	done := make(chan error, 1)
	go func() { _, err := e3.wait(v); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v while the retry went on", err)
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, runtime.Resolve(t.Context(), e3.rt, flow.VowOf[string](asked), "ok"))
	require.NoError(t, <-done)
}

// logRecords is a slog handler that keeps records.
type logRecords struct {
	ch chan slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.ch <- r:
	default:
	}
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

func TestStartSummarizesWhatItFound(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, v1)
	for _, a := range []string{"x", "y"} {
		e1.start(a)
	}
	eventually(t, func() bool {
		n, err := e1.rt.Admin().Count(t.Context(), runtime.ListOptions{State: runtime.StateSuspended})
		require.NoError(t, err)
		return n == 2
	}, "both to suspend")
	e1.close()

	// An incarnation that renamed the flow: its activations are named.
	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	defer st.Close(context.Background())
	logs := &logRecords{ch: make(chan slog.Record, 100)}
	rt, err := runtime.Open(t.Context(), path, runtime.Options{Build: "b2", Store: st, Logger: slog.New(logs)})
	require.NoError(t, err)
	testkit.ProvideTeller(rt, "host", &testkit.Recorder{})
	testkit.Register(rt, "test.Renamed", v1)
	require.NoError(t, rt.Start(t.Context()))
	defer rt.Close(context.Background())
	sum, err := rt.Summary(t.Context())
	require.NoError(t, err)
	assert.Equal(t, runtime.Summary{Unregistered: map[string]int{"test.F": 2}}, sum)
	var summary slog.Record
	for summary.Level != slog.LevelWarn {
		select {
		case summary = <-logs.ch:
		default:
			t.Fatal("Start logged no warning")
		}
	}
	assert.Contains(t, summary.Message, "2 unfinished activations of flows this incarnation does not register are left untouched: test.F (2)")
	assert.Contains(t, summary.Message, "//flowgen:flow name=")
	attrs := map[string]string{}
	summary.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	assert.Equal(t, "2", attrs["unregistered"])
	assert.Equal(t, "0", attrs["suspended"])
	assert.Equal(t, "[test.F=2]", attrs["unregistered_flows"])
}

func TestStartSummaryCounts(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, v1)
	e1.start("x")
	eventually(t, func() bool { _, ok := e1.host.Asked("q"); return ok }, "the question")
	e1.waitState(e1.only().ID, runtime.StateSuspended)
	e1.close()
	e2 := incarnation(t, path, "b2", runtime.Options{}, v1)
	sum, err := e2.rt.Summary(t.Context())
	require.NoError(t, err)
	assert.Equal(t, runtime.Summary{Suspended: 1, Unregistered: map[string]int{}}, sum)
}

func TestAdminBackup(t *testing.T) {
	path := tempStore(t)
	e, _, id := suspendedV1(t, path, "b1", "x")
	snap := filepath.Join(t.TempDir(), "snap.db")
	require.NoError(t, e.rt.Admin().Backup(t.Context(), snap))
	r, err := sqlitestore.OpenReadOnly(t.Context(), snap, sqlitestore.Options{})
	require.NoError(t, err)
	defer r.Close(context.Background())
	a, err := r.Activation(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, "test.F", a.Flow)
	log, err := r.Log(t.Context(), id)
	require.NoError(t, err)
	assert.Len(t, log, 4)
	assert.Error(t, e.rt.Admin().Backup(t.Context(), snap), "never over a file")
}

func TestAdminVerifyReplaysTheLiveStore(t *testing.T) {
	path := tempStore(t)
	e, _, id := suspendedV1(t, path, "b1", "x")
	var seen []runtime.State
	rep, err := e.rt.Admin().Verify(t.Context(), verify.Options{Replaying: func(got flow.ActivationID, on bool) {
		if on && got == id {
			info, err := e.rt.Admin().Get(t.Context(), id)
			require.NoError(t, err)
			seen = append(seen, info.State)
		}
	}})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%s", rep)
	assert.Equal(t, "b1", rep.Build)
	assert.Equal(t, 1, rep.Activations)
	assert.Equal(t, []runtime.State{runtime.StateReplaying}, seen, "replaying while the gate replays it")
	assert.Equal(t, runtime.StateSuspended, e.only().State)
	assert.Len(t, e.host.Calls(), 3, "the gate called nothing")
}
