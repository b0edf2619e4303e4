package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// The binaries under test, built once: the command and a host program.
var asyncflowBin, hostBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "asyncflow-e2e-")
	if err != nil {
		panic(err)
	}
	asyncflowBin, hostBin = filepath.Join(dir, "asyncflow"), filepath.Join(dir, "opshost")
	for bin, pkg := range map[string]string{asyncflowBin: "../../cmd/asyncflow", hostBin: "../../internal/opshost"} {
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the command.
type result struct {
	out, err string
	code     int
}

// af runs asyncflow with args.
func af(t *testing.T, args ...string) result {
	t.Helper()
	return runBin(t, asyncflowBin, args...)
}

// runBin runs a binary with args, outside any environment that would name
// a store, an address or a token.
func runBin(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ASYNCFLOW_TOKEN=", "ASYNCFLOW_STORE=", "ASYNCFLOW_ADDR=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{out: out.String(), err: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

// ok runs asyncflow and requires it to succeed.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := af(t, args...)
	require.Equal(t, 0, r.code, "asyncflow %s: %s%s", strings.Join(args, " "), r.out, r.err)
	return r.out
}

func showJSON(t *testing.T, args ...string) runtime.ActivationInfo {
	t.Helper()
	var a runtime.ActivationInfo
	require.NoError(t, json.Unmarshal([]byte(ok(t, append(args, "-json")...)), &a))
	return a
}

// syncBuffer is a buffer that may be read while it is written.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// host is a running opshost.
type host struct {
	addr string
	pid  int
	stop func()
}

func startHost(t *testing.T, args ...string) *host {
	t.Helper()
	cmd := exec.Command(hostBin, args...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var errOut syncBuffer // written by the goroutine that copies the host's stderr
	cmd.Stderr = &errOut
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "host: %s", errOut.String())
	addr, found := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	require.True(t, found, line)
	stopped := false
	h := &host{addr: addr, pid: cmd.Process.Pid}
	h.stop = func() {
		if stopped {
			return
		}
		stopped = true
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			assert.NoError(t, err, "host: %s", errOut.String())
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("host did not stop: %s", errOut.String())
		}
	}
	t.Cleanup(h.stop)
	return h
}

// waitState polls show until the activation is in the state.
func waitState(t *testing.T, want runtime.State, args ...string) runtime.ActivationInfo {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := showJSON(t, args...)
		if a.State == want {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v is %s, not %s", args, a.State, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dirSums returns each file of dir and a hash of its bytes.
func dirSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

// TestOperatingAStore drives the command as an operator would, on a store
// that three builds of a host program run in turn: through the admin
// handler of the running process, and on the store file once none runs.
func TestOperatingAStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	broken := filepath.Join(t.TempDir(), "ledger-down")
	const token = "s3cret-token-for-tests"

	// v1 starts three approvals; the third is answered and finishes.
	h1 := startHost(t, "-store", path, "-build", "v1", "-start", "order-1,order-2,order-3", "-answer", "order-3", "-token", token)
	live := []string{"-addr", h1.addr, "-token", token}
	waitState(t, runtime.StateSuspended, append(live, "show", "order-1")...)
	waitState(t, runtime.StateSuspended, append(live, "show", "order-2")...)
	waitState(t, runtime.StateDone, append(live, "show", "order-3")...)
	h1.stop()

	// v1 again with the ledger down: a new activation fails in the host;
	// once the ledger is back, retry runs it on.
	require.NoError(t, os.WriteFile(broken, nil, 0o644))
	h2 := startHost(t, "-store", path, "-build", "v1", "-start", "order-4", "-broken", broken, "-token", token)
	live = []string{"-addr", h2.addr, "-token", token}
	a4 := waitState(t, runtime.StateFailed, append(live, "show", "order-4")...)
	require.NotNil(t, a4.Failure)
	assert.Equal(t, "host-panic", string(a4.Failure.Problem))
	assert.Contains(t, a4.Failure.Detail, "ledger unreachable")

	failures := ok(t, append(live, "failures")...)
	assert.Contains(t, failures, "order-4")
	assert.Contains(t, failures, "a host method panicked")

	// Bad input through the handler: clear errors, exit codes, no change.
	r := af(t, "-addr", h2.addr, "-token", "wrong", "list")
	assert.Equal(t, 7, r.code, r.err)
	assert.Contains(t, r.err, "wrong token")
	r = af(t, "-addr", h2.addr, "retry", "order-4")
	assert.Equal(t, 7, r.code, "no token, no mutation: %s", r.err)
	r = af(t, append(live, "show", "order-404")...)
	assert.Equal(t, 3, r.code, r.err)
	assert.Contains(t, r.err, `"order-404" is no activation's id, outcome or start key`)
	r = af(t, append(live, "retry", "order-1")...)
	assert.Equal(t, 4, r.code, "order-1 is not failed: %s", r.err)
	assert.Contains(t, r.err, "not failed")
	r = af(t, "-addr", "http://127.0.0.1:1/asyncflow/", "list")
	assert.Equal(t, 8, r.code, r.err)

	// The store file is in use: reading it says by whom, and waits for
	// nothing.
	begun := time.Now()
	r = af(t, "-store", path, "list")
	assert.Equal(t, 6, r.code, r.err)
	assert.Contains(t, r.err, "in use by process "+strconv.Itoa(h2.pid)+"; use -addr to reach it through its admin handler")
	assert.Less(t, time.Since(begun), 5*time.Second)
	assert.Equal(t, runtime.StateFailed, showJSON(t, append(live, "show", "order-4")...).State, "nothing changed")

	require.NoError(t, os.Remove(broken))
	out := ok(t, append(live, "retry", "order-4")...)
	assert.Contains(t, out, "Retried ops.Approve")
	assert.NotContains(t, out, "now failed", "retry answers once the replay has gone on live")
	if a := waitState(t, runtime.StateSuspended, append(live, "show", "order-4")...); a.Failure != nil {
		t.Log(a.Failure.Error())
	}
	h2.stop()

	// v2 changed the greeting: waking every activation at start finds the
	// three waiting ones stuck.
	h3 := startHost(t, "-store", path, "-build", "v2", "-variant", "v2", "-wake-all", "-token", token)
	live = []string{"-addr", h3.addr, "-token", token}
	for _, key := range []string{"order-1", "order-2", "order-4"} {
		waitState(t, runtime.StateFailed, append(live, "show", key)...)
	}
	list := ok(t, append(live, "list", "-state", "failed")...)
	for _, key := range []string{"order-1", "order-2", "order-4"} {
		assert.Contains(t, list, key)
	}
	assert.NotContains(t, list, "order-3")
	assert.Contains(t, list, "other-arguments")
	var page struct {
		Activations []runtime.ActivationInfo
		Next        string
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, append(live, "list", "-state", "failed", "-json")...)), &page))
	assert.Len(t, page.Activations, 3)

	show := ok(t, append(live, "show", "order-1")...)
	assert.Contains(t, show, `logged:    service("host").Echo("hi order-1")`)
	assert.Contains(t, show, `code did:  call service("host").Echo("hello order-1")`)
	assert.Contains(t, show, "registered    yes")
	assert.Contains(t, show, "logged by: incarnation 1, build v1")
	logOut := ok(t, append(live, "log", "order-1")...)
	assert.Contains(t, logOut, `▶0`)
	assert.Contains(t, logOut, `service("host").Ask("approve order-1")`)
	assert.Regexp(t, `1\s+call\s+\S+ \S+\s+v1\s+service\("host"\)\.Ask`, logOut)

	out = ok(t, append(live, "cancel", "-reason", "changed my mind", "order-1")...)
	assert.Contains(t, out, "Requested cancellation of")
	out = ok(t, append(live, "terminate", "order-1")...)
	assert.Contains(t, out, "now done")
	r = af(t, append(live, "terminate", "order-1")...)
	assert.Equal(t, 4, r.code, "a second terminate is refused: %s", r.err)
	r = af(t, append(live, "cancel", "order-1")...)
	assert.Equal(t, 4, r.code, "and so is a cancel of one done: %s", r.err)
	h3.stop()

	// On the file, with no process: reads never write.
	before := dirSums(t, dir)
	file := []string{"-store", path}
	list = ok(t, append(file, "list")...)
	for _, key := range []string{"order-1", "order-2", "order-3", "order-4"} {
		assert.Contains(t, list, key)
	}
	assert.Contains(t, ok(t, append(file, "show", "order-2")...), `code did:  call service("host").Echo("hello order-2")`)
	assert.Contains(t, ok(t, append(file, "log", "order-2")...), `service("host").Echo("hi order-2")`)
	assert.Contains(t, ok(t, append(file, "failures")...), "order-4")
	assert.Equal(t, before, dirSums(t, dir), "reading the store changed nothing in its directory")

	r = af(t, append(file, "retry", "order-4")...)
	assert.Equal(t, 4, r.code)
	assert.Contains(t, r.err, "needs a running process")
	r = af(t, append(file, "unregistered")...)
	assert.Equal(t, 4, r.code)
	r = af(t, append(file, "show", "nope")...)
	assert.Equal(t, 3, r.code)
	assert.Equal(t, before, dirSums(t, dir), "refused commands changed nothing")

	out = ok(t, append(file, "terminate", "order-2")...)
	assert.Contains(t, out, "Terminated ops.Approve")

	// The results, in the store.
	ctx := context.Background()
	s, err := sqlitestore.OpenReadOnly(ctx, path, sqlitestore.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	for key, want := range map[string]store.State{"order-1": store.Done, "order-2": store.Done, "order-3": store.Done, "order-4": store.Failed} {
		got, err := s.ActivationsByKey(ctx, key)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, want, got[0].State, key)
		if key == "order-1" || key == "order-2" {
			v, err := s.Vow(ctx, got[0].Outcome)
			require.NoError(t, err)
			assert.Equal(t, store.VowRejected, v.State, "%s was terminated", key)
			d := codec.NewDecoder(v.Payload)
			assert.ErrorIs(t, d.DecodeError(), flow.ErrTerminated)
		}
	}
}

// TestRefusesWhatIsNotAStore: a file that is not a store, a database of
// another program, a missing file — each a clear error and exit code, and
// each left as it was.
func TestRefusesWhatIsNotAStore(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte(strings.Repeat("not a database\n", 20)), 0o644))
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('ann')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	before := dirSums(t, dir)

	for _, c := range []struct{ path, want string }{
		{notes, "not a SQLite database"},
		{other, "a SQLite database of another application"},
		{filepath.Join(dir, "missing.db"), "there is no such file"},
	} {
		for _, cmd := range [][]string{{"list"}, {"terminate", "order-1"}, {"purge", "-older-than", "1d"}} {
			r := af(t, append([]string{"-store", c.path}, cmd...)...)
			assert.Equal(t, 5, r.code, "%s %v: %s", c.path, cmd, r.err)
			assert.Contains(t, r.err, c.want)
		}
	}
	r := af(t, "-store", notes, "list", "-json")
	var e struct {
		Error, Code string
		Exit        int
	}
	require.NoError(t, json.Unmarshal([]byte(r.err), &e), r.err)
	assert.Equal(t, "not_store", e.Code)
	assert.Equal(t, 5, e.Exit)
	assert.Equal(t, before, dirSums(t, dir), "nothing was written")

	r = af(t, "list")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.err, "-store PATH")
	r = af(t, "frobnicate")
	assert.Equal(t, 2, r.code)
	r = af(t, "-store", notes, "list", "-state", "stuck")
	assert.Equal(t, 2, r.code)
	help := af(t, "help")
	assert.Equal(t, 0, help.code)
	assert.Contains(t, help.out, "Exit codes:")
}
