//go:build !windows

package exec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/actions/results"
	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/schedule"
)

// needResultsToolkit ends the test when the real @actions/artifact and
// @actions/cache packages have not been installed into the test action.
func needResultsToolkit(t *testing.T) {
	t.Helper()
	needNode(t)
	for _, pkg := range []string{"artifact", "cache", "core"} {
		p := filepath.Join(actionsRoot(t), "results-action", "node_modules", "@actions", pkg, "package.json")
		if _, err := os.Stat(p); err != nil {
			unavailable(t, "the results service tests need @actions/artifact, @actions/cache and @actions/core from the npm registry in testdata/actions-run/results-action/node_modules, and "+p+" is missing; "+
				"install them with `go run ./internal/testall` or `npm install --no-audit --no-fund --no-package-lock --prefix testdata/actions-run/results-action`")
		}
	}
}

// TestResultsToolkit runs the real npm toolkits against the results
// service through the job runner: an artifact uploaded in one job is
// downloaded in a job that needs it, and a cache saved in the first job is
// restored in the second by its exact key and by a restore-keys prefix.
// The runtime token never reaches the log.
func TestResultsToolkit(t *testing.T) {
	t.Parallel()
	needResultsToolkit(t)
	srv, err := results.New(results.WithArtifactDir(t.TempDir()), results.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r := runFile(t, filepath.Join(actionsRoot(t), "results.yml"), runOpts{
		resolver: localResolver(t),
		extra:    []exec.Option{exec.WithRunID("run-42"), exec.WithResults(startedResults{srv, url}, false)},
	})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "produce", "saved cache deps-linux-v1: ok")
	r.events.WantLines(t, "consume",
		"downloaded dist (digest mismatch: false)",
		"app.txt: built by produce",
		"sub/lib.txt: nested file",
		"restored cache deps-linux-v1",
		"Cache hit for restore-key: deps-linux-v1",
		"cache miss",
		"exact=deps-linux-v1 prefix=deps-linux-v1 miss=",
		// As on GitHub, only actions get the runtime token, and it is masked.
		"run step token: [none]",
		"token seen by the action: ***",
	)
	found := false
	for _, l := range r.events.Lines("produce") {
		found = found || strings.HasPrefix(l, "uploaded dist: ") && strings.HasSuffix(l, "bytes, id set")
	}
	if !found {
		t.Errorf("no upload line in produce:\n%s", r.events.String())
	}
	// Every runtime token starts with the same JWT header; none may show.
	header := strings.SplitN(srv.Token("run-42", "x"), ".", 2)[0]
	if header == "" || strings.Contains(r.everything(), header) {
		t.Errorf("a runtime token appears in the events")
	}
}

// startedResults is a results.Server already started at url.
type startedResults struct {
	*results.Server
	url string
}

func (s startedResults) URL() (string, error) { return s.url, nil }
