package actions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vermont-ci/vermont/workflow"
)

// corpusActions holds real action.yml files (see its SOURCES.tsv).
const corpusActions = "../../shared/corpus/actions"

// TestCorpusActions resolves every corpus action as a local action (so the
// resolver's metadata loading is what is tested) and checks inputs, outputs
// and runs against an independent plain decode of the same file.
func TestCorpusActions(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(corpusActions, "*.yml"))
	if _, serr := os.Stat(corpusActions); serr != nil {
		t.Skipf("corpus absent: %s (%v); CI provides it", corpusActions, serr)
	}
	if err != nil || len(files) == 0 {
		t.Fatalf("no action files in %s: %v", corpusActions, err)
	}
	r := newTestResolver(t)
	loaded := map[string]*workflow.Action{}
	for _, file := range files {
		base := filepath.Base(file)
		t.Run(base, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ws := t.TempDir()
			dir := filepath.Join(ws, "act")
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "action.yml"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			_, meta, err := r.Action(context.Background(), "./act", ws)
			if err != nil {
				t.Fatalf("an action GitHub accepts was rejected:\n%v", err)
			}
			loaded[base] = meta
			var plain map[string]any
			if err := yaml.Unmarshal(src, &plain); err != nil {
				t.Fatal(err)
			}
			checkAgainstPlain(t, meta, plain)
		})
	}
	checkKnownCorpus(t, loaded)
}

// checkAgainstPlain compares the model with a map decode of the same file.
func checkAgainstPlain(t *testing.T, meta *workflow.Action, plain map[string]any) {
	t.Helper()
	inputs, _ := plain["inputs"].(map[string]any)
	if len(meta.Inputs) != len(inputs) {
		t.Errorf("%d inputs, plain decode has %d", len(meta.Inputs), len(inputs))
	}
	for _, in := range meta.Inputs {
		p, ok := inputs[in.Name.Value].(map[string]any)
		if !ok {
			if inputs[in.Name.Value] != nil || !hasKey(inputs, in.Name.Value) {
				t.Errorf("input %s not in the plain decode", in.Name.Value)
			}
			continue
		}
		want := scalar(p["default"])
		if hasKey(p, "default") && p["default"] == nil {
			want = "" // `default:` with no value is the empty string, as on GitHub
		}
		if got := strOrNil(in.Default); got != want {
			t.Errorf("input %s default = %q, want %q", in.Name.Value, got, want)
		}
		if got, want := boolOf(in.Required), scalar(p["required"]); want != "<nil>" && got != want {
			t.Errorf("input %s required = %q, want %q", in.Name.Value, got, want)
		}
	}
	outputs, _ := plain["outputs"].(map[string]any)
	if len(meta.Outputs) != len(outputs) {
		t.Errorf("%d outputs, plain decode has %d", len(meta.Outputs), len(outputs))
	}
	for _, out := range meta.Outputs {
		p, _ := outputs[out.Name.Value].(map[string]any)
		if got, want := strOrNil(out.Value), scalar(p["value"]); got != want {
			t.Errorf("output %s value = %q, want %q", out.Name.Value, got, want)
		}
	}
	runs, _ := plain["runs"].(map[string]any)
	for key, got := range map[string]*workflow.String{
		"using": &meta.Runs.Using, "main": meta.Runs.Main, "pre": meta.Runs.Pre, "post": meta.Runs.Post,
		"pre-if": meta.Runs.PreIf, "post-if": meta.Runs.PostIf, "image": meta.Runs.Image,
		"entrypoint": meta.Runs.Entrypoint,
	} {
		if g, w := strOrNil(got), scalar(runs[key]); g != w {
			t.Errorf("runs.%s = %q, want %q", key, g, w)
		}
	}
	steps, _ := runs["steps"].([]any)
	if len(meta.Runs.Steps) != len(steps) {
		t.Fatalf("%d runs.steps, plain decode has %d", len(meta.Runs.Steps), len(steps))
	}
	for i, s := range steps {
		ps := s.(map[string]any)
		st := meta.Runs.Steps[i]
		for key, got := range map[string]*workflow.String{"run": st.Run, "uses": st.Uses, "shell": st.Shell, "id": st.ID, "if": st.If} {
			if g, w := strOrNil(got), scalar(ps[key]); g != w {
				t.Errorf("runs.steps[%d].%s = %q, want %q", i, key, g, w)
			}
		}
		env, _ := ps["env"].(map[string]any)
		if st.Env.Len() != len(env) {
			t.Errorf("runs.steps[%d].env has %d entries, want %d", i, st.Env.Len(), len(env))
		}
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func strOrNil(s *workflow.String) string {
	if s == nil {
		return "<nil>"
	}
	return s.Value
}

func boolOf(b *workflow.Bool) string {
	if b == nil {
		return "<nil>"
	}
	if b.IsExpr() {
		return b.Expr
	}
	return fmt.Sprint(b.Value)
}

// scalar renders a plain-decoded scalar as the model keeps it (source text).
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// checkKnownCorpus asserts concrete values of a few well-known actions.
func checkKnownCorpus(t *testing.T, loaded map[string]*workflow.Action) {
	t.Helper()
	get := func(file string) *workflow.Action {
		a := loaded[file]
		if a == nil {
			t.Errorf("%s missing from the corpus or failed to load", file)
		}
		return a
	}
	if a := get("actions__checkout__action.yml"); a != nil {
		in := input(a, "repository")
		if in == nil || in.Default == nil || in.Default.Value != "${{ github.repository }}" {
			t.Errorf("checkout: input repository = %+v, want default ${{ github.repository }}", in)
		}
		if in := input(a, "fetch-depth"); in == nil || in.Default == nil || in.Default.Value != "1" {
			t.Errorf("checkout: fetch-depth default = %+v, want 1", in)
		}
		if u := a.Runs.Using.Value; u != "node24" && u != "node20" {
			t.Errorf("checkout: runs.using = %q, want node24 or node20", u)
		}
		if strOrNil(a.Runs.Main) != "dist/index.js" || strOrNil(a.Runs.Post) != "dist/index.js" {
			t.Errorf("checkout: main %q post %q, want dist/index.js", strOrNil(a.Runs.Main), strOrNil(a.Runs.Post))
		}
		if names := outputNames(a); names != "commit,ref" {
			t.Errorf("checkout: outputs %s, want commit,ref", names)
		}
	}
	if a := get("actions__cache__action.yml"); a != nil {
		if strOrNil(a.Runs.PostIf) != "success()" || strOrNil(a.Runs.Post) != "dist/save/index.js" {
			t.Errorf("cache: post %q post-if %q", strOrNil(a.Runs.Post), strOrNil(a.Runs.PostIf))
		}
		if in := input(a, "key"); in == nil || in.Required == nil || !in.Required.Value {
			t.Errorf("cache: input key should be required: %+v", in)
		}
	}
	if a := get("hadolint__hadolint-action__action.yml"); a != nil {
		if !a.Runs.IsDocker() || strOrNil(a.Runs.Image) != "Dockerfile" || len(a.Runs.Args) == 0 ||
			a.Runs.Args[0].Value != "${{ inputs.dockerfile }}" {
			t.Errorf("hadolint: runs = %+v", a.Runs)
		}
		if v, ok := a.Runs.Env.Get("NO_COLOR"); !ok || v.Value != "${{ inputs.no-color }}" {
			t.Errorf("hadolint: runs.env NO_COLOR = %+v", v)
		}
	}
	if a := get("pre-commit__action__action.yml"); a != nil {
		if !a.Runs.IsComposite() || len(a.Runs.Steps) != 4 || strOrNil(a.Runs.Steps[2].Uses) != "actions/cache@v4" ||
			strOrNil(a.Runs.Steps[0].Shell) != "bash" {
			t.Errorf("pre-commit: runs.steps = %+v", a.Runs.Steps)
		}
		if in := input(a, "extra_args"); in == nil || strOrNil(in.Default) != "--all-files" || in.Required == nil || in.Required.Value {
			t.Errorf("pre-commit: extra_args = %+v", in)
		}
	}
}

func input(a *workflow.Action, name string) *workflow.ActionInput {
	for _, in := range a.Inputs {
		if in.Name.Value == name {
			return in
		}
	}
	return nil
}

func outputNames(a *workflow.Action) string {
	var names []string
	for _, o := range a.Outputs {
		names = append(names, o.Name.Value)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
