// Package scenario drives the fulfilment example: it builds the four builds
// (and their replay-gate tests), runs them as separate processes on one
// store, asks a running one for a snapshot of its store, kills them, runs
// the gate, and reads back what they reported and what the world saw (the
// journal). The fulfilment test asserts on it; the demo narrates it.
package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/asyncflow-go/asyncflow/examples/fulfilment/shop"
)

// Builds are the example's builds, in order.
var Builds = []string{"v1", "v2", "v3", "v4"}

const modulePath = "github.com/asyncflow-go/asyncflow/examples/fulfilment/"

// Scenario is one run of the example in a directory.
type Scenario struct {
	Dir     string
	Store   string
	Journal string
	goTool  string
	bins    map[string]string
}

// Build compiles every build, and the replay-gate test of each, into
// dir/bin, and returns a scenario whose store and journal live in dir.
func Build(ctx context.Context, dir string) (*Scenario, error) {
	s := &Scenario{Dir: dir, Store: filepath.Join(dir, "shop.db"), Journal: filepath.Join(dir, "journal.jsonl"), bins: map[string]string{}}
	var err error
	if s.goTool, err = exec.LookPath("go"); err != nil {
		return nil, fmt.Errorf("the go command is needed to build the example: %w", err)
	}
	for _, b := range Builds {
		out := filepath.Join(dir, "bin", b)
		if msg, err := exec.CommandContext(ctx, s.goTool, "build", "-o", out, modulePath+b).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", b, err, msg)
		}
		s.bins[b] = out
		if msg, err := exec.CommandContext(ctx, s.goTool, "test", "-c", "-o", out+".test", modulePath+b).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go test -c %s: %w\n%s", b, err, msg)
		}
	}
	return s, nil
}

func (s *Scenario) command(ctx context.Context, build string, args ...string) *exec.Cmd {
	args = append([]string{"-store", s.Store, "-journal", s.Journal}, args...)
	return exec.CommandContext(ctx, s.bins[build], args...)
}

// Result is what a build printed about the activations once quiet.
type Result struct {
	Build      string
	Generation int
	Reports    []shop.Report
}

// ByKey returns the report of the order started with id key.
func (r *Result) ByKey(key string) (shop.Report, bool) {
	for _, rep := range r.Reports {
		if rep.StartKey == key {
			return rep, true
		}
	}
	return shop.Report{}, false
}

// read reads a build's output up to QUIET.
func read(sc *bufio.Scanner, res *Result) error {
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "BUILD "):
			if _, err := fmt.Sscanf(line, "BUILD %s GENERATION %d", &res.Build, &res.Generation); err != nil {
				return fmt.Errorf("%q: %w", line, err)
			}
		case strings.HasPrefix(line, "{"):
			var r shop.Report
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return fmt.Errorf("%q: %w", line, err)
			}
			res.Reports = append(res.Reports, r)
		case line == "QUIET":
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

// Proc is a build running, quiet and holding the store, until killed.
type Proc struct {
	Result
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr *strings.Builder
}

// Hold runs a build until it is quiet, and leaves it running, holding the
// store.
func (s *Scenario) Hold(ctx context.Context, build string, args ...string) (*Proc, error) {
	p := &Proc{cmd: s.command(ctx, build, append(args, "-hold")...), stderr: &strings.Builder{}}
	p.cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(make([]byte, 1<<20), 1<<20)
	if err := read(p.out, &p.Result); err != nil {
		_ = p.Kill()
		return nil, fmt.Errorf("%s: %w: %s", build, err, p.stderr)
	}
	if !p.out.Scan() || p.out.Text() != "READY" {
		_ = p.Kill()
		return nil, fmt.Errorf("%s did not get ready: %s", build, p.stderr)
	}
	return p, nil
}

// Snapshot asks the running build for a consistent copy of its store at
// path (Admin().Backup).
func (p *Proc) Snapshot(path string) error {
	if _, err := fmt.Fprintf(p.stdin, "snapshot %s\n", path); err != nil {
		return err
	}
	if !p.out.Scan() {
		return fmt.Errorf("no answer to snapshot: %s", p.stderr)
	}
	if got := p.out.Text(); got != "SNAPSHOT "+path {
		return fmt.Errorf("snapshot: %s", got)
	}
	return nil
}

// Kill sends SIGKILL and reaps the process.
func (p *Proc) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil // killed, as asked
	}
	return err
}

// Run runs a build until it is quiet, and lets it exit.
func (s *Scenario) Run(ctx context.Context, build string, args ...string) (*Result, error) {
	cmd := s.command(ctx, build, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", build, err, stderr.String())
	}
	res := &Result{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if err := read(sc, res); err != nil {
		return nil, fmt.Errorf("%s: %w", build, err)
	}
	return res, nil
}

// Gate is what the replay gate of a build said about a snapshot.
type Gate struct {
	Passed bool
	Lines  []shop.GateLine // one per unfinished activation, by start key
	Text   string          // the report, as a person reads it
}

// Problems returns the lines of the activations that do not replay.
func (g *Gate) Problems() []shop.GateLine {
	var out []shop.GateLine
	for _, l := range g.Lines {
		if l.Verdict != "replays" {
			out = append(out, l)
		}
	}
	return out
}

// Verify runs a build's replay gate against a snapshot: the build with
// -verify, as a deploy script would.
func (s *Scenario) Verify(ctx context.Context, build, snapshot string) (*Gate, error) {
	cmd := exec.CommandContext(ctx, s.bins[build], "-verify", snapshot)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	g := &Gate{Passed: err == nil}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, err
	}
	var text strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "{") {
			var l shop.GateLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
			g.Lines = append(g.Lines, l)
			continue
		}
		text.WriteString(line + "\n")
	}
	g.Text = strings.TrimRight(text.String(), "\n")
	if !g.Passed && !strings.Contains(stderr.String(), "the replay gate failed") {
		return nil, fmt.Errorf("%s -verify: %s", build, stderr.String())
	}
	return g, nil
}

// GateTest runs a build's replay-gate test (flowtest.ReplayStore, as CI
// runs it) against a snapshot, and returns whether it passed and its output.
func (s *Scenario) GateTest(ctx context.Context, build, snapshot string) (bool, string, error) {
	cmd := exec.CommandContext(ctx, s.bins[build]+".test", "-test.run", "TestReplayGate", "-test.v")
	cmd.Env = append(os.Environ(), "FULFILMENT_SNAPSHOT="+snapshot)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return false, string(out), err
	}
	return err == nil, string(out), nil
}

// Effects reads the journal: everything the world saw.
func (s *Scenario) Effects() ([]shop.Effect, error) {
	return shop.ReadJournal(s.Journal)
}

// LineOf returns the line number of the first line of a build's main.go, in
// sourceDir, that contains text: for checking the source position a
// diagnostic names.
func LineOf(sourceDir, build, text string) (int, error) {
	b, err := os.ReadFile(filepath.Join(sourceDir, build, "main.go"))
	if err != nil {
		return 0, err
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("%s/main.go has no line with %q", build, text)
}
