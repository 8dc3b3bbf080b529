package workflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func FuzzParse(f *testing.F) {
	seedFuzz(f)
	p := NewParser()
	f.Fuzz(func(t *testing.T, src []byte) {
		wf, err := p.Parse("fuzz.yml", src)
		checkFuzzResult(t, err)
		if wf != nil && err == nil && len(wf.Jobs) == 0 {
			t.Errorf("a workflow without jobs was accepted")
		}
	})
}

func FuzzParseAction(f *testing.F) {
	seedFuzz(f)
	p := NewParser()
	f.Fuzz(func(t *testing.T, src []byte) {
		a, err := p.ParseAction("action.yml", src)
		checkFuzzResult(t, err)
		if a != nil && err == nil && a.Runs == nil {
			t.Errorf("an action without runs was accepted")
		}
	})
}

// seedFuzz adds every testdata workflow and action as a seed.
func seedFuzz(f *testing.F) {
	for _, dir := range []string{"ok", "err"} {
		files, _ := filepath.Glob(filepath.Join(testdataDir, dir, "*.yml"))
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("on: push\njobs: {a: {runs-on: x, steps: [{run: '${{ a.b[0] }}'}]}}"))
}

// checkFuzzResult checks the properties every parse must have: errors are
// an ErrorList of positioned, well-formed diagnostics.
func checkFuzzResult(t *testing.T, err error) {
	if err == nil {
		return
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatal("non-nil error with an empty list")
	}
	for _, e := range list {
		if e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Errorf("invalid position %v in %q", e.Pos, e.Error())
		}
		if e.Msg == "" || e.Kind == "" {
			t.Errorf("diagnostic without message or kind: %#v", e)
		}
	}
}

// BenchmarkParse parses and validates a ~300-line workflow.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(testdataDir, "ok", "large.yml"))
	if err != nil {
		b.Fatal(err)
	}
	p := NewParser()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse("large.yml", src); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseModel(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join(testdataDir, "ok", "all-keys.yml"))
	if err != nil {
		t.Fatal(err)
	}
	wf, err := Parse("all-keys.yml", src)
	if err != nil {
		t.Fatal(err)
	}
	build := wf.Job("BUILD")
	if build == nil {
		t.Fatal("Job is not case-insensitive")
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"name", wf.Name.Value, "All keys"},
		{"name pos", wf.Name.Pos, Pos{2, 7}},
		{"events", len(wf.On), 6},
		{"push branches", len(wf.Event("push").Branches.Patterns), 3},
		{"negated branch", wf.Event("push").Branches.Patterns[2].Value, "!releases/**-alpha"},
		{"negated branch quoted", wf.Event("push").Branches.Patterns[2].Quoted, true},
		{"schedules", len(wf.Event("schedule").Schedules), 2},
		{"inputs", len(wf.Event("workflow_dispatch").Inputs), 4},
		{"choice options", len(wf.Event("workflow_dispatch").Inputs[1].Options), 3},
		{"permissions", wf.Permissions.Scopes[1].Key.Value + "=" + wf.Permissions.Scopes[1].Value.Value, "id-token=write"},
		{"env number kept as text", wf.Env.Entries[1].Value.Value, "42"},
		{"defaults shell", wf.Defaults.Run.Shell.Value, "bash"},
		{"cancel-in-progress", wf.Concurrency.CancelInProgress.Value, true},
		{"jobs", len(wf.Jobs), 3},
		{"runs-on expr", build.RunsOn.Labels[0].Value, "${{ matrix.os }}"},
		{"continue-on-error expr", build.ContinueOnError.Expr, "${{ matrix.experimental }}"},
		{"timeout", build.TimeoutMinutes.Value, 30.0},
		{"permissions all", build.Permissions.All.Value, "read-all"},
		{"environment url", build.Environment.URL.Value, "${{ steps.deploy.outputs.url }}"},
		{"matrix rows", len(build.Strategy.Matrix.Rows), 3},
		{"matrix value", build.Strategy.Matrix.Rows[1].Value.Seq[1].Interface(), 20.5},
		{"matrix value pos", build.Strategy.Matrix.Rows[1].Value.Seq[1].Pos, Pos{75, 20}},
		{"include", build.Strategy.Matrix.Include.Seq[0].Get("node").Interface(), 22.0},
		{"exclude", build.Strategy.Matrix.Exclude.Interface(), []any{map[string]any{"os": "windows-latest", "node": 18.0}}},
		{"max-parallel", build.Strategy.MaxParallel.Value, 2},
		{"fail-fast", build.Strategy.FailFast.Value, false},
		{"container image", build.Container.Image.Value, "node:20"},
		{"container password", build.Container.Credentials.Password.Value, "${{ secrets.GITHUB_TOKEN }}"},
		{"container ports", build.Container.Ports[0].Value, "80"},
		{"services", build.Services[0].Name.Value + " " + build.Services[0].Container.Image.Value, "redis redis:7"},
		{"service options", build.Services[1].Container.Options.Value, "--health-cmd pg_isready --health-interval 10s"},
		{"steps", len(build.Steps), 9},
		{"with", build.Steps[0].With.Entries[0].Value.Value, "0"},
		{"step id", build.Steps[1].ID.Value, "version"},
		{"step timeout", build.Steps[1].TimeoutMinutes.Value, 1.5},
		{"step env", build.Steps[1].Env.Entries[0].Key.Value, "TOKEN"},
		{"needs", len(wf.Job("labels").Needs), 2},
		{"matrix expr", wf.Job("labels").Strategy.Matrix.Expr.Value, "${{ fromJSON(needs.build.outputs.version) }}"},
		{"runner group", wf.Job("runner-group").RunsOn.Group.Value, "ubuntu-runners"},
		{"needs string", wf.Job("runner-group").Needs[0].Pos, Pos{135, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !equal(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func equal(a, b any) bool {
	return strings.TrimSpace(sprint(a)) == strings.TrimSpace(sprint(b))
}

func sprint(v any) string { return fmt.Sprintf("%#v", v) }

// BenchmarkDecodeYAML is the floor under BenchmarkParse: yaml.v3 alone
// decoding the same file into nodes, without our walk and checks.
func BenchmarkDecodeYAML(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(testdataDir, "ok", "large.yml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var n yaml.Node
		if err := yaml.Unmarshal(src, &n); err != nil {
			b.Fatal(err)
		}
	}
}
