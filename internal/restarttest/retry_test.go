package restarttest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/asyncflow-go/asyncflow/internal/restarttest"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
)

// build compiles a program of this package into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, "github.com/asyncflow-go/asyncflow/internal/restarttest/"+pkg).CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// proc is a running program whose stdout is read line by line.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	p := &proc{cmd: cmd, lines: make(chan string, 100), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// until waits for a line that starts with prefix, skipping others, and
// returns it.
func (p *proc) until(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				err := p.cmd.Wait()
				t.Fatalf("the program ended (%v) before printing %q: %s", err, prefix, p.stderr)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q within a minute: %s", prefix, p.stderr)
		}
	}
}

// kill ends the program with SIGKILL.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	err := p.cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "killed: %v", err)
}

func attempts(t *testing.T, path string) []restarttest.Attempt {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []restarttest.Attempt
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var a restarttest.Attempt
		require.NoError(t, json.Unmarshal([]byte(l), &a))
		out = append(out, a)
	}
	return out
}

// TestRetryBackoffAcrossKill kills the process while a call waits out its
// backoff, twice: once to restart after the next attempt's time (which it
// makes at once), once to restart before it (which it makes only when its
// time comes). The attempts count on across the processes, each keeps the
// call's key and has its own, and none comes before its backoff is over.
func TestRetryBackoffAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program and kills it")
	}
	dir := t.TempDir()
	bin := build(t, dir, "retryprog")
	store, journal := filepath.Join(dir, "retry.db"), filepath.Join(dir, "attempts.jsonl")
	args := []string{"-store", store, "-journal", journal, "-fail", "2"}

	p := startProc(t, bin, args...)
	p.until(t, "BACKOFF 1")
	p.kill(t)
	require.Len(t, attempts(t, journal), 1)
	time.Sleep(1100 * time.Millisecond) // the second attempt's time passes while no process runs

	p = startProc(t, bin, args...)
	p.until(t, "BACKOFF 2") // the second attempt is made at once, and fails
	p.kill(t)

	p = startProc(t, bin, args...) // before the third attempt's time
	assert.Equal(t, "DONE delivered hello", p.until(t, "DONE"))
	require.NoError(t, p.cmd.Wait())

	as := attempts(t, journal)
	require.Len(t, as, 3, "one execution per attempt")
	pids := map[int]bool{}
	for i, a := range as {
		assert.Equal(t, i+1, a.Attempt)
		assert.Equal(t, as[0].Key, a.Key, "every attempt has the call's key")
		assert.Equal(t, a.Key+"#"+string(rune('1'+i)), a.AttemptKey, "and one of its own")
		pids[a.PID] = true
	}
	assert.Len(t, pids, 3, "each attempt was made by another process")
	assert.GreaterOrEqual(t, time.Duration(as[1].At-as[0].At), time.Second, "the first backoff is 1s")
	assert.GreaterOrEqual(t, time.Duration(as[2].At-as[1].At), 2*time.Second, "the second is 2s, though the process restarted within it")

	st, err := sqlitestore.Open(context.Background(), store, sqlitestore.Options{})
	require.NoError(t, err)
	defer st.Close(context.Background())
	require.NoError(t, st.Check(context.Background()))
}
