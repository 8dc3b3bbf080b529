//go:build linux && !thin

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/internal/pgtest"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
)

// The tests and benchmark below run several real `vermont serve`
// processes (the binary built by the test) on one private PostgreSQL
// database (internal/pgtest), each with its own data directory, as
// separate machines would.

// cluster is a PostgreSQL database, a repository and the hosts serving it.
type cluster struct {
	tb     testing.TB
	db     string // the database URL
	bare   string // the repository
	sha    string // its main branch
	shared string // the shared artifact directory
	token  string
	key    string       // VERMONT_SECRET_KEY, the same on every host
	st     *store.Store // the test's own connection
	repoID int64
	hosts  []*hostProc
}

// hostProc is one `vermont serve` process.
type hostProc struct {
	*serveProc
	name string
	url  string
}

// newCluster starts PostgreSQL and makes a repository with files.
func newCluster(tb testing.TB, files map[string]string) *cluster {
	tb.Helper()
	srv := pgtest.New(tb)
	url, err := srv.NewDatabase(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	c := &cluster{tb: tb, db: url, bare: filepath.Join(dir, "app.git"), shared: filepath.Join(dir, "shared-artifacts")}
	work := filepath.Join(dir, "work")
	git := func(dir string, args ...string) string {
		tb.Helper()
		cmd := osexec.Command("git", append([]string{"-c", "user.name=Octo Cat", "-c", "user.email=octo@example.com"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			tb.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(dir, "init", "-q", "--bare", "-b", "main", c.bare)
	git(dir, "init", "-q", "-b", "main", work)
	for name, content := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "first")
	git(work, "push", "-q", c.bare, "HEAD:refs/heads/main")
	c.sha = git(work, "rev-parse", "HEAD")

	bin := vermontBinary(tb)
	out, err := osexec.Command(bin, "token", "create", "--data", tb.TempDir(), "--database", url, "--scope", "admin", "tester").Output()
	if err != nil {
		tb.Fatalf("token create --database: %v", err)
	}
	c.token = strings.TrimSpace(string(out))
	c.st, err = store.Open(context.Background(), tb.TempDir(), store.WithDatabase(url))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.st.Close() })
	r, err := c.st.PutRepository(context.Background(), store.Repository{Owner: "octo", Name: "app", CloneURL: c.bare, DefaultBranch: "main"})
	if err != nil {
		tb.Fatal(err)
	}
	c.repoID = r.ID
	// Every host has the same service key; a secret stored once is read
	// by whichever host runs the run (ledgerWorkflow checks it).
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		tb.Fatal(err)
	}
	c.key = base64.StdEncoding.EncodeToString(raw)
	box, err := secrets.New(raw)
	if err != nil {
		tb.Fatal(err)
	}
	nonce, sealed, err := box.Encrypt(secrets.RowContext(r.ID, "SHARED"), []byte(sharedSecret))
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.st.PutSecret(context.Background(), store.Secret{RepoID: r.ID, Name: "SHARED", Ciphertext: sealed, Nonce: nonce}); err != nil {
		tb.Fatal(err)
	}
	return c
}

// sharedSecret is the repository secret SHARED's value.
const sharedSecret = "shared-by-every-host"

// start starts host name with its own data directory.
func (c *cluster) start(name string, env []string, args ...string) *hostProc {
	c.tb.Helper()
	bin := vermontBinary(c.tb)
	all := append([]string{"serve", "--data", c.tb.TempDir(), "--database", c.db, "--host", name,
		"--artifacts", c.shared, "--listen", "127.0.0.1:0", "--repo", "octo/app=" + c.bare}, args...)
	p := startServeProc(c.tb, bin, all, append([]string{"VERMONT_WEBHOOK_SECRET=" + "hosts-test", "VERMONT_SECRET_KEY=" + c.key}, env...))
	h := &hostProc{serveProc: p, name: name, url: "http://" + p.addr}
	c.hosts = append(c.hosts, h)
	return h
}

// completed lists the run ids the host's log says it completed, with
// their conclusions.
func (h *hostProc) completed() map[int64]string {
	out := map[int64]string{}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		var m struct {
			Msg        string  `json:"msg"`
			RunID      float64 `json:"run_id"`
			Conclusion string  `json:"conclusion"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "run completed" {
			out[int64(m.RunID)] = m.Conclusion
		}
	}
	return out
}

// api calls host h's REST API with the admin token.
func (c *cluster) api(h *hostProc, method, path string) (int, []byte) {
	c.tb.Helper()
	req, _ := http.NewRequest(method, h.url+"/api/v3"+path, nil)
	req.Header.Set("Authorization", "token "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// queue queues n runs of the workflow at path, as a dispatch through any
// host would, and returns their ids.
func (c *cluster) queue(path string, n int) []int64 {
	c.tb.Helper()
	var ids []int64
	for range n {
		run, err := c.st.CreateRun(context.Background(), store.NewRun{RepoID: c.repoID, WorkflowPath: path,
			Event: "workflow_dispatch", HeadSHA: c.sha, HeadBranch: "main", Ref: "refs/heads/main", Actor: "octo"})
		if err != nil {
			c.tb.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	return ids
}

// waitCompleted waits until n runs have completed, within limit.
func (c *cluster) waitCompleted(n int, limit time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		done, err := c.st.CountRuns(context.Background(), store.RunFilter{Status: string(store.Completed)})
		if err != nil {
			c.tb.Fatal(err)
		}
		if done >= n {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, h := range c.hosts {
				fmt.Fprintf(&logs, "--- %s\n%s", h.name, tail(h.logs.String(), 4000))
			}
			c.tb.Fatalf("%d of %d runs completed after %v\n%s", done, n, limit, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ledgerWorkflow appends "run_id attempt" to ledger for each execution,
// once it has checked that the host decrypted the secret SHARED.
func ledgerWorkflow(ledger string) string {
	return `on: workflow_dispatch
jobs:
  once:
    runs-on: ubuntu-latest
    steps:
      - run: |
          [ "${{ secrets.SHARED }}" = "` + sharedSecret + `" ] || { echo "secret SHARED not decrypted"; exit 1; }
          echo "${{ github.run_id }} ${{ github.run_attempt }}" >> ` + ledger + `
`
}

// readLedger counts the executions of each run.
func readLedger(tb testing.TB, ledger string) map[int64]int {
	tb.Helper()
	b, err := os.ReadFile(ledger)
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	out := map[int64]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		id, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || len(f) != 2 {
			tb.Fatalf("ledger line %q", line)
		}
		out[id]++
	}
	return out
}

// TestServeHostsShareQueue: three hosts on one database and 300 queued
// runs: every run executes exactly once (the ledger its step appends to),
// succeeds, and is completed by one host.
func TestServeHostsShareQueue(t *testing.T) {
	t.Parallel()
	ledger := filepath.Join(t.TempDir(), "ledger")
	c := newCluster(t, map[string]string{".github/workflows/once.yml": ledgerWorkflow(ledger)})
	const runs = 300
	ids := c.queue(".github/workflows/once.yml", runs)
	start := time.Now()
	for _, name := range []string{"host-a", "host-b", "host-c"} {
		c.start(name, nil, "--workers", "2")
	}
	c.waitCompleted(runs, 5*time.Minute)
	t.Logf("%d runs on 3 hosts in %v", runs, time.Since(start).Round(time.Millisecond))

	counts := readLedger(t, ledger)
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("run %d executed %d times, want once", id, counts[id])
		}
	}
	if len(counts) != runs {
		t.Errorf("ledger has %d runs, want %d", len(counts), runs)
	}
	if n, err := c.st.CountRuns(context.Background(), store.RunFilter{Status: string(store.Success)}); err != nil || n != runs {
		t.Errorf("%d runs succeeded (%v), want %d", n, err, runs)
	}
	by := map[int64]string{}
	for _, h := range c.hosts {
		done := h.completed()
		// Usually about a third each; not asserted: a host that starts
		// late on a loaded machine may find the backlog gone.
		t.Logf("%s completed %d runs", h.name, len(done))
		for id := range done {
			if prev, ok := by[id]; ok {
				t.Errorf("run %d completed by %s and %s", id, prev, h.name)
			}
			by[id] = h.name
		}
	}
	if len(by) != runs {
		t.Errorf("hosts completed %d runs, want %d", len(by), runs)
	}
}

// TestServeHostsKill: a host is killed (SIGKILL) while running a run.
// The others conclude its run as lost within lease + lease/3 and take
// the queued work; its log, written before the kill, is read through
// another host; a cancel through one host stops a run on another.
func TestServeHostsKill(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	pidFile := filepath.Join(tmp, "pid")
	ledger := filepath.Join(tmp, "ledger")
	c := newCluster(t, map[string]string{
		".github/workflows/once.yml": ledgerWorkflow(ledger),
		".github/workflows/slow.yml": `on: workflow_dispatch
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "slow run started"
          sleep 600 &
          echo $! >> ` + pidFile + `
          wait
`})
	// Long enough that a loaded machine renews in time; the bound is
	// lease + lease/3.
	const lease = 5 * time.Second
	leaseFlag := []string{"--lease", lease.String(), "--workers", "2"}
	// The first host alone takes the slow run.
	slow := c.queue(".github/workflows/slow.yml", 1)[0]
	a := c.start("host-a", nil, leaseFlag...)
	pids := waitPIDs(t, pidFile, 1)
	t.Cleanup(func() {
		for _, p := range readPIDs(pidFile) {
			_ = syscall.Kill(p, syscall.SIGKILL) // a killed host leaves its processes
		}
	})
	b := c.start("host-b", nil, leaseFlag...)
	c.start("host-c", nil, leaseFlag...)

	// Its log is read through another host.
	waitUntil(t, "the slow run's log through host-b", 30*time.Second, func() bool {
		return strings.Contains(c.runLog(b, slow), "slow run started")
	})
	queued := c.queue(".github/workflows/once.yml", 30)
	a.kill()
	killed := time.Now()
	for range 30 {
		c.queue(".github/workflows/once.yml", 1)
	}
	var lostAfter time.Duration
	waitUntil(t, "the killed host's run concluded", lease*4, func() bool {
		run, err := c.st.Run(context.Background(), slow)
		if err == nil && run.Status == store.Completed {
			lostAfter = time.Since(killed)
			return true
		}
		return false
	})
	t.Logf("killed host's run concluded as lost %v after SIGKILL (lease %v)", lostAfter.Round(time.Millisecond), lease)
	run, _ := c.st.Run(context.Background(), slow)
	if run.Conclusion != store.Failure {
		t.Fatalf("lost run %+v", run)
	}
	jobs, err := c.st.Jobs(context.Background(), slow, 0)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs of the lost run: %+v %v", jobs, err)
	}
	notes, err := c.st.Annotations(context.Background(), jobs[0].ID)
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0].Message, "lost communication with the server") {
		t.Fatalf("annotations of the lost job: %+v %v", notes, err)
	}
	// host-a may have claimed some of the first 30 before it died: those
	// are lost too. Every other run succeeded, exactly once.
	c.waitCompleted(61, 2*time.Minute)
	counts := readLedger(t, ledger)
	all, err := c.st.ListRuns(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for _, r := range all {
		switch {
		case r.ID == slow:
		case r.Conclusion == store.Success:
			if counts[r.ID] != 1 {
				t.Errorf("run %d executed %d times, want once", r.ID, counts[r.ID])
			}
		case r.Conclusion == store.Failure:
			lost++
			if _, ok := a.completed()[r.ID]; ok {
				t.Errorf("run %d completed by host-a, then concluded lost", r.ID)
			}
		default:
			t.Errorf("run %d: %s %s", r.ID, r.Status, r.Conclusion)
		}
	}
	t.Logf("runs host-a held when killed, besides the slow one: %d of the %d queued before", lost, len(queued))

	// A cancel through one host reaches a run on another.
	slow2 := c.queue(".github/workflows/slow.yml", 1)[0]
	waitPIDs(t, pidFile, 2)
	var holder string
	waitUntil(t, "the second slow run in progress", 30*time.Second, func() bool {
		r, err := c.st.Run(context.Background(), slow2)
		holder = r.LeaseHost
		return err == nil && r.Status == store.InProgress
	})
	other := b
	if holder == b.name {
		other = c.hosts[2]
	}
	if code, body := c.api(other, "POST", fmt.Sprintf("/repos/octo/app/actions/runs/%d/cancel", slow2)); code != http.StatusAccepted {
		t.Fatalf("cancel through %s of a run on %s: %d %s", other.name, holder, code, body)
	}
	waitUntil(t, "the cancelled run concluded", 30*time.Second, func() bool {
		r, err := c.st.Run(context.Background(), slow2)
		return err == nil && r.Status == store.Completed
	})
	if r, _ := c.st.Run(context.Background(), slow2); r.Conclusion != store.Cancelled {
		t.Fatalf("run cancelled through %s, held by %s: %+v", other.name, holder, r)
	}
	_ = pids
}

// runLog reads every job log of run id through host h.
func (c *cluster) runLog(h *hostProc, id int64) string {
	c.tb.Helper()
	code, b := c.api(h, "GET", fmt.Sprintf("/repos/octo/app/actions/runs/%d/jobs", id))
	if code != 200 {
		return ""
	}
	var list struct {
		Jobs []struct {
			ID int64 `json:"id"`
		} `json:"jobs"`
	}
	if json.Unmarshal(b, &list) != nil {
		return ""
	}
	var all strings.Builder
	for _, j := range list.Jobs {
		if code, b := c.api(h, "GET", fmt.Sprintf("/repos/octo/app/actions/jobs/%d/logs", j.ID)); code == 200 {
			all.Write(b)
		}
	}
	return all.String()
}

func readPIDs(file string) []int {
	b, _ := os.ReadFile(file)
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// waitPIDs waits until file lists n pids.
func waitPIDs(t *testing.T, file string, n int) []int {
	t.Helper()
	var pids []int
	waitUntil(t, fmt.Sprintf("%d pids in %s", n, file), 60*time.Second, func() bool {
		pids = readPIDs(file)
		return len(pids) >= n
	})
	return pids
}

func waitUntil(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeHostsCron: three hosts see the same schedule ticks; each tick
// starts its workflows once. Two crons tick at 03:30 (one shared by two
// workflows), so three runs, whichever host claims each tick.
func TestServeHostsCron(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]string{
		".github/workflows/nightly.yml": `on:
  schedule:
    - cron: '30 3 * * 1'
    - cron: '30 3 * * *'
jobs:
  nightly:
    runs-on: ubuntu-latest
    steps:
      - run: echo "nightly by ${{ github.event.schedule }}"
`,
		".github/workflows/weekly.yml": `on:
  schedule:
    - cron: '30 3 * * 1'
jobs:
  weekly:
    runs-on: ubuntu-latest
    steps:
      - run: echo "weekly by ${{ github.event.schedule }}"
`})
	// 2026-12-07 is a Monday; each host's clock starts at 03:29:50 when
	// it starts, so every host, even one slow to start on a loaded
	// machine, is running by the 03:30 tick.
	env := []string{"VERMONT_FAKE_NOW=2026-12-07T03:29:50Z"}
	for _, name := range []string{"host-a", "host-b", "host-c"} {
		c.start(name, env)
	}
	seen := func(h *hostProc) (claimed, taken int) {
		l := h.logs.String()
		return strings.Count(l, `"msg":"schedule tick claimed"`), strings.Count(l, `"msg":"schedule tick taken by another host"`)
	}
	waitUntil(t, "every host past both ticks", 60*time.Second, func() bool {
		for _, h := range c.hosts {
			if cl, tk := seen(h); cl+tk < 2 {
				return false
			}
		}
		return true
	})
	claimedTotal := 0
	for _, h := range c.hosts {
		cl, tk := seen(h)
		t.Logf("%s: claimed %d ticks, found %d taken", h.name, cl, tk)
		claimedTotal += cl
	}
	if claimedTotal != 2 {
		t.Fatalf("%d tick claims across hosts, want 2 (one per tick)", claimedTotal)
	}
	c.waitCompleted(3, 60*time.Second)
	runs, err := c.st.ListRuns(context.Background(), store.RunFilter{Event: "schedule"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range runs {
		var p struct {
			Schedule string `json:"schedule"`
		}
		_ = json.Unmarshal(r.Payload, &p)
		got[r.WorkflowPath+" "+p.Schedule]++
		if r.Conclusion != store.Success {
			t.Errorf("run %d: %s", r.ID, r.Conclusion)
		}
	}
	want := map[string]int{".github/workflows/nightly.yml 30 3 * * 1": 1, ".github/workflows/nightly.yml 30 3 * * *": 1,
		".github/workflows/weekly.yml 30 3 * * 1": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("schedule runs %v, want %v", got, want)
	}
}

// BenchmarkServeHosts measures runs/s of one-step runs executed by 1 and
// by 3 `vermont serve` hosts (2 workers each) on one PostgreSQL database:
// b.N runs are queued, the hosts started, and the rate is b.N over the
// time from the first run's start to the last one's completion, as the
// store records them. All hosts share this machine's cores, so the 3-host
// figure shows what coordination costs, not what more machines add.
//
//	go test ./cmd/vermont -run '^$' -bench BenchmarkServeHosts -benchtime 300x
func BenchmarkServeHosts(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			ledger := filepath.Join(b.TempDir(), "ledger")
			c := newCluster(b, map[string]string{".github/workflows/once.yml": ledgerWorkflow(ledger)})
			c.queue(".github/workflows/once.yml", b.N)
			b.ResetTimer()
			for i := range n {
				c.start(fmt.Sprintf("host-%d", i), nil, "--workers", "2")
			}
			c.waitCompleted(b.N, 10*time.Minute)
			b.StopTimer()
			var first, last int64
			if err := c.st.DB().QueryRow(`SELECT MIN(started_at), MAX(completed_at) FROM runs`).Scan(&first, &last); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Duration(last-first).Seconds(), "runs/s")
			if got := readLedger(b, ledger); len(got) != b.N {
				b.Fatalf("%d runs executed, want %d", len(got), b.N)
			}
		})
	}
}

// TestServeHostsArtifacts: an artifact recorded as the hosts record one
// kept in the shared --artifacts directory (an absolute path there) is
// listed and downloaded through every host's API. (A run cannot upload
// one through `vermont serve` yet: serve resolves no actions, and `run:`
// steps get no results token, as on GitHub.)
func TestServeHostsArtifacts(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]string{".github/workflows/once.yml": ledgerWorkflow(filepath.Join(t.TempDir(), "ledger"))})
	id := c.queue(".github/workflows/once.yml", 1)[0]
	c.start("host-a", nil)
	c.start("host-b", nil)
	c.waitCompleted(1, 90*time.Second)
	if r, err := c.st.Run(context.Background(), id); err != nil || r.Conclusion != store.Success {
		t.Fatalf("run %+v %v:\n%s", r, err, c.runLog(c.hosts[0], id))
	}
	data := filepath.Join(c.shared, "run-1", "dist.txt")
	if err := os.MkdirAll(filepath.Dir(data), 0o755); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("artifact of run %d\n", id)
	if err := os.WriteFile(data, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	art, err := c.st.AddArtifact(context.Background(), store.Artifact{RunID: id, Name: "dist", Size: int64(len(want)), Path: data})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.hosts {
		code, body := c.api(h, "GET", fmt.Sprintf("/repos/octo/app/actions/runs/%d/artifacts", id))
		if code != 200 || !strings.Contains(string(body), `"name":"dist"`) {
			t.Fatalf("artifacts through %s: %d %s", h.name, code, body)
		}
		code, body = c.api(h, "GET", fmt.Sprintf("/repos/octo/app/actions/artifacts/%d/zip", art.ID))
		if code != 200 {
			t.Fatalf("download through %s: %d %s", h.name, code, body)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil || len(zr.File) != 1 {
			t.Fatalf("download through %s is not a one-file zip: %v", h.name, err)
		}
		f, _ := zr.File[0].Open()
		content, _ := io.ReadAll(f)
		f.Close()
		if string(content) != want {
			t.Fatalf("artifact through %s: %q, want %q", h.name, content, want)
		}
	}
}

// TestServeHostsPaused: a host that stops (SIGSTOP, as a long pause or a
// partition would) past its lease has its run concluded as lost by the
// other; when it resumes it finds its lease gone, stops the run's
// processes and records nothing over the conclusion.
func TestServeHostsPaused(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	c := newCluster(t, map[string]string{".github/workflows/slow.yml": `on: workflow_dispatch
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: |
          sleep 600 &
          echo $! >> ` + pidFile + `
          wait
`})
	const lease = 3 * time.Second
	id := c.queue(".github/workflows/slow.yml", 1)[0]
	a := c.start("host-a", nil, "--lease", lease.String())
	pid := waitPIDs(t, pidFile, 1)[0]
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	c.start("host-b", nil, "--lease", lease.String())
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the paused host's run concluded", lease*4, func() bool {
		r, err := c.st.Run(context.Background(), id)
		return err == nil && r.Status == store.Completed
	})
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "host-a to stop the run", lease*4, func() bool {
		return strings.Contains(a.logs.String(), "another host concluded it as lost")
	})
	waitUntil(t, "the run's process to end", 30*time.Second, func() bool { return syscall.Kill(pid, 0) != nil })
	r, _ := c.st.Run(context.Background(), id)
	if r.Conclusion != store.Failure {
		t.Fatalf("run after host-a resumed: %+v", r)
	}
	if _, ok := a.completed()[id]; ok {
		t.Fatal("host-a recorded a conclusion of a run concluded as lost")
	}
}

// TestServeDatabaseFlags: --database without a shared service key, or
// with something other than a postgres:// URL, is a clear error; a
// password in the URL is not in it.
func TestServeDatabaseFlags(t *testing.T) {
	t.Parallel()
	bin := vermontBinary(t)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VERMONT_SECRET_KEY=") && !strings.HasPrefix(kv, "VERMONT_DATABASE=") {
			env = append(env, kv)
		}
	}
	for _, tt := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"serve", "--database", "postgres://ci:pw-1234@127.0.0.1:1/v"}, nil, "VERMONT_SECRET_KEY"},
		{[]string{"serve", "--database", "mysql://ci:pw-1234@127.0.0.1:1/v"}, []string{"VERMONT_SECRET_KEY=" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, "postgres:// or postgresql:// URL"},
		{[]string{"serve"}, []string{"VERMONT_DATABASE=postgres://ci:pw-1234@127.0.0.1:1/v?connect_timeout=2", "VERMONT_SECRET_KEY=" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, "postgres database \"v\" on 127.0.0.1:1"},
		{[]string{"token", "create", "--database", "postgres://ci:pw-1234@127.0.0.1:1/v?connect_timeout=2", "x"}, nil, "postgres database \"v\" on 127.0.0.1:1"},
	} {
		cmd := osexec.Command(bin, append(tt.args, "--data", t.TempDir())...)
		if tt.args[0] == "serve" {
			cmd.Args = append(cmd.Args, "--listen", "127.0.0.1:0")
		}
		cmd.Env = append(append([]string{}, env...), tt.env...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), "pw-1234") {
			t.Errorf("vermont %v: %v, output %q; want an error with %q and no password", tt.args, err, out, tt.want)
		}
	}
}
