package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
)

// askThenEcho asks a question, waits for the answer and echoes it.
func askThenEcho(fc flow.Context, h testkit.Teller, a string) (string, error) {
	v, err := h.Ask(fc, "approve "+a)
	if err != nil {
		return "", err
	}
	answer, err := flow.Await(fc, v)
	if err != nil {
		return "", err
	}
	return h.Echo(fc, a+" "+answer)
}

// TestAdminHistory follows activations through two incarnations: the times
// and builds Admin reports, finding them by id, outcome and start key,
// listings newest first with filters and cursors, the timeline of a log kept
// for audit, and purging.
func TestAdminHistory(t *testing.T) {
	path := tempStore(t)
	t0 := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := clocktest.New(t0)
	opts := runtime.Options{Clock: clock, KeepLogs: true}
	e1 := incarnation(t, path, "b1", opts, askThenEcho)
	ctx := t.Context()

	vA, err := e1.h.StartWithID(ctx, "order-1", testkit.TellerRef("host"), "a")
	require.NoError(t, err)
	infoA := waitFind(t, e1, "order-1", runtime.StateSuspended)
	clock.Advance(time.Minute)
	vB := e1.start("b")
	idB := e1.waitByOutcome(vB.ID(), runtime.StateSuspended).ID
	askedA, ok := e1.host.Asked("approve a")
	require.True(t, ok)
	e1.close()

	clock.Advance(time.Hour)
	e2 := incarnation(t, path, "b2", opts, askThenEcho)
	clock.Advance(time.Minute)
	require.NoError(t, runtime.Resolve(ctx, e2.rt, flow.VowOf[string](askedA), "yes"))
	got, err := e2.wait(vA)
	require.NoError(t, err)
	assert.Equal(t, "a yes", got)
	vC := e2.start("c")
	e2.waitByOutcome(vC.ID(), runtime.StateSuspended)

	ad := e2.rt.Admin()
	a, err := ad.Find(ctx, "order-1")
	require.NoError(t, err)
	assert.Equal(t, infoA.ID, a.ID)
	assert.Equal(t, runtime.StateDone, a.State)
	assert.True(t, a.Created.Equal(t0), "created %v", a.Created)
	assert.True(t, a.Finished.Equal(t0.Add(62*time.Minute)), "finished %v", a.Finished)
	assert.True(t, a.StateSince.Equal(a.Finished))
	assert.Equal(t, "b1", a.CreatedBuild)
	assert.Equal(t, "b2", a.LastBuild)

	byOutcome, err := ad.Find(ctx, vA.ID().String())
	require.NoError(t, err)
	assert.Equal(t, a.ID, byOutcome.ID, "found by its outcome vow")
	byID, err := ad.Find(ctx, idB.String())
	require.NoError(t, err)
	assert.Equal(t, runtime.StateSuspended, byID.State)
	assert.True(t, byID.StateSince.Equal(t0.Add(time.Minute)), "suspended since it asked: %v", byID.StateSince)
	assert.Len(t, byID.Waits, 1)
	_, err = ad.Find(ctx, "order-none")
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation)

	// The timeline of a finished activation, kept for audit.
	log, err := ad.Log(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, log, 3)
	assert.Equal(t, []string{"call", "vow", "call"}, []string{log[0].Kind, log[1].Kind, log[2].Kind})
	assert.Equal(t, []string{"b1", "b2", "b2"}, []string{log[0].Build, log[1].Build, log[2].Build})
	assert.True(t, log[0].At.Equal(t0) && log[2].At.Equal(t0.Add(62*time.Minute)), "%v", log)
	assert.Contains(t, log[0].Text, `service("host").Ask("approve a")`)

	// Listings: newest first, by build, by state, a page at a time.
	all, err := ad.List(ctx, runtime.ListOptions{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, []flow.VowID{vC.ID(), vB.ID(), vA.ID()}, []flow.VowID{all[0].Outcome, all[1].Outcome, all[2].Outcome})
	b1, err := ad.List(ctx, runtime.ListOptions{Build: "b1"})
	require.NoError(t, err)
	assert.Len(t, b1, 2)
	suspended, err := ad.List(ctx, runtime.ListOptions{State: runtime.StateSuspended, Build: "b1"})
	require.NoError(t, err)
	require.Len(t, suspended, 1)
	assert.Equal(t, idB, suspended[0].ID)
	page, err := ad.List(ctx, runtime.ListOptions{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page, 2)
	rest, err := ad.List(ctx, runtime.ListOptions{Limit: 2, After: page[1].Cursor()})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	assert.Equal(t, a.ID, rest[0].ID)
	_, err = ad.List(ctx, runtime.ListOptions{After: "nonsense"})
	assert.ErrorIs(t, err, runtime.ErrBadCursor)
	_, err = ad.List(ctx, runtime.ListOptions{State: "stuck"})
	assert.ErrorIs(t, err, runtime.ErrUnknownState)
	n, err := ad.Count(ctx, runtime.ListOptions{State: runtime.StateSuspended})
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// Purging: done ones finished before the time go, the others stay.
	purged, err := ad.Purge(ctx, a.Finished, nil)
	require.NoError(t, err)
	assert.Zero(t, purged, "finished at that time, not before it")
	var progress []int
	purged, err = ad.Purge(ctx, a.Finished.Add(time.Nanosecond), func(n int) { progress = append(progress, n) })
	require.NoError(t, err)
	assert.Equal(t, 1, purged)
	assert.Equal(t, []int{1}, progress)
	_, err = ad.Find(ctx, "order-1")
	assert.ErrorIs(t, err, runtime.ErrUnknownActivation)
	_, err = ad.Get(ctx, idB)
	assert.NoError(t, err)
}

// TestRetentionPurges runs a runtime that keeps done activations a day:
// at Start it purges those older.
func TestRetentionPurges(t *testing.T) {
	path := tempStore(t)
	t0 := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := clocktest.New(t0)
	e1 := incarnation(t, path, "b1", runtime.Options{Clock: clock}, echoFlow)
	old := e1.start("old")
	_, err := e1.wait(old)
	require.NoError(t, err)
	e1.close()

	clock.Advance(25 * time.Hour)
	e2 := incarnation(t, path, "b1", runtime.Options{Clock: clock, Retention: 24 * time.Hour}, echoFlow)
	recent := e2.start("recent")
	_, err = e2.wait(recent)
	require.NoError(t, err)
	eventually(t, func() bool {
		_, err := e2.rt.Admin().Find(t.Context(), old.ID().String())
		return err != nil
	}, "the old activation purged")
	_, err = e2.rt.Admin().Find(t.Context(), recent.ID().String())
	assert.NoError(t, err, "a recent one stays")
}

func echoFlow(fc flow.Context, h testkit.Teller, a string) (string, error) { return h.Echo(fc, a) }

func waitFind(t *testing.T, e *env, ref string, want runtime.State) runtime.ActivationInfo {
	t.Helper()
	var info runtime.ActivationInfo
	eventually(t, func() bool {
		var err error
		info, err = e.rt.Admin().Find(t.Context(), ref)
		require.NoError(t, err)
		return info.State == want
	}, ref+" "+string(want))
	return info
}

func (e *env) waitByOutcome(v flow.VowID, want runtime.State) runtime.ActivationInfo {
	e.t.Helper()
	return waitFind(e.t, e, v.String(), want)
}

// TestRetryBeforeAnyEntry: an activation whose first host call panicked has
// an empty log; retried once the host is mended, it runs on and is failed no
// more, in the store too.
func TestRetryBeforeAnyEntry(t *testing.T) {
	e := incarnation(t, tempStore(t), "b1", runtime.Options{}, askThenEcho)
	var broken atomic.Bool
	broken.Store(true)
	e.host.SetHook(func(ctx context.Context, method string, args ...any) error {
		if broken.Load() {
			panic("host down")
		}
		return nil
	})
	v := e.start("a")
	info := e.waitByOutcome(v.ID(), runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Equal(t, diag.HostPanic, info.Failure.Problem)
	broken.Store(false)
	require.NoError(t, e.rt.Admin().Retry(t.Context(), info.ID))
	after := e.waitByOutcome(v.ID(), runtime.StateSuspended)
	assert.Nil(t, after.Failure)
}

// syncBuf is a log destination written from several goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStuckIsLoggedAsAttributes: the log line of a stuck activation holds
// the diagnostic as attributes a log system can index, not one escaped
// string of several lines.
func TestStuckIsLoggedAsAttributes(t *testing.T) {
	path := tempStore(t)
	e1 := incarnation(t, path, "b1", runtime.Options{}, askThenEcho)
	v := e1.start("a")
	e1.waitByOutcome(v.ID(), runtime.StateSuspended)
	e1.close()

	var logs syncBuf
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	e2 := incarnation(t, path, "b2", runtime.Options{WakeAll: true, Logger: logger}, func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		return h.Echo(fc, "changed "+a)
	})
	stuck := e2.waitByOutcome(v.ID(), runtime.StateFailed)
	var rec map[string]any
	eventually(t, func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "activation stuck") {
				require.NoError(t, json.Unmarshal([]byte(line), &rec))
				return true
			}
		}
		return false
	}, "the stuck activation logged")
	assert.Equal(t, "WARN", rec["level"])
	assert.Contains(t, rec["msg"], "replay failed")
	assert.Equal(t, stuck.ID.String(), rec["activation"])
	assert.Equal(t, "test.F", rec["flow"])
	assert.Equal(t, "other-call", rec["problem"])
	assert.Equal(t, float64(0), rec["step"])
	assert.Equal(t, `service("host").Ask("approve a") → [vow:`+stuck.Waits[0].String()+`]`, rec["logged"])
	assert.Equal(t, `call service("host").Echo("changed a")`, rec["did"])
	assert.Contains(t, rec["at"], "history_test.go:")
	assert.Equal(t, "b1", rec["logged_build"])
	assert.Equal(t, "b2", rec["failed_build"])
	for k, v := range rec {
		if s, ok := v.(string); ok {
			assert.NotContains(t, s, "\n", "attribute %s is one line", k)
		}
	}
}
