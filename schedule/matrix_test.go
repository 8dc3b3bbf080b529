package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vermont-ci/vermont/workflow/expr"
)

// compact is toJSON(v) on one line.
func compact(t *testing.T, v any) string { return compactJSONText(t, expr.ToJSON(v)) }

func compactJSONText(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// legContexts expands job m of src and returns each leg's matrix context
// as toJSON prints it, compacted.
func legContexts(t *testing.T, src string) []string {
	t.Helper()
	legs, err := mustPlan(t, src).Legs("m")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(legs))
	for i, l := range legs {
		out[i] = compact(t, l.Context())
	}
	return out
}

// TestMatrixExpansion checks the rules of GitHub's "Running variations of
// jobs in a workflow" (https://docs.github.com/en/actions/how-tos/write-workflows/choose-what-workflows-do/run-job-variations),
// on the docs' own examples and on object values: exclude first, with
// partial matches; then each include entry is added to every original
// combination none of whose original values it overwrites (added values
// may be overwritten), or becomes a combination of its own when it fits
// none. Objects compare by content, keep their nested keys, and print in
// YAML order.
func TestMatrixExpansion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		matrix string
		want   []string
	}{
		{
			// "Example: Expanding configurations".
			name: "include extends a match",
			matrix: `os: [windows-latest, ubuntu-latest]
        node: [14, 16]
        include:
          - os: windows-latest
            node: 16
            npm: 6`,
			want: []string{
				`{"os":"windows-latest","node":14}`,
				`{"os":"windows-latest","node":16,"npm":6}`,
				`{"os":"ubuntu-latest","node":14}`,
				`{"os":"ubuntu-latest","node":16}`,
			},
		},
		{
			// "Example: Adding configurations": version 17 would overwrite
			// an original value, so it is a combination of its own.
			name: "include adds a combination",
			matrix: `os: [macos-latest, ubuntu-latest]
        version: [12, 14]
        include:
          - os: ubuntu-latest
            version: 17`,
			want: []string{
				`{"os":"macos-latest","version":12}`,
				`{"os":"macos-latest","version":14}`,
				`{"os":"ubuntu-latest","version":12}`,
				`{"os":"ubuntu-latest","version":14}`,
				`{"os":"ubuntu-latest","version":17}`,
			},
		},
		{
			// "Excluding matrix configurations": partial matches remove
			// every combination they match.
			name: "exclude, full and partial",
			matrix: `os: [macos-latest, windows-latest]
        version: [12, 14, 16]
        environment: [staging, production]
        exclude:
          - os: macos-latest
            version: 12
            environment: production
          - os: windows-latest
            version: 16`,
			want: []string{
				`{"os":"macos-latest","version":12,"environment":"staging"}`,
				`{"os":"macos-latest","version":14,"environment":"staging"}`,
				`{"os":"macos-latest","version":14,"environment":"production"}`,
				`{"os":"macos-latest","version":16,"environment":"staging"}`,
				`{"os":"macos-latest","version":16,"environment":"production"}`,
				`{"os":"windows-latest","version":12,"environment":"staging"}`,
				`{"os":"windows-latest","version":12,"environment":"production"}`,
				`{"os":"windows-latest","version":14,"environment":"staging"}`,
				`{"os":"windows-latest","version":14,"environment":"production"}`,
			},
		},
		{
			// "Example: Using include without a matrix".
			name: "include only",
			matrix: `include:
          - site: production
            datacenter: site-a
          - site: staging
            datacenter: site-b`,
			want: []string{`{"site":"production","datacenter":"site-a"}`, `{"site":"staging","datacenter":"site-b"}`},
		},
		{
			// An object value is matched by content, whatever its key
			// order: the include extends the combination holding it.
			name: "include matches an object value",
			matrix: `cfg:
          - {name: a, env: {key1: one}}
          - {name: b, env: {key1: two}}
        include:
          - cfg: {env: {key1: one}, name: a}
            extra: x`,
			want: []string{
				`{"cfg":{"name":"a","env":{"key1":"one"}},"extra":"x"}`,
				`{"cfg":{"name":"b","env":{"key1":"two"}}}`,
			},
		},
		{
			name: "include with a different object adds a combination",
			matrix: `cfg:
          - {name: a}
        include:
          - cfg: {name: a, more: 1}`,
			want: []string{`{"cfg":{"name":"a"}}`, `{"cfg":{"name":"a","more":1}}`},
		},
		{
			// An object added by include reaches every combination, its
			// nested keys intact; a later include may overwrite it.
			name: "include adds an object everywhere",
			matrix: `os: [a, b]
        include:
          - settings: {env: {key1: one, key2: two}}
          - os: b
            settings: {env: {key2: three}}`,
			want: []string{
				`{"os":"a","settings":{"env":{"key1":"one","key2":"two"}}}`,
				`{"os":"b","settings":{"env":{"key2":"three"}}}`,
			},
		},
		{
			name: "exclude an object value",
			matrix: `cfg:
          - {name: a, arch: [x64, arm64]}
          - {name: b}
        exclude:
          - cfg: {arch: [x64, arm64], name: a}`,
			want: []string{`{"cfg":{"name":"b"}}`},
		},
		{
			// Array order matters to equality.
			name: "exclude arrays by order",
			matrix: `cfg:
          - {arch: [x64, arm64]}
        exclude:
          - cfg: {arch: [arm64, x64]}`,
			want: []string{`{"cfg":{"arch":["x64","arm64"]}}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "on: push\njobs:\n  m:\n    runs-on: x\n    strategy:\n      matrix:\n        " + tt.matrix + "\n    steps:\n      - run: ok\n"
			if got := legContexts(t, src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("legs\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestMatrixNestedKeys: an object value keeps its nested keys, so
// matrix.settings.env.key2 selects through it.
func TestMatrixNestedKeys(t *testing.T) {
	t.Parallel()
	src := wf(job("m", "    strategy:\n      matrix:\n        os: [a]\n        include:\n          - settings: {env: {key1: one, key2: two}}\n", "ok"))
	legs, err := mustPlan(t, src).Legs("m")
	if err != nil {
		t.Fatal(err)
	}
	p, err := expr.Compile("matrix.settings.env.key2")
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Eval(&expr.Scope{Contexts: map[string]any{"matrix": legs[0].Context()}})
	if err != nil || v != "two" {
		t.Fatalf("matrix.settings.env.key2 = %v, %v; want two", v, err)
	}
}

// matrixRecorder records each leg's matrix context.
type matrixRecorder struct {
	mu   sync.Mutex
	legs map[string]string // by job name
}

func (r *matrixRecorder) RunJob(_ context.Context, j *Job) Outcome {
	script := j.Def.Steps[0].Run.Value
	r.mu.Lock()
	if j.Matrix != nil {
		r.legs[j.Name] = expr.ToJSON(j.Matrix)
	}
	r.mu.Unlock()
	if k, v, ok := strings.Cut(strings.TrimPrefix(script, "out "), "="); ok {
		return Outcome{Result: Success, Outputs: map[string]string{k: v}}
	}
	return Outcome{Result: Success}
}

func (r *matrixRecorder) SkipJob(*Job, Result, error) {}

// TestMatrixObjectsFromNeeds: a whole matrix from fromJSON of a previous
// job's output follows the same rules, and keeps the JSON's key order in
// the matrix context and the legs' names.
func TestMatrixObjectsFromNeeds(t *testing.T) {
	t.Parallel()
	matrix := `{"os":["linux","mac"],"cfg":[{"n":1,"env":{"k":"a"}}],"include":[{"cfg":{"env":{"k":"a"},"n":1},"os":"mac","x":"y"},{"os":"bsd"}]}`
	src := wf(
		job("setup", "", "out m="+matrix),
		job("m", "    needs: setup\n    strategy:\n      matrix: ${{ fromJSON(needs.setup.outputs.m) }}\n", "ok"),
	)
	r := &matrixRecorder{legs: map[string]string{}}
	if res := New().Run(context.Background(), mustPlan(t, src), r); res.Result != Success {
		t.Fatalf("result %v", res.Result)
	}
	var names []string
	got := map[string]string{}
	for name, m := range r.legs {
		names = append(names, name)
		got[name] = compactJSONText(t, m)
	}
	sort.Strings(names)
	want := map[string]string{
		`m (bsd)`:                             `{"os":"bsd"}`,
		`m (linux, {"n":1,"env":{"k":"a"}})`:  `{"os":"linux","cfg":{"n":1,"env":{"k":"a"}}}`,
		`m (mac, {"n":1,"env":{"k":"a"}}, y)`: `{"os":"mac","cfg":{"n":1,"env":{"k":"a"}},"x":"y"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("legs %q\n got %q\nwant %q", names, got, want)
	}
}
