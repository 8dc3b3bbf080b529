package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds real workflows and actions that GitHub accepts; none of
// them may be rejected.
const corpusDir = "../../shared/corpus"

// corpusDefects lists corpus files that GitHub itself rejects, with the
// diagnostic we must give. pytorch's _android-full-build-test.yml is a
// stored version (SOURCES.tsv: "unverified", merged fork history) whose
// `uses: pytorch/pytorch/.github/actions/…` lines lost their `@main`;
// upstream writes `…/checkout-pytorch@main`, and GitHub's workflow parser
// (actions/runner PipelineTemplateConverter) rejects a repository
// reference without @ref: "Expected format {org}/{repo}[/path]@ref".
// These files are still parsed and must fail exactly so.
var corpusDefects = map[string]string{
	"pytorch__pytorch___android-full-build-test.yml": `"pytorch/pytorch/.github/actions/checkout-pytorch" needs a version`,
}

func corpusFiles(t *testing.T, sub string) []string {
	t.Helper()
	dir := filepath.Join(corpusDir, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus absent: %s (%v); CI provides it", dir, err)
	}
	var files []string
	for _, ext := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, ext))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("corpus %s has no YAML files", dir)
	}
	return files
}

func TestCorpusWorkflows(t *testing.T) {
	t.Parallel()
	p := NewParser()
	for _, f := range corpusFiles(t, "workflows") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wf, err := p.Parse(f, src)
			if want, ok := corpusDefects[filepath.Base(f)]; ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("known-defective corpus file: got %v, want an error containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("a workflow GitHub accepts was rejected:\n%v", err)
			}
			if len(wf.Jobs) == 0 || len(wf.On) == 0 {
				t.Errorf("parsed %d jobs and %d events, want at least one of each", len(wf.Jobs), len(wf.On))
			}
		})
	}
}

func TestCorpusActions(t *testing.T) {
	t.Parallel()
	p := NewParser()
	for _, f := range corpusFiles(t, "actions") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a, err := p.ParseAction(f, src)
			if err != nil {
				t.Fatalf("an action GitHub accepts was rejected:\n%v", err)
			}
			if a.Runs == nil || !strings.Contains("composite docker node12 node16 node20 node24", a.Runs.Using.Value) {
				t.Errorf("runs.using = %+v, want a known runtime", a.Runs)
			}
		})
	}
}
