// Package scenario drives the upgrade example: it builds the three builds,
// runs them as separate processes on one store, kills them, and reads back
// what they reported, what the world saw (the journal) and what the store
// holds. The upgrade test asserts on it; the demo narrates it.
package scenario

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	_ "modernc.org/sqlite" // read the store after the programs exit

	"github.com/asyncflow-go/asyncflow/examples/upgrade/payments"
)

// Builds are the example's builds, in order.
var Builds = []string{"v1", "v2", "v3"}

const modulePath = "github.com/asyncflow-go/asyncflow/examples/upgrade/"

// Scenario is one run of the example in a directory.
type Scenario struct {
	Dir     string
	Store   string
	Journal string
	bins    map[string]string
}

// Build compiles every build into dir/bin and returns a scenario whose store
// and journal live in dir.
func Build(ctx context.Context, dir string) (*Scenario, error) {
	s := &Scenario{Dir: dir, Store: filepath.Join(dir, "payments.db"), Journal: filepath.Join(dir, "journal.jsonl"), bins: map[string]string{}}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is needed to build the example: %w", err)
	}
	for _, b := range Builds {
		out := filepath.Join(dir, "bin", b)
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, modulePath+b)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", b, err, msg)
		}
		s.bins[b] = out
	}
	return s, nil
}

// Result is what a build printed when it finished.
type Result struct {
	Build      string
	Generation int
	Reports    []payments.Report
	Stderr     string
}

// ByKey returns the report of the activation started with key.
func (r *Result) ByKey(key string) (payments.Report, bool) {
	for _, rep := range r.Reports {
		if rep.StartKey == key {
			return rep, true
		}
	}
	return payments.Report{}, false
}

func (s *Scenario) command(ctx context.Context, build string, args ...string) *exec.Cmd {
	args = append([]string{"-store", s.Store, "-journal", s.Journal}, args...)
	return exec.CommandContext(ctx, s.bins[build], args...)
}

// StartUntilReady runs a build until it prints READY, and returns the running
// process (to be killed) with its build id.
func (s *Scenario) StartUntilReady(ctx context.Context, build string, args ...string) (*exec.Cmd, string, error) {
	cmd := s.command(ctx, build, append(args, "-until", "suspended")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(stdout)
	var buildID string
	for sc.Scan() {
		line := sc.Text()
		if id, ok := parseBuildLine(line); ok {
			buildID = id
		}
		if line == "READY" {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return cmd, buildID, nil
		}
	}
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("%s exited before it was ready: %s", build, stderr.String())
}

func parseBuildLine(line string) (string, bool) {
	var id string
	var gen int
	if _, err := fmt.Sscanf(line, "BUILD %s GENERATION %d", &id, &gen); err == nil {
		return id, true
	}
	return "", false
}

// Kill sends SIGKILL and reaps the process.
func Kill(cmd *exec.Cmd) error {
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil // killed, as asked
	}
	return err
}

// Run runs a build until every activation is done or failed.
func (s *Scenario) Run(ctx context.Context, build string, args ...string) (*Result, error) {
	cmd := s.command(ctx, build, append(args, "-until", "settled")...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	res := &Result{Stderr: stderr.String()}
	if err != nil {
		return res, fmt.Errorf("%s: %w: %s", build, err, stderr.String())
	}
	for _, line := range strings.Split(string(out), "\n") {
		if id, ok := parseBuildLine(line); ok {
			res.Build = id
			_, _ = fmt.Sscanf(line, "BUILD %s GENERATION %d", &id, &res.Generation)
			continue
		}
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r payments.Report
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return res, fmt.Errorf("%s printed %q: %w", build, line, err)
		}
		res.Reports = append(res.Reports, r)
	}
	return res, nil
}

// Effects reads the journal: everything the world saw.
func (s *Scenario) Effects() ([]payments.Effect, error) {
	return payments.ReadJournal(s.Journal)
}

// Rows is what the store holds of some activations: their log rows and the
// vows they involve, rendered as text for comparison.
type Rows struct {
	Log  []string
	Vows []string
}

// Snapshot reads the log rows of the activations acts (hex ids) and the vows
// vows (hex ids) from the store, read-only.
func (s *Scenario) Snapshot(ctx context.Context, acts, vows []string) (Rows, error) {
	db, err := sql.Open("sqlite", "file:"+s.Store+"?mode=ro")
	if err != nil {
		return Rows{}, err
	}
	defer db.Close()
	var r Rows
	for _, a := range acts {
		id, err := hex.DecodeString(a)
		if err != nil {
			return r, err
		}
		rows, err := db.QueryContext(ctx, `SELECT step, kind, gen, hex(payload) FROM entries WHERE act = ? ORDER BY step`, id)
		if err != nil {
			return r, err
		}
		for rows.Next() {
			var step, kind, gen int
			var payload string
			if err := rows.Scan(&step, &kind, &gen, &payload); err != nil {
				rows.Close()
				return r, err
			}
			r.Log = append(r.Log, fmt.Sprintf("%s/%d kind=%d gen=%d %s", a, step, kind, gen, payload))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return r, err
		}
		var outcome []byte
		if err := db.QueryRowContext(ctx, `SELECT outcome FROM activations WHERE id = ?`, id).Scan(&outcome); err != nil {
			return r, err
		}
		vows = append(vows, hex.EncodeToString(outcome))
	}
	for _, v := range vows {
		id, err := hex.DecodeString(v)
		if err != nil {
			return r, err
		}
		var state, gen int
		var payload sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT state, hex(payload), gen FROM vows WHERE id = ?`, id).Scan(&state, &payload, &gen); err != nil {
			return r, fmt.Errorf("vow %s: %w", v, err)
		}
		r.Vows = append(r.Vows, fmt.Sprintf("%s state=%d gen=%d %s", v, state, gen, payload.String))
	}
	return r, nil
}

// LineOf returns the line number of the first line of a build's source that
// contains text, for checking the source position a diagnostic names.
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
