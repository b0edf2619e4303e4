package gen_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/asyncflow-go/asyncflow/gen"
	"github.com/asyncflow-go/asyncflow/internal/testmod"
	"github.com/asyncflow-go/asyncflow/internal/textdiff"
)

var update = flag.Bool("update", false, "rewrite the wanted outputs of the golden cases")

const goldenDir = "../testdata/golden"

// goldenCase is one testdata/golden/<name>.txtar: input files under input/,
// and either want/<dir>/flowgen_gen.go files or want/error; want/notes
// holds the notes it must give, if any.
type goldenCase struct {
	name      string
	path      string
	archive   *txtar.Archive
	inputs    map[string][]byte // relative to the case's directory
	wants     map[string][]byte // generated files, by directory relative to the case
	wantErr   string
	hasErr    bool
	wantNotes string
}

func loadCases(t *testing.T) []*goldenCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.txtar"))
	require.NoError(t, err)
	slices.Sort(paths)
	var cases []*goldenCase
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		require.NoError(t, err)
		c := &goldenCase{name: strings.TrimSuffix(filepath.Base(p), ".txtar"), path: p, archive: a,
			inputs: map[string][]byte{}, wants: map[string][]byte{}}
		for _, f := range a.Files {
			switch {
			case strings.HasPrefix(f.Name, "input/"):
				c.inputs[strings.TrimPrefix(f.Name, "input/")] = f.Data
			case f.Name == "want/error":
				c.wantErr, c.hasErr = string(f.Data), true
			case f.Name == "want/notes":
				c.wantNotes = string(f.Data)
			case strings.HasPrefix(f.Name, "want/"):
				c.wants[filepath.Dir(strings.TrimPrefix(f.Name, "want/"))] = f.Data
			default:
				t.Fatalf("%s: unexpected file %s", p, f.Name)
			}
		}
		require.NotEmpty(t, c.inputs, "%s has no input", p)
		cases = append(cases, c)
	}
	return cases
}

// goldenModule writes every case as packages of one module that uses the
// working tree's asyncflow, and returns its directory.
func goldenModule(t *testing.T, cases []*goldenCase) string {
	t.Helper()
	files := map[string]string{}
	for _, c := range cases {
		for name, data := range c.inputs {
			files[c.name+"/"+name] = string(data)
		}
	}
	return testmod.Write(t, "example.com/golden", "", files)
}

// caseErrors picks the error lines of one case, with paths made relative to
// the case's directory.
func caseErrors(err error, dir, name string) []string {
	if err == nil {
		return nil
	}
	prefix := filepath.Join(dir, name) + string(filepath.Separator)
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		switch {
		case strings.HasPrefix(line, prefix):
			out = append(out, strings.TrimPrefix(line, prefix))
		case strings.Contains(line, "example.com/golden/"+name+":") || strings.Contains(line, "example.com/golden/"+name+"/"):
			out = append(out, line)
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("loads and builds a module")
	}
	cases := loadCases(t)
	require.GreaterOrEqual(t, len(cases), 25, "golden cases")
	dir := goldenModule(t, cases)
	files, err := gen.Generate(context.Background(), gen.Config{Dir: dir, Patterns: []string{"./..."}})
	if err != nil {
		// Every error must belong to a case.
		for _, line := range strings.Split(err.Error(), "\n") {
			owned := false
			for _, c := range cases {
				if len(caseErrors(errors.New(line), dir, c.name)) > 0 {
					owned = true
				}
			}
			require.True(t, owned, "an error of no case: %s", line)
		}
	}
	byDir := map[string][]byte{}
	var notes []string
	for _, f := range files {
		byDir[filepath.Dir(f.Path)] = f.Content
		for _, n := range f.Notes {
			notes = append(notes, n.Error())
		}
	}

	var build []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gotErrs := caseErrors(err, dir, c.name)
			got := map[string][]byte{}
			for d, content := range byDir {
				rel, rerr := filepath.Rel(filepath.Join(dir, c.name), d)
				if rerr == nil && !strings.HasPrefix(rel, "..") && content != nil {
					got[rel] = content
				}
			}
			gotNotes := caseErrors(errors.New(strings.Join(notes, "\n")), dir, c.name)
			if *update {
				rewrite(t, c, got, gotErrs, gotNotes)
				return
			}
			if d := textdiff.Unified("want", "got", strings.TrimSpace(c.wantNotes)+"\n", strings.Join(gotNotes, "\n")+"\n"); d != "" {
				t.Errorf("%s: notes differ (-want +got):\n%s\nto accept the new output: go test ./gen -run TestGolden -update", c.path, d)
			}
			if c.hasErr {
				want := strings.TrimSpace(c.wantErr)
				if d := textdiff.Unified("want", "got", want+"\n", strings.Join(gotErrs, "\n")+"\n"); d != "" {
					t.Errorf("%s: errors differ (-want +got):\n%s\nto accept the new output: go test ./gen -run TestGolden -update", c.path, d)
				}
				return
			}
			if len(gotErrs) > 0 {
				t.Fatalf("%s: unexpected errors:\n%s", c.path, strings.Join(gotErrs, "\n"))
			}
			for d, want := range c.wants {
				if diff := textdiff.Unified("want/"+filepath.Join(d, gen.OutputName), "got", string(want), string(got[d])); diff != "" {
					t.Errorf("%s: generated code differs (-want +got):\n%s\nto accept the new output: go test ./gen -run TestGolden -update", c.path, diff)
				}
			}
			for d := range got {
				if _, ok := c.wants[d]; !ok {
					t.Errorf("%s: generated %s, which the case does not want", c.path, filepath.Join(d, gen.OutputName))
				}
			}
		})
		if !c.hasErr {
			build = append(build, "./"+c.name+"/...")
		}
	}
	if *update || t.Failed() {
		return
	}

	// Every wanted output compiles: all cases at once, one go build.
	for _, c := range cases {
		for d, want := range c.wants {
			require.NoError(t, os.WriteFile(filepath.Join(dir, c.name, d, gen.OutputName), want, 0o644))
		}
	}
	cmd := exec.Command("go", append([]string{"vet"}, build...)...)
	cmd.Dir = dir
	out, cerr := cmd.CombinedOutput()
	require.NoError(t, cerr, "the wanted outputs do not compile:\n%s", out)
}

func rewrite(t *testing.T, c *goldenCase, got map[string][]byte, errs, notes []string) {
	t.Helper()
	var files []txtar.File
	for _, f := range c.archive.Files {
		if strings.HasPrefix(f.Name, "input/") {
			files = append(files, f)
		}
	}
	if len(errs) > 0 {
		files = append(files, txtar.File{Name: "want/error", Data: []byte(strings.Join(errs, "\n") + "\n")})
	} else {
		dirs := make([]string, 0, len(got))
		for d := range got {
			dirs = append(dirs, d)
		}
		slices.Sort(dirs)
		for _, d := range dirs {
			files = append(files, txtar.File{Name: "want/" + filepath.ToSlash(filepath.Join(d, gen.OutputName)), Data: got[d]})
		}
	}
	if len(notes) > 0 {
		files = append(files, txtar.File{Name: "want/notes", Data: []byte(strings.Join(notes, "\n") + "\n")})
	}
	c.archive.Files = files
	require.NoError(t, os.WriteFile(c.path, txtar.Format(c.archive), 0o644))
}
