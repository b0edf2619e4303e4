package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// checkClosed runs closedcheck on the packages through go vet, which caches
// what it learns of each dependency, and prints its diagnostics. It reports
// whether any flow is not closed. A package that does not compile yet (it
// may use names flowgen is about to declare) is not checked this time.
func checkClosed(ctx context.Context, patterns, tags []string, stderr io.Writer) (bool, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return false, fmt.Errorf("flowgen: closedcheck needs the go command: %w", err)
	}
	dir, err := os.MkdirTemp("", "flowgen-closedcheck-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	tool := filepath.Join(dir, "closedcheck")
	build := exec.CommandContext(ctx, goTool, "build", "-o", tool, "github.com/asyncflow-go/asyncflow/cmd/closedcheck")
	if out, err := build.CombinedOutput(); err != nil {
		return false, fmt.Errorf("flowgen: build closedcheck: %w\n%s", err, out)
	}
	args := []string{"vet", "-vettool=" + tool, "-json"}
	if len(tags) > 0 {
		args = append(args, "-tags="+strings.Join(tags, ","))
	}
	vet := exec.CommandContext(ctx, goTool, append(args, patterns...)...)
	var stdout, vetErr bytes.Buffer
	vet.Stdout, vet.Stderr = &stdout, &vetErr
	runErr := vet.Run()
	diags, err := parseVetJSON(append(stdout.Bytes(), vetErr.Bytes()...))
	if err != nil {
		return false, err
	}
	if len(diags) == 0 && runErr != nil && !strings.Contains(vetErr.String(), "vet: ") && !strings.Contains(vetErr.String(), "# ") {
		return false, fmt.Errorf("flowgen: go vet: %w\n%s", runErr, vetErr.String())
	}
	wd, _ := os.Getwd()
	for _, d := range diags {
		pos := d.Posn
		if rel, err := filepath.Rel(wd, pos); err == nil && !strings.HasPrefix(rel, "..") {
			pos = rel
		}
		fmt.Fprintf(stderr, "%s: closedcheck: %s\n", pos, d.Message)
	}
	return len(diags) > 0, nil
}

type vetDiagnostic struct {
	Posn    string `json:"posn"`
	Message string `json:"message"`
}

// parseVetJSON reads what go vet -json prints: per package, per analyzer,
// a list of diagnostics or an error. The go command prefixes lines of its
// own (# package); only the JSON objects matter.
func parseVetJSON(out []byte) ([]vetDiagnostic, error) {
	var diags []vetDiagnostic
	dec := json.NewDecoder(bytes.NewReader(jsonOnly(out)))
	for dec.More() {
		var m map[string]map[string]json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("flowgen: reading go vet -json: %w", err)
		}
		for _, analyzers := range m {
			raw, ok := analyzers["closedcheck"]
			if !ok {
				continue
			}
			var list []vetDiagnostic
			if json.Unmarshal(raw, &list) == nil {
				diags = append(diags, list...)
			}
		}
	}
	slices.SortStableFunc(diags, func(a, b vetDiagnostic) int { return strings.Compare(a.Posn, b.Posn) })
	return diags, nil
}

// jsonOnly drops the lines that are not part of a JSON object.
func jsonOnly(out []byte) []byte {
	var b bytes.Buffer
	depth := 0
	for _, line := range bytes.Split(out, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if depth == 0 && !bytes.HasPrefix(t, []byte("{")) {
			continue
		}
		depth += bytes.Count(t, []byte("{")) - bytes.Count(t, []byte("}"))
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
