//go:build !thin && !windows

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"

	"github.com/vermont-ci/vermont/server/store"
)

// The tests of `vermont serve` drive the real binary, built once, against
// a bare repository on disk, with signed deliveries shaped as GitHub's
// and Gitea's documentation shows them, and GitHub's REST API.

const serveSecret = "It's a Secret to Everybody"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// vermontBinary builds cmd/vermont once per test process.
func vermontBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vermont-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "vermont")
		out, err := osexec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// srcRepo is the repository the service builds: a bare repository and a
// working clone the test commits in and pushes from.
type srcRepo struct {
	t    *testing.T
	bare string
	work string
}

func newSrcRepo(t *testing.T, files map[string]string) *srcRepo {
	t.Helper()
	dir := t.TempDir()
	r := &srcRepo{t: t, bare: filepath.Join(dir, "app.git"), work: filepath.Join(dir, "work")}
	gitIn(t, dir, "init", "-q", "--bare", "-b", "main", r.bare)
	gitIn(t, dir, "init", "-q", "-b", "main", r.work)
	gitIn(t, r.work, "remote", "add", "origin", r.bare)
	r.commit("first", files)
	r.push("main")
	return r
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := osexec.Command("git", append([]string{"-c", "user.name=Octo Cat", "-c", "user.email=octo@example.com"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *srcRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	gitIn(r.t, r.work, "add", "-A")
	gitIn(r.t, r.work, "commit", "-q", "--allow-empty", "-m", msg)
	return gitIn(r.t, r.work, "rev-parse", "HEAD")
}

func (r *srcRepo) push(branch string) {
	r.t.Helper()
	gitIn(r.t, r.work, "push", "-q", "origin", "HEAD:refs/heads/"+branch)
}

// service is a running `vermont serve`.
type service struct {
	*serveProc
	t      *testing.T
	data   string
	url    string
	token  string
	client *http.Client
}

type serveConfig struct {
	data    string // reuse a data dir (a restart)
	token   string
	env     []string
	args    []string
	repo    *srcRepo
	workers int
	tls     *testTLS // serve HTTPS with this certificate
}

func startService(t *testing.T, c serveConfig) *service {
	t.Helper()
	bin := vermontBinary(t)
	if c.data == "" {
		c.data = t.TempDir()
	}
	if c.token == "" {
		out, err := osexec.Command(bin, "token", "create", "--data", c.data, "--scope", "admin", "tester").Output()
		if err != nil {
			t.Fatalf("token create: %v", err)
		}
		c.token = strings.TrimSpace(string(out))
	}
	args := []string{"serve", "--data", c.data, "--listen", "127.0.0.1:0", "--repo", "octo/app=" + c.repo.bare}
	if c.workers > 0 {
		args = append(args, "--workers", strconv.Itoa(c.workers))
	}
	if c.tls != nil {
		args = append(args, "--tls-cert", c.tls.cert, "--tls-key", c.tls.key)
	}
	p := startServeProc(t, bin, append(args, c.args...), append([]string{"VERMONT_WEBHOOK_SECRET=" + serveSecret}, c.env...))
	s := &service{t: t, serveProc: p, data: c.data, token: c.token, client: http.DefaultClient}
	scheme := "http://"
	if c.tls != nil {
		s.client, scheme = c.tls.client(), "https://"
	}
	s.url = scheme + p.addr
	return s
}

// serveProc is a running `vermont serve` process: its log (stderr, JSON
// lines) and the address it said it listens on.
type serveProc struct {
	cmd    *osexec.Cmd
	addr   string
	logs   *lockedBuffer
	exited chan struct{}
}

// startServeProc starts bin with args, env added to the environment, and
// waits until it logs where it listens; the test's cleanup stops it.
func startServeProc(tb testing.TB, bin string, args, env []string) *serveProc {
	tb.Helper()
	cmd := osexec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &serveProc{cmd: cmd, logs: &lockedBuffer{}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "vermont serve listening" {
				addr <- m["addr"].(string)
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(p.stop)
	select {
	case p.addr = <-addr:
	case <-p.exited:
		tb.Fatalf("vermont serve %q exited: %s", args, p.logs.String())
	case <-time.After(60 * time.Second):
		tb.Fatalf("vermont serve %q did not start: %s", args, p.logs.String())
	}
	return p
}

// stop ends the process with SIGTERM, as an init system does.
func (p *serveProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// kill ends the process with SIGKILL: no lease is released, nothing flushed.
func (p *serveProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// deliver posts a webhook delivery signed with secret as GitHub signs one.
func (s *service) deliver(event, id string, payload any, secret string) (int, string) {
	s.t.Helper()
	body, _ := json.Marshal(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return s.post("/webhook", body, map[string]string{"X-GitHub-Event": event, "X-GitHub-Delivery": id,
		"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "Content-Type": "application/json"})
}

func (s *service) post(path string, body []byte, headers map[string]string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// api calls the REST API with the admin token.
func (s *service) api(method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+"/api/v3"+path, rd)
	req.Header.Set("Authorization", "token "+s.token)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type apiRun struct {
	ID         int64  `json:"id"`
	Event      string `json:"event"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	HeadSHA    string `json:"head_sha"`
	HeadBranch string `json:"head_branch"`
	Path       string `json:"path"`
	RunAttempt int64  `json:"run_attempt"`
}

// getJSON decodes the API's answer to GET path into v.
func (s *service) getJSON(path string, v any) {
	s.t.Helper()
	code, b := s.api("GET", path, nil)
	if code != 200 {
		s.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
}

func (s *service) runs() []apiRun {
	s.t.Helper()
	var list struct {
		Runs []apiRun `json:"workflow_runs"`
	}
	s.getJSON("/repos/octo/app/actions/runs?per_page=100", &list)
	return list.Runs
}

// runOf is the newest run of the workflow file path.
func (s *service) runOf(path string) apiRun {
	s.t.Helper()
	for _, r := range s.runs() {
		if r.Path == path {
			return r
		}
	}
	s.t.Fatalf("no run of %s", path)
	return apiRun{}
}

// waitRun waits until a run that match selects has completed.
func (s *service) waitRun(what string, match func(apiRun) bool) apiRun {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range s.runs() {
			if match(r) && r.Status == "completed" {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("no completed run %s; runs: %+v\nlogs:\n%s", what, s.runs(), s.logs.String())
	return apiRun{}
}

type apiJob struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	RunAttempt int64  `json:"run_attempt"`
	Steps      []struct {
		Name       string `json:"name"`
		Conclusion string `json:"conclusion"`
	} `json:"steps"`
}

func (s *service) jobs(runID int64, query string) []apiJob {
	s.t.Helper()
	var list struct {
		Jobs []apiJob `json:"jobs"`
	}
	s.getJSON(fmt.Sprintf("/repos/octo/app/actions/runs/%d/jobs%s", runID, query), &list)
	return list.Jobs
}

// jobLog reads a job's log as gh does: the API redirects to a signed URL.
func (s *service) jobLog(jobID int64) string {
	s.t.Helper()
	code, b := s.api("GET", fmt.Sprintf("/repos/octo/app/actions/jobs/%d/logs", jobID), nil)
	if code != 200 {
		s.t.Fatalf("job log: %d %s", code, b)
	}
	return string(b)
}

func (s *service) runLog(runID int64) string {
	s.t.Helper()
	var all strings.Builder
	for _, j := range s.jobs(runID, "") {
		all.WriteString(s.jobLog(j.ID))
	}
	return all.String()
}

func ghPush(before, after, ref string) map[string]any {
	// https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
	return map[string]any{"ref": ref, "before": before, "after": after, "created": false, "deleted": false,
		"repository": map[string]any{"name": "app", "full_name": "octo/app", "owner": map[string]any{"login": "octo"}},
		"pusher":     map[string]any{"name": "octocat"}, "sender": map[string]any{"login": "octocat"},
		"head_commit": map[string]any{"id": after, "message": "second\n\nbody"}, "commits": []any{}}
}

const ciWorkflow = `name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "hello from ${{ github.event_name }} at $GITHUB_SHA on $GITHUB_REF"
      - run: test "$(jq -r .repository.full_name "$GITHUB_EVENT_PATH" 2>/dev/null || grep -o octo/app "$GITHUB_EVENT_PATH" | head -1)" = octo/app
  checkout:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: test "$(git rev-parse HEAD)" = "$GITHUB_SHA" && test -f .github/workflows/ci.yml && echo "checked out $GITHUB_SHA"
`

func TestServePushWebhook(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/ci.yml": ciWorkflow})
	before := gitIn(t, repo.work, "rev-parse", "HEAD")
	after := repo.commit("second", map[string]string{"README": "hi\n"})
	repo.push("main")
	s := startService(t, serveConfig{repo: repo})

	// Forged: a wrong secret, and no signature at all.
	if code, _ := s.deliver("push", "d-forged", ghPush(before, after, "refs/heads/main"), "wrong"); code != 401 {
		t.Fatalf("forged delivery: %d, want 401", code)
	}
	body, _ := json.Marshal(ghPush(before, after, "refs/heads/main"))
	if code, _ := s.post("/webhook", body, map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-unsigned"}); code != 401 {
		t.Fatalf("unsigned delivery: %d, want 401", code)
	}
	if n := len(s.runs()); n != 0 {
		t.Fatalf("forged deliveries started %d runs", n)
	}

	code, msg := s.deliver("push", "d-1", ghPush(before, after, "refs/heads/main"), serveSecret)
	if code != 202 {
		t.Fatalf("push delivery: %d %s", code, msg)
	}
	run := s.waitRun("of the push", func(r apiRun) bool { return r.Event == "push" })
	if run.Conclusion != "success" || run.HeadSHA != after || run.HeadBranch != "main" {
		t.Fatalf("run %+v, want a success at %s on main\n%s", run, after, s.logs.String())
	}
	log := s.runLog(run.ID)
	if !strings.Contains(log, "hello from push at "+after+" on refs/heads/main") || !strings.Contains(log, "checked out "+after) {
		t.Fatalf("log lacks the step's output:\n%s", log)
	}

	// A replay of the same delivery starts nothing, nor does a deletion.
	if code, msg := s.deliver("push", "d-1", ghPush(before, after, "refs/heads/main"), serveSecret); code != 200 || !strings.Contains(msg, "duplicate") {
		t.Fatalf("replayed delivery: %d %s", code, msg)
	}
	del := ghPush(after, "0000000000000000000000000000000000000000", "refs/heads/main")
	del["deleted"] = true
	if code, _ := s.deliver("push", "d-2", del, serveSecret); code != 202 {
		t.Fatalf("deletion delivery: %d", code)
	}
	// A push to a branch the workflow does not build starts nothing.
	if code, _ := s.deliver("push", "d-3", ghPush(before, after, "refs/heads/other"), serveSecret); code != 202 {
		t.Fatalf("other branch delivery: %d", code)
	}
	if runs := s.runs(); len(runs) != 1 {
		t.Fatalf("%d runs after replay, deletion and other branch, want 1: %+v", len(runs), runs)
	}
	if strings.Contains(s.logs.String(), serveSecret) {
		t.Fatal("the webhook secret reached the service's log")
	}
}

// TestServeGiteaAndPullRequest: a Gitea-signed push
// (https://docs.gitea.com/usage/webhooks: X-Gitea-Event, X-Gitea-Delivery,
// X-Gitea-Signature, the hex HMAC-SHA256 of the body) and a GitHub
// pull_request opened.
func TestServeGiteaAndPullRequest(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/ci.yml": ciWorkflow})
	base := gitIn(t, repo.work, "rev-parse", "HEAD")
	head := repo.commit("feature", map[string]string{"feature.txt": "f\n"})
	repo.push("feature")
	s := startService(t, serveConfig{repo: repo})

	body, _ := json.Marshal(ghPush(base, base, "refs/heads/main"))
	mac := hmac.New(sha256.New, []byte(serveSecret))
	mac.Write(body)
	code, msg := s.post("/webhook", body, map[string]string{"X-Gitea-Event": "push", "X-Gitea-Delivery": "g-1",
		"X-Gitea-Signature": hex.EncodeToString(mac.Sum(nil)), "Content-Type": "application/json"})
	if code != 202 {
		t.Fatalf("gitea delivery: %d %s", code, msg)
	}
	if code, _ := s.post("/webhook", body, map[string]string{"X-Gitea-Event": "push", "X-Gitea-Delivery": "g-2",
		"X-Gitea-Signature": strings.Repeat("0", 64)}); code != 401 {
		t.Fatalf("forged gitea delivery: %d, want 401", code)
	}
	push := s.waitRun("of the gitea push", func(r apiRun) bool { return r.Event == "push" })
	if push.Conclusion != "success" {
		t.Fatalf("gitea push run: %+v", push)
	}

	// https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
	pr := map[string]any{"action": "opened", "number": 7,
		"pull_request": map[string]any{"number": 7, "title": "Add a feature",
			"head": map[string]any{"ref": "feature", "sha": head}, "base": map[string]any{"ref": "main", "sha": base}},
		"repository": map[string]any{"name": "app", "full_name": "octo/app", "owner": map[string]any{"login": "octo"}},
		"sender":     map[string]any{"login": "hubot"}}
	if code, msg := s.deliver("pull_request", "pr-1", pr, serveSecret); code != 202 {
		t.Fatalf("pull_request delivery: %d %s", code, msg)
	}
	run := s.waitRun("of the pull request", func(r apiRun) bool { return r.Event == "pull_request" })
	if run.Conclusion != "success" || run.HeadSHA != head {
		t.Fatalf("pull_request run %+v, want a success at %s", run, head)
	}
	if log := s.runLog(run.ID); !strings.Contains(log, "hello from pull_request at "+head+" on refs/pull/7/merge") {
		t.Fatalf("log:\n%s", log)
	}
	// closed is not among pull_request's default types.
	pr["action"] = "closed"
	if code, _ := s.deliver("pull_request", "pr-2", pr, serveSecret); code != 202 {
		t.Fatal("closed delivery refused")
	}
	n := 0
	for _, r := range s.runs() {
		if r.Event == "pull_request" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d pull_request runs, want 1 (closed starts none)", n)
	}
}

const dispatchWorkflow = `on:
  workflow_dispatch:
    inputs:
      who:
        required: true
      times:
        type: number
        default: 2
      loud:
        type: boolean
      level:
        type: choice
        options: [low, high]
        default: low
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "who=${{ inputs.who }} times=${{ inputs.times }} loud=${{ inputs.loud }} level=${{ inputs.level }} secret=${{ secrets.TOKEN }} var=${{ vars.COLOR }}"
`

// TestServeDispatch: workflow_dispatch through GitHub's API with typed
// inputs; a bad input gets GitHub's 422.
func TestServeDispatch(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/greet.yml": dispatchWorkflow})
	s := startService(t, serveConfig{repo: repo})
	if code, b := s.api("POST", "/repos/octo/app/actions/variables", map[string]string{"name": "COLOR", "value": "teal"}); code != 201 {
		t.Fatalf("create variable: %d %s", code, b)
	}
	code, b := s.api("POST", "/repos/octo/app/actions/workflows/greet.yml/dispatches",
		map[string]any{"ref": "main", "inputs": map[string]any{"who": "mona", "times": "3", "loud": "true", "level": "high"}})
	if code != 204 {
		t.Fatalf("dispatch: %d %s", code, b)
	}
	run := s.waitRun("of the dispatch", func(r apiRun) bool { return r.Event == "workflow_dispatch" })
	if run.Conclusion != "success" {
		t.Fatalf("run %+v\n%s", run, s.runLog(run.ID))
	}
	if log := s.runLog(run.ID); !strings.Contains(log, "who=mona times=3 loud=true level=high secret= var=teal") {
		t.Fatalf("log:\n%s", log)
	}
	for _, bad := range []map[string]any{
		{"ref": "main", "inputs": map[string]any{"who": "x", "level": "medium"}},
		{"ref": "main", "inputs": map[string]any{"times": "1"}},
		{"ref": "main", "inputs": map[string]any{"who": "x", "nope": "1"}},
		{"ref": "no-such-branch", "inputs": map[string]any{"who": "x"}},
	} {
		code, b := s.api("POST", "/repos/octo/app/actions/workflows/greet.yml/dispatches", bad)
		if code != 422 || !bytes.Contains(b, []byte(`"message"`)) {
			t.Errorf("dispatch %v: %d %s, want 422 with a message", bad, code, b)
		}
	}
	if n := len(s.runs()); n != 1 {
		t.Fatalf("%d runs, want 1: refused dispatches start nothing", n)
	}
}

// TestServeCron: a schedule fires at its minute, read from an injected
// clock (VERMONT_FAKE_NOW) that starts two seconds before it.
func TestServeCron(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/nightly.yml": `on:
  schedule:
    - cron: '30 3 * * 1'
    - cron: '0 0 1 1 *'
jobs:
  nightly:
    runs-on: ubuntu-latest
    steps:
      - run: echo "scheduled by ${{ github.event.schedule }}"
`})
	// 2026-12-07 is a Monday.
	s := startService(t, serveConfig{repo: repo, env: []string{"VERMONT_FAKE_NOW=2026-12-07T03:29:58Z"}})
	run := s.waitRun("of the schedule", func(r apiRun) bool { return r.Event == "schedule" })
	if run.Conclusion != "success" || run.HeadBranch != "main" {
		t.Fatalf("run %+v", run)
	}
	if log := s.runLog(run.ID); !strings.Contains(log, "scheduled by 30 3 * * 1") {
		t.Fatalf("log:\n%s", log)
	}
	if n := len(s.runs()); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

// TestServeRerunFailedAndCancel: a re-run of failed jobs runs only those
// (the successful job is carried over with its outputs), and cancelling a
// running job stops its processes and concludes it cancelled.
func TestServeRerunFailedAndCancel(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "fixed")
	pidFile := filepath.Join(t.TempDir(), "pid")
	repo := newSrcRepo(t, map[string]string{
		".github/workflows/flaky.yml": `on: workflow_dispatch
jobs:
  first:
    runs-on: ubuntu-latest
    outputs:
      value: ${{ steps.v.outputs.value }}
    steps:
      - id: v
        run: echo "value=first-ran-$RANDOM" >> "$GITHUB_OUTPUT"
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: echo "got ${{ needs.first.outputs.value }}"
      - run: test -f ` + marker + `
`,
		".github/workflows/slow.yml": `on: workflow_dispatch
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: |
          sleep 600 &
          echo $! > ` + pidFile + `
          echo started
          wait
      - if: always()
        run: echo cleanup ran
`})
	s := startService(t, serveConfig{repo: repo})
	if code, b := s.api("POST", "/repos/octo/app/actions/workflows/flaky.yml/dispatches", map[string]any{"ref": "main"}); code != 204 {
		t.Fatalf("dispatch: %d %s", code, b)
	}
	run := s.waitRun("of flaky", func(r apiRun) bool { return r.Path == ".github/workflows/flaky.yml" })
	if run.Conclusion != "failure" {
		t.Fatalf("first attempt: %+v", run)
	}
	first := s.jobs(run.ID, "")
	var firstOut string
	for _, j := range first {
		if j.Name == "second" {
			firstOut = s.jobLog(j.ID)
		}
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, b := s.api("POST", fmt.Sprintf("/repos/octo/app/actions/runs/%d/rerun-failed-jobs", run.ID), nil); code != 201 {
		t.Fatalf("rerun failed jobs: %d %s", code, b)
	}
	again := s.waitRun("of flaky's second attempt", func(r apiRun) bool { return r.ID == run.ID && r.RunAttempt == 2 })
	if again.Conclusion != "success" {
		t.Fatalf("second attempt: %+v\n%s", again, s.logs.String())
	}
	jobs := s.jobs(run.ID, "?filter=latest")
	if len(jobs) != 2 {
		t.Fatalf("attempt 2 jobs: %+v", jobs)
	}
	for _, j := range jobs {
		if j.Name == "second" {
			got := s.jobLog(j.ID)
			// The carried-over job's output is the first attempt's.
			value := between(firstOut, "got ", "\n")
			if value == "" || !strings.Contains(got, "got "+value) {
				t.Fatalf("second job of attempt 2 did not get the carried-over output %q:\n%s", value, got)
			}
		}
	}

	// Cancel a running job.
	if code, b := s.api("POST", "/repos/octo/app/actions/workflows/slow.yml/dispatches", map[string]any{"ref": "main"}); code != 204 {
		t.Fatalf("dispatch slow: %d %s", code, b)
	}
	pid := waitPID(t, pidFile)
	slow := s.runOf(".github/workflows/slow.yml")
	if code, b := s.api("POST", fmt.Sprintf("/repos/octo/app/actions/runs/%d/cancel", slow.ID), nil); code != 202 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	done := s.waitRun("of slow", func(r apiRun) bool { return r.ID == slow.ID })
	if done.Conclusion != "cancelled" {
		t.Fatalf("cancelled run: %+v", done)
	}
	if alive(pid) {
		t.Fatalf("the cancelled step's process %d is still running", pid)
	}
	if log := s.runLog(slow.ID); !strings.Contains(log, "cleanup ran") {
		t.Fatalf("the always() step did not run after the cancel:\n%s", log)
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// TestServeCrash: SIGKILL mid-run. After a restart every finished run and
// every log line already stored is there, the interrupted run is concluded
// failed with GitHub's annotation, the queued run starts, and nothing of
// the killed run is left running or on disk.
func TestServeCrash(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	repo := newSrcRepo(t, map[string]string{
		".github/workflows/quick.yml": "on: workflow_dispatch\njobs:\n  quick:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo quick done\n",
		".github/workflows/slow.yml": `on: workflow_dispatch
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: |
          for i in 1 2 3; do echo "line $i"; done
          sleep 600 &
          echo $! > ` + pidFile + `
          wait
`})
	s := startService(t, serveConfig{repo: repo, workers: 1})
	dispatch := func(s *service, wf string) {
		t.Helper()
		if code, b := s.api("POST", "/repos/octo/app/actions/workflows/"+wf+"/dispatches", map[string]any{"ref": "main"}); code != 204 {
			t.Fatalf("dispatch %s: %d %s", wf, code, b)
		}
	}
	dispatch(s, "quick.yml")
	quick := s.waitRun("quick", func(r apiRun) bool { return r.Path == ".github/workflows/quick.yml" })
	dispatch(s, "slow.yml")
	pid := waitPID(t, pidFile)
	slow := s.runOf(".github/workflows/slow.yml")
	// Wait for the printed lines to be stored, then queue one more run
	// behind the slow one (one worker) and kill the service.
	waitFor(t, "the slow run's lines", func() bool { return strings.Contains(s.runLog(slow.ID), "line 3") })
	dispatch(s, "quick.yml")
	s.kill()

	s2 := startService(t, serveConfig{repo: repo, data: s.data, token: s.token, workers: 1})
	crashed := s2.waitRun("interrupted", func(r apiRun) bool { return r.ID == slow.ID })
	if crashed.Conclusion != "failure" {
		t.Fatalf("interrupted run: %+v", crashed)
	}
	if log := s2.runLog(slow.ID); !strings.Contains(log, "line 1") || !strings.Contains(log, "line 3") {
		t.Fatalf("lines stored before the kill are gone:\n%s", log)
	}
	// The job carries the annotation GitHub gives a job whose runner was
	// lost (read from the store: the API has no annotations endpoint yet).
	st, err := store.Open(context.Background(), s.data)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := st.Annotations(context.Background(), s2.jobs(slow.ID, "")[0].ID)
	st.Close()
	if err != nil || len(notes) != 1 || notes[0].Level != "failure" || !strings.Contains(notes[0].Message, "shutdown signal") {
		t.Fatalf("annotations of the interrupted job: %+v %v", notes, err)
	}
	if again := s2.waitRun("quick, again", func(r apiRun) bool { return r.ID == quick.ID }); again.Conclusion != "success" {
		t.Fatalf("finished run changed: %+v", again)
	}
	queued := s2.waitRun("queued before the kill", func(r apiRun) bool {
		return r.Path == ".github/workflows/quick.yml" && r.ID != quick.ID
	})
	if queued.Conclusion != "success" {
		t.Fatalf("queued run: %+v", queued)
	}
	if alive(pid) {
		t.Fatalf("the killed run's process %d is still running", pid)
	}
	work, _ := os.ReadDir(filepath.Join(s.data, "work"))
	if len(work) != 0 {
		t.Fatalf("work directories left: %v", work)
	}
}

// TestServeNotify: a plain git server's post-receive hook starts the
// push's runs through `vermont serve notify`.
func TestServeNotify(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/ci.yml": ciWorkflow})
	s := startService(t, serveConfig{repo: repo})
	hook := fmt.Sprintf("#!/bin/sh\nVERMONT_WEBHOOK_SECRET=%q exec %q serve notify --url %q --repo octo/app\n",
		serveSecret, vermontBinary(t), s.url)
	if err := os.WriteFile(filepath.Join(repo.bare, "hooks", "post-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	after := repo.commit("pushed through a hook", map[string]string{"b.txt": "b\n"})
	repo.push("main")
	run := s.waitRun("of the hook's push", func(r apiRun) bool { return r.Event == "push" })
	if run.Conclusion != "success" || run.HeadSHA != after {
		t.Fatalf("run %+v, want a success at %s", run, after)
	}
}

// alive reports whether pid runs: a zombie waiting for a parent that does
// not reap it (an orphan under a minimal init) has stopped.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// TestServeSecretsNowhere: a secret set as gh sets it (sealed to the
// repository's public key) reaches the run as secrets.*, and its value is
// in no file of the data directory (the database and its WAL included),
// not in the service's log, and in no API answer.
func TestServeSecretsNowhere(t *testing.T) {
	t.Parallel()
	const value = "hunter2-correct-horse-battery"
	repo := newSrcRepo(t, map[string]string{".github/workflows/use.yml": `on: workflow_dispatch
jobs:
  use:
    runs-on: ubuntu-latest
    outputs:
      leaked: ${{ steps.s.outputs.v }}
    steps:
      - id: s
        run: |
          echo "the secret is ${{ secrets.DEPLOY_KEY }}"
          echo "v=$DEPLOY" >> "$GITHUB_OUTPUT"
          test "$DEPLOY" = "` + value + `"
        env:
          DEPLOY: ${{ secrets.DEPLOY_KEY }}
`})
	s := startService(t, serveConfig{repo: repo})
	var answers bytes.Buffer
	call := func(method, path string, body any) (int, []byte) {
		code, b := s.api(method, path, body)
		answers.Write(b)
		return code, b
	}
	code, b := call("GET", "/repos/octo/app/actions/secrets/public-key", nil)
	var pk struct {
		KeyID string `json:"key_id"`
		Key   string `json:"key"`
	}
	if code != 200 || json.Unmarshal(b, &pk) != nil {
		t.Fatalf("public key: %d %s", code, b)
	}
	raw, err := base64.StdEncoding.DecodeString(pk.Key)
	if err != nil || len(raw) != 32 {
		t.Fatalf("public key %q: %v", pk.Key, err)
	}
	var pub [32]byte
	copy(pub[:], raw)
	sealed, err := box.SealAnonymous(nil, []byte(value), &pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if code, b := call("PUT", "/repos/octo/app/actions/secrets/DEPLOY_KEY",
		map[string]string{"encrypted_value": base64.StdEncoding.EncodeToString(sealed), "key_id": pk.KeyID}); code != 201 {
		t.Fatalf("put secret: %d %s", code, b)
	}
	if code, b := call("POST", "/repos/octo/app/actions/workflows/use.yml/dispatches", map[string]any{"ref": "main"}); code != 204 {
		t.Fatalf("dispatch: %d %s", code, b)
	}
	run := s.waitRun("using the secret", func(r apiRun) bool { return r.Event == "workflow_dispatch" })
	log := s.runLog(run.ID)
	answers.WriteString(log)
	if run.Conclusion != "success" || !strings.Contains(log, "the secret is ***") {
		t.Fatalf("run %+v:\n%s", run, log)
	}
	for _, path := range []string{"/repos/octo/app/actions/secrets", "/repos/octo/app/actions/secrets/DEPLOY_KEY",
		fmt.Sprintf("/repos/octo/app/actions/runs/%d", run.ID), fmt.Sprintf("/repos/octo/app/actions/runs/%d/jobs", run.ID)} {
		if code, b := call("GET", path, nil); code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, b)
		}
	}
	s.stop()
	if bytes.Contains(answers.Bytes(), []byte(value)) {
		t.Fatal("an API answer holds the secret's value")
	}
	if strings.Contains(s.logs.String(), value) {
		t.Fatal("the service's log holds the secret's value")
	}
	err = filepath.WalkDir(s.data, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(value)) {
			t.Errorf("%s holds the secret's value", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServeEventsAndConcurrency: repository_dispatch through the API
// (client_payload reaches github.event), an issues delivery runs the
// default branch's workflow, a concurrency group with cancel-in-progress
// cancels the running member when a new one comes, and /metrics counts
// it all; every log line about a job names its run and job.
func TestServeEventsAndConcurrency(t *testing.T) {
	t.Parallel()
	started := filepath.Join(t.TempDir(), "started")
	repo := newSrcRepo(t, map[string]string{
		".github/workflows/events.yml": `on:
  repository_dispatch:
    types: [deploy]
  issues:
    types: [opened]
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - run: echo "event=${{ github.event_name }} env=${{ github.event.client_payload.env }} issue=${{ github.event.issue.number }}"
`,
		".github/workflows/deploy.yml": `on: workflow_dispatch
concurrency:
  group: deploy-${{ github.ref }}
  cancel-in-progress: true
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo go >> ` + started + `
          sleep 600
`})
	s := startService(t, serveConfig{repo: repo})
	if code, b := s.api("POST", "/repos/octo/app/dispatches", map[string]any{"event_type": "deploy", "client_payload": map[string]any{"env": "prod"}}); code != 204 {
		t.Fatalf("repository dispatch: %d %s", code, b)
	}
	rd := s.waitRun("of repository_dispatch", func(r apiRun) bool { return r.Event == "repository_dispatch" })
	if log := s.runLog(rd.ID); rd.Conclusion != "success" || !strings.Contains(log, "event=repository_dispatch env=prod issue=") {
		t.Fatalf("repository_dispatch run %+v:\n%s", rd, log)
	}
	// https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues
	issue := map[string]any{"action": "opened", "issue": map[string]any{"number": 42, "title": "It broke"},
		"repository": map[string]any{"name": "app", "full_name": "octo/app", "owner": map[string]any{"login": "octo"}},
		"sender":     map[string]any{"login": "hubot"}}
	if code, msg := s.deliver("issues", "i-1", issue, serveSecret); code != 202 {
		t.Fatalf("issues delivery: %d %s", code, msg)
	}
	ir := s.waitRun("of issues", func(r apiRun) bool { return r.Event == "issues" })
	if log := s.runLog(ir.ID); ir.Conclusion != "success" || ir.HeadBranch != "main" || !strings.Contains(log, "event=issues env= issue=42") {
		t.Fatalf("issues run %+v:\n%s", ir, log)
	}

	dispatch := func() {
		t.Helper()
		if code, b := s.api("POST", "/repos/octo/app/actions/workflows/deploy.yml/dispatches", map[string]any{"ref": "main"}); code != 204 {
			t.Fatalf("dispatch: %d %s", code, b)
		}
	}
	dispatch()
	waitFor(t, "the first deploy to start", func() bool { b, _ := os.ReadFile(started); return len(b) > 0 })
	dispatch()
	first := s.waitRun("of the first deploy", func(r apiRun) bool {
		return r.Path == ".github/workflows/deploy.yml" && r.Conclusion == "cancelled"
	})
	waitFor(t, "the second deploy to start", func() bool { b, _ := os.ReadFile(started); return strings.Count(string(b), "go") == 2 })
	var second apiRun
	for _, r := range s.runs() {
		if r.Path == ".github/workflows/deploy.yml" && r.ID != first.ID {
			second = r
		}
	}
	if second.Status != "in_progress" {
		t.Fatalf("second deploy %+v, want in progress", second)
	}
	if code, b := s.api("POST", fmt.Sprintf("/repos/octo/app/actions/runs/%d/cancel", second.ID), nil); code != 202 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	s.waitRun("of the second deploy", func(r apiRun) bool { return r.ID == second.ID })

	resp, err := s.client.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`vermont_runs_total{conclusion="success"} 2`, `vermont_runs_total{conclusion="cancelled"} 2`,
		`vermont_webhook_deliveries_total{result="accepted"} 1`, "vermont_run_duration_seconds_bucket", "vermont_runs_queued 0"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"job_id"`) && !strings.Contains(line, `"run_id"`) {
			t.Errorf("a job's log line without its run: %s", line)
		}
	}
	if !strings.Contains(s.logs.String(), `"job_id"`) {
		t.Error("no log line names a job")
	}
}

// TestServePathsFilter: on.push.paths is applied to the files the push
// changed, read from the mirror (the payload lists at most 20 commits, and
// notify's none): a push that touches no docs starts nothing, one that does
// starts the workflow.
func TestServePathsFilter(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/docs.yml": "on:\n  push:\n    paths: ['docs/**']\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo docs changed\n"})
	first := gitIn(t, repo.work, "rev-parse", "HEAD")
	code := repo.commit("code only", map[string]string{"main.go": "package main\n"})
	docs := repo.commit("docs", map[string]string{"docs/a.md": "# A\n"})
	repo.push("main")
	s := startService(t, serveConfig{repo: repo})
	if c, msg := s.deliver("push", "p-1", ghPush(first, code, "refs/heads/main"), serveSecret); c != 202 || !strings.Contains(msg, "0 run(s)") {
		t.Fatalf("push of code: %d %s, want no run", c, msg)
	}
	if c, msg := s.deliver("push", "p-2", ghPush(code, docs, "refs/heads/main"), serveSecret); c != 202 || !strings.Contains(msg, "1 run(s)") {
		t.Fatalf("push of docs: %d %s, want one run", c, msg)
	}
	if run := s.waitRun("of the docs push", func(r apiRun) bool { return r.Event == "push" }); run.HeadSHA != docs || run.Conclusion != "success" {
		t.Fatalf("run %+v", run)
	}
	if n := len(s.runs()); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

// waitPID waits for a step to write its background process's pid to file.
func waitPID(t *testing.T, file string) int {
	t.Helper()
	var pid int
	waitFor(t, "the step's pid in "+file, func() bool {
		b, _ := os.ReadFile(file)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return pid != 0
	})
	return pid
}
