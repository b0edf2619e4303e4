package runtime_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/smallfs"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/clocktest"
	"github.com/asyncflow-go/asyncflow/runtime/diag"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// logLines is a slog handler's output, line by line, with the time each
// line was written.
type logLines struct {
	mu    sync.Mutex
	lines []string
	at    []time.Time
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, line)
		l.at = append(l.at, time.Now())
	}
	return len(p), nil
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// between returns the lines written in [from, to).
func (l *logLines) between(from, to time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for i, at := range l.at {
		if !at.Before(from) && at.Before(to) {
			out = append(out, l.lines[i])
		}
	}
	return out
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// fullStore opens a runtime on a store on a small file system of its own,
// logging into lines.
func fullStore(t *testing.T, size int64, clock runtime.Clock, lines *logLines, f flowFunc) (*env, string) {
	t.Helper()
	dir := smallfs.Mount(t, size)
	opts := runtime.Options{Logger: lines.logger()}
	if clock != nil {
		opts.Clock = clock
	}
	return incarnation(t, filepath.Join(dir, "app.db"), "b", opts, f), dir
}

// firingStore is a store that counts the submissions that fire timers.
type firingStore struct {
	store.Store
	fires atomic.Int64
}

func (s *firingStore) Submit(ops ...store.Op) *store.Pending {
	for _, op := range ops {
		if _, ok := op.(*store.FireTimers); ok {
			s.fires.Add(1)
		}
	}
	return s.Store.Submit(ops...)
}

// TestTimersBackOffWhenTheyCannotFire: a timer due while the disk is full
// cannot fire. The timer loop waits and tries again, quietly, rather than
// fire it again at once, and the timer fires once there is room.
func TestTimersBackOffWhenTheyCannotFire(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	var lines logLines
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		flow.Sleep(fc, time.Minute)
		return "woke", nil
	}
	dir := smallfs.Mount(t, 4<<20)
	path := filepath.Join(dir, "app.db")
	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	counted := &firingStore{Store: st}
	e := incarnationOn(t, st, path, "b", runtime.Options{Logger: lines.logger(), Clock: clock, Store: counted}, body)
	v := e.start("")
	e.waitState(e.only().ID, runtime.StateSuspended)
	ballast := smallfs.Fill(t, dir, 0)

	full := time.Now()
	before := counted.fires.Load()
	clock.Advance(time.Minute) // due, and the store cannot take it
	time.Sleep(time.Second)
	fires := counted.fires.Load() - before
	took := time.Since(full)
	during := lines.between(full, time.Now())
	t.Logf("in the %v the timer could not fire: %d attempts to fire it, %d lines logged", took.Round(time.Millisecond), fires, len(during))
	// Backing off from 10ms, doubling up to a second (with jitter, at least
	// half of it), is some 8 attempts in the first second and at most 2 a
	// second after that, however long the sleep took on a busy machine.
	// Firing again at once was thousands a second.
	most := 10 + 2*int64(took/time.Second)
	assert.LessOrEqual(t, fires, most, "the timer loop backs off")
	assert.Positive(t, fires, "the timer was due")
	assert.LessOrEqual(t, len(during), 3, "quiet while full: %s", strings.Join(first(during, 5), "\n"))

	require.NoError(t, os.Remove(ballast))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := runtime.Wait(ctx, e.rt, v)
	require.NoError(t, err, "the timer fires once there is room")
	assert.Equal(t, "woke", got)
}

func first(lines []string, n int) []string {
	if len(lines) > n {
		return lines[:n]
	}
	return lines
}

// TestStoreRefusalFailsTheActivation: an entry the store refuses for good (a
// host result over its size limit) fails the activation with a diagnostic
// that says so; Wait returns instead of hanging, and the host call is not
// made again in this incarnation.
func TestStoreRefusalFailsTheActivation(t *testing.T) {
	path := tempStore(t)
	st, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{MaxValueSize: 32 << 10})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	var lines logLines
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		big, err := h.Echo(fc, strings.Repeat("x", 64<<10))
		if err != nil {
			return "", err
		}
		return h.Echo(fc, fmt.Sprint(len(big)))
	}
	e := incarnationOn(t, st, path, "b", runtime.Options{Logger: lines.logger()}, body)
	v := e.start("")
	id := e.only().ID

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = runtime.Wait(ctx, e.rt, v)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "Wait does not hang")
	assert.ErrorIs(t, err, runtime.ErrStuck)
	info := e.waitState(id, runtime.StateFailed)
	require.NotNil(t, info.Failure)
	assert.Equal(t, diag.StoreRefused, info.Failure.Problem)
	assert.Contains(t, info.Failure.Detail, "over the store's limit")
	assert.Equal(t, []string{"Echo"}, e.host.Methods(), "the call was made once and nothing after it")
	assert.Equal(t, 1, lines.count("activation stuck"))
}

// incarnationOn is incarnation on a store the test opened, or on
// opts.Store, which wraps it.
func incarnationOn(t *testing.T, st *sqlitestore.Store, path, build string, opts runtime.Options, f flowFunc) *env {
	t.Helper()
	opts.Build = build
	if opts.Store == nil {
		opts.Store = st // or a store around it
	}
	if opts.ReplayStall == 0 {
		opts.ReplayStall = 10 * time.Second
	}
	rt, err := runtime.Open(t.Context(), path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	e := &env{t: t, path: path, st: st, rt: rt}
	e.host = &testkit.Recorder{NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) }}
	testkit.ProvideTeller(rt, "host", e.host)
	e.h = testkit.Register(rt, "test.F", f)
	require.NoError(t, rt.Start(t.Context()))
	return e
}

// TestFullDisk runs flows on a small real file system and fills it under
// them. While it is full they wait, and the log says so once; when space
// comes back every flow carries on and finishes in the same incarnation,
// and nothing the store acknowledged is lost. It reports how long the flows
// took to finish once space was back, and how many lines were logged while
// the disk was full.
func TestFullDisk(t *testing.T) {
	const flows, steps = 140, 30
	var lines logLines
	body := func(fc flow.Context, h testkit.Teller, a string) (string, error) {
		var sum int64
		for i := range steps {
			// Entries of some 4 KiB: what is left to write when the disk
			// fills is more than the room SQLite has in files it made before.
			s, err := h.Echo(fc, strings.Repeat(a, 512))
			if err != nil {
				return "", err
			}
			if sum, err = h.Add(fc, sum, int64(len(s)+i)); err != nil {
				return "", err
			}
		}
		return fmt.Sprint(sum), nil
	}
	e, dir := fullStore(t, 32<<20, nil, &lines, body)
	var calls atomic.Int64
	gate := make(chan struct{})
	e.host.Hook = func(ctx context.Context, method string, args ...any) error {
		<-gate // every flow started before any goes far
		calls.Add(1)
		time.Sleep(2 * time.Millisecond) // a host with some latency, so flows are under way when the disk fills
		return nil
	}
	gen := e.rt.Generation()
	vows := make([]flow.Vow[string], flows)
	want := make([]string, flows)
	for i := range vows {
		arg := fmt.Sprintf("f%03d", i)
		vows[i] = e.start(arg)
		sum := 0
		for j := range steps {
			sum += 512*len(arg) + j
		}
		want[i] = fmt.Sprint(sum)
	}
	close(gate)
	// A quarter of the way: what SQLite can still write in room its files
	// hold already is less than what is left to write.
	eventually(t, func() bool { return calls.Load() >= 2*flows*steps/4 }, "flows under way")
	filled := time.Now()
	ballast := smallfs.Fill(t, dir, 0)
	eventually(t, func() bool { return lines.count("store not writable") > 0 }, "the store to find the disk full")
	time.Sleep(3 * time.Second)

	doneIn := func(st store.Store) int {
		n := 0
		for _, v := range vows {
			if s, err := st.Vow(t.Context(), v.ID()); err == nil && s.State != 0 {
				n++
			}
		}
		return n
	}
	done := doneIn(e.st)
	require.Less(t, done, flows, "some flows were stopped by the full disk")

	// What a process killed now would leave opens, wherever there is room:
	// a checkpoint that could not grow the file has left it shorter than
	// its header says, the pages in the WAL, and the store is whole.
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, "app.db"+suffix))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(crashed+suffix, b, 0o644))
	}
	torn := tornFile(t, crashed)
	doneAfter := doneIn(e.st)
	c, err := sqlitestore.Open(t.Context(), crashed, sqlitestore.Options{})
	require.NoError(t, err, "a store left by a process killed on a full disk opens")
	require.NoError(t, c.Check(t.Context()))
	inCopy := doneIn(c)
	assert.True(t, done <= inCopy && inCopy <= doneAfter, "the copy holds the outcomes settled when it was made: %d, %d, %d", done, inCopy, doneAfter)
	require.NoError(t, c.Close(t.Context()))
	before := calls.Load()
	require.NoError(t, os.Remove(ballast))
	back := time.Now()
	whileFull := lines.between(filled, back)
	var carriedOn time.Duration
	go func() {
		for calls.Load() == before && time.Since(back) < 20*time.Second {
			time.Sleep(time.Millisecond)
		}
		carriedOn = time.Since(back)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	finished := 0
	for i, v := range vows {
		got, err := runtime.Wait(ctx, e.rt, v)
		if assert.NoError(t, err, "flow %d", i) {
			finished++
			assert.Equal(t, want[i], got, "flow %d", i)
		}
	}
	recovered := time.Since(back)
	assert.Equal(t, gen, e.rt.Generation())
	t.Logf("%d flows, %d done when the disk filled; once space came back the first host call after %v, and %d flows done after %v; %d lines logged in the %v the disk was full: %s",
		flows, done, carriedOn.Round(time.Millisecond), finished, recovered.Round(time.Millisecond), len(whileFull), back.Sub(filled).Round(time.Millisecond), strings.Join(first(whileFull, 3), " | "))
	t.Logf("a copy made while full, as a killed process leaves the files, was torn by a checkpoint: %v; it opened whole", torn)
	require.Equal(t, flows, finished, "every flow finishes in the same incarnation")
	if assert.Len(t, whileFull, 1, "quiet while full: one line that says so, and nothing after it") {
		assert.Contains(t, whileFull[0], "store not writable, retrying")
	}
	// Every host call was made once: nothing the store took was lost, and
	// no activation was replayed to make its calls again.
	made := map[string]int{}
	for _, c := range e.host.Calls() {
		made[c.Method+" "+c.Key]++
	}
	assert.Len(t, made, 2*flows*steps, "every call made")
	for call, n := range made {
		assert.Equal(t, 1, n, "%s made %d times", call, n)
	}
	eventually(t, func() bool { return lines.count("store writable again") > 0 }, "the line that says the store is writable again")
	assert.Equal(t, 1, lines.count("store not writable"), "one line when it fills")
	assert.Equal(t, 1, lines.count("store writable again"), "one line when it is writable again")
	assert.Zero(t, lines.count("activation stuck"))
	assert.Zero(t, lines.count("level=ERROR"))

	// Nothing acknowledged is lost: the next incarnation finds every
	// outcome, and the store whole.
	e.close()
	e2 := incarnation(t, e.path, "b", runtime.Options{}, body)
	for i, v := range vows {
		got, err := e2.wait(v)
		require.NoError(t, err)
		assert.Equal(t, want[i], got)
	}
	require.NoError(t, e2.rt.Admin().Check(t.Context()))
}

// tornFile reports whether the SQLite file at path holds fewer pages than
// its header says.
func tornFile(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(b) < 100 {
		return false
	}
	pageSize := int64(binary.BigEndian.Uint16(b[16:]))
	pages := int64(binary.BigEndian.Uint32(b[28:]))
	return pages*pageSize > int64(len(b))
}
