package talktest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/talktest"
)

var (
	buildOnce   sync.Once
	binDir      string
	buildErr    error
	talkprogBin string // the test's program
	asyncflow   string // the operators' command
)

// build builds the program and the operators' command once per test run.
func build(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "talktest")
		if buildErr != nil {
			return
		}
		talkprogBin, asyncflow = filepath.Join(binDir, "talkprog"), filepath.Join(binDir, "asyncflow")
		for bin, pkg := range map[string]string{talkprogBin: "./talkprog", asyncflow: "../../cmd/asyncflow"} {
			out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	require.NoError(t, buildErr)
}

func talkprog(t *testing.T) string {
	t.Helper()
	build(t)
	return talkprogBin
}

// show runs the operators' command's show on the store, as a tool reads a
// store no process holds.
func show(t *testing.T, dir, ref string) string {
	t.Helper()
	build(t)
	cmd := exec.Command(asyncflow, "-store", filepath.Join(dir, "talk.db"), "show", ref)
	cmd.Env = append(os.Environ(), "ASYNCFLOW_ADDR=", "ASYNCFLOW_STORE=", "ASYNCFLOW_TOKEN=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "asyncflow show %s: %s", ref, out)
	return string(out)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// prog is one run of the program.
type prog struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, dir, mode string) *prog {
	t.Helper()
	cmd := exec.Command(talkprog(t), "-mode", mode, "-store", filepath.Join(dir, "talk.db"), "-journal", filepath.Join(dir, "effects.jsonl"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &prog{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// next returns the next line that starts with prefix, skipping others.
func (p *prog) next(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-p.lines:
			require.True(t, ok, "the program ended before printing %s", prefix)
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
		case <-timeout:
			t.Fatalf("no %s line within a minute", prefix)
		}
	}
}

// finish waits for the program to end, and requires it to succeed.
func (p *prog) finish(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Wait())
}

// TestTalkAcrossAKill runs an order in a real process until its child waits
// for the warehouse, kills the process with SIGKILL, and, while no process
// runs, sends the child and the order their messages from another process
// (one of them twice with one idempotency key) and reads the order's
// progress without running it. The next process finishes the order: the
// child replays and takes its message, the order takes the carriers'
// reports in the order they were sent, each once, and what it drew before
// the kill — its UUID and its number — replays unchanged. The finished order
// refuses another message.
func TestTalkAcrossAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	dir := t.TempDir()

	first := start(t, dir, "run")
	before := strings.Fields(first.next(t, "PROGRESS"))
	require.Len(t, before, 3)
	assert.Equal(t, "packing", before[0])
	ref, seq := before[1], before[2]
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, ref)
	first.next(t, "WAITING")
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	err := first.cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())

	sender := start(t, dir, "send")
	assert.Equal(t, "packing "+ref+" "+seq, sender.next(t, "PROGRESS"), "the status is read while no process runs the order")
	sender.next(t, "SENT")
	sender.finish(t)
	shown := show(t, dir, "o-1")
	assert.Regexp(t, `status progress\s+\{Ref: "`+ref+`", Seq: `+seq+`, Stage: "packing"\}`, shown, "an operator reads the status by start key")
	assert.Regexp(t, `mailbox shipped\s+#1 \{Carrier: "ups"\} \(key "hook-1"\)`, shown, "and what waits in the mailbox: one ups, taken once")
	assert.Regexp(t, `mailbox shipped\s+#2 \{Carrier: "dhl", Delivered: true\}`, shown)
	assert.Regexp(t, `children\s+[0-9a-f]{32}`, shown)

	second := start(t, dir, "run")
	var got talktest.Summary
	require.NoError(t, json.Unmarshal([]byte(second.next(t, "OUTCOME")), &got))
	second.finish(t)
	assert.Equal(t, ref, got.Ref, "the UUID drawn before the kill replays")
	assert.Equal(t, seq, uintString(got.Seq), "so does the number")
	assert.Equal(t, "parcel o-1, checked by ann", got.Label, "the child took the message sent while it was down")
	assert.Equal(t, []string{"ups", "dhl"}, got.Carriers, "in order, the webhook sent twice taken once")

	effects := journal(t, filepath.Join(dir, "effects.jsonl"))
	require.Len(t, effects, 1, "the warehouse packed once: the child's replay calls no host")
	assert.Equal(t, ref, effects[0]["ref"])

	late := start(t, dir, "late")
	assert.Contains(t, late.next(t, "REFUSED"), "activation already finished")
	assert.Equal(t, "delivered "+ref+" "+seq, late.next(t, "PROGRESS"), "its last status stays readable")
	late.finish(t)
	shown = show(t, dir, "o-1")
	assert.Regexp(t, `state\s+done`, shown)
	assert.Regexp(t, `status progress\s+\{Ref: "`+ref+`", Seq: `+seq+`, Stage: "delivered"\}`, shown)
}

func uintString(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func journal(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}
