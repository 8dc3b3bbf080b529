package api

import (
	"encoding/json"
	"github.com/vermont-ci/vermont/server/secrets"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// octokitDir holds the Node client of TestOctokit; internal/testall
// installs its packages from npm.
const octokitDir = "testdata/octokit"

// TestOctokit makes the calls of TestGH through the real @octokit/rest.
func TestOctokit(t *testing.T) {
	node := requireTool(t, "node", "apt-get install nodejs npm")
	if _, err := os.Stat(filepath.Join(octokitDir, "node_modules", "@octokit", "rest", "package.json")); err != nil {
		msg := "@octokit/rest is not installed in " + octokitDir + " (go run ./internal/testall installs it, or: npm install --prefix " + octokitDir + ")"
		if ci := strings.ToLower(os.Getenv("CI")); ci == "true" || ci == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; under CI=true this fails")
	}
	e := newEnv(t)
	input, _ := json.Marshal(map[string]any{
		"baseUrl": e.baseURL(), "token": e.write, "readToken": e.read, "secret": "octokit-s3cr3t",
		"failureRun": e.runs.failure.ID, "runningRun": e.runs.running.ID, "buildJob": e.runs.buildJob.ID,
	})
	cmd := exec.Command(node, "client.mjs")
	cmd.Dir = octokitDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+e.caFile, "OCTOKIT_INPUT="+string(input))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client.mjs: %v\n%s%s", err, out, stderr.String())
	}
	type result struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	var got struct {
		RunsTotal      int      `json:"runsTotal"`
		RunsPage       []int64  `json:"runsPage"`
		Link           string   `json:"link"`
		AllRuns        []int64  `json:"allRuns"`
		Workflows      []string `json:"workflows"`
		Jobs           []string `json:"jobs"`
		JobLog         string   `json:"jobLog"`
		Dispatch       result   `json:"dispatch"`
		BadDispatch    result   `json:"badDispatch"`
		ReadCancel     result   `json:"readCancel"`
		Cancel         result   `json:"cancel"`
		RerunFailed    result   `json:"rerunFailed"`
		PutSecret      result   `json:"putSecret"`
		Secrets        []string `json:"secrets"`
		BadCredentials result   `json:"badCredentials"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output: %v\n%s", err, out)
	}
	newestFirst := []int64{e.runs.running.ID, e.runs.failure.ID, e.runs.success.ID}
	checks := []struct {
		name      string
		got, want any
	}{
		{name: "total_count", got: got.RunsTotal, want: 3},
		{name: "first page", got: got.RunsPage, want: newestFirst[:2]},
		{name: "paginate through Link", got: got.AllRuns, want: newestFirst},
		{name: "workflows", got: got.Workflows, want: []string{"Deploy", "CI"}}, // by id, as GitHub lists them
		{name: "jobs", got: got.Jobs, want: []string{"lint success 2", "test failure 2"}},
		{name: "dispatch", got: got.Dispatch, want: result{Status: 204}},
		{name: "dispatch without a required input", got: got.BadDispatch, want: result{Status: 422, Message: "Required input 'environment' not provided"}},
		{name: "read token cancelling", got: got.ReadCancel, want: result{Status: 403, Message: "Resource not accessible by personal access token"}},
		{name: "cancel", got: got.Cancel, want: result{Status: 202}},
		{name: "rerun failed jobs", got: got.RerunFailed, want: result{Status: 201}},
		{name: "put secret", got: got.PutSecret, want: result{Status: 201}},
		{name: "secrets", got: got.Secrets, want: []string{"OCTO_SECRET"}},
		{name: "bad credentials", got: got.BadCredentials, want: result{Status: 401, Message: "Bad credentials"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !strings.Contains(got.Link, `rel="next"`) || !strings.Contains(got.Link, `rel="last"`) {
		t.Errorf("Link header %q lacks next and last", got.Link)
	}
	if !strings.Contains(got.JobLog, "log of build step Run make build") {
		t.Errorf("job log through the redirect: %q", got.JobLog)
	}
	sec, err := e.store.Secret(t.Context(), e.repo.ID, "OCTO_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := e.box.Decrypt(secrets.RowContext(e.repo.ID, "OCTO_SECRET"), sec.Nonce, sec.Ciphertext); err != nil || string(plain) != "octokit-s3cr3t" {
		t.Errorf("secret sealed by libsodium decrypts to %q, %v", plain, err)
	}
}
