package containerd_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The repository the fake GitHub serves, and the credentials of the test.
const (
	ghOwner  = "octo-org"
	ghRepo   = "octo-repo"
	ghPAT    = "ghp_E2eTestPersonalAccessToken0123456789"
	ghSecret = "e2e-webhook-secret-5f2a"
)

// fakeGitHub is GitHub at the HTTP boundary, for one repository:
//
//   - the REST API the pool calls (generate-jitconfig, runner removal and
//     listing, workflow runs and jobs), answering with the payload shapes
//     GitHub documents and recording the calls;
//   - a job broker standing in for the service a runner talks to: a runner
//     authenticates with the token inside its JIT config, long-polls for a
//     job (GET /_broker/acquire), runs it and reports it done (POST
//     /_broker/complete); GitHub then unregisters the ephemeral runner;
//   - webhook deliveries: a queued job, a job a runner acquired and a job a
//     runner completed are POSTed to the hook URL as signed workflow_job
//     deliveries (queued, in_progress, completed), as GitHub does.
//
// Jobs can be held: a runner that finished a held job waits for release
// before reporting it, so tests decide when a job ends without sleeping.
type fakeGitHub struct {
	t    testing.TB
	srv  *httptest.Server
	done chan struct{} // closed at cleanup: long-polls and holds return

	mu         sync.Mutex
	hook       string // webhook URL; "" while Vermont is down
	nextID     int64
	runners    map[int64]*ghRunner // registered runners
	tokens     map[string]*ghRunner
	jits       []jitCall
	removals   []int64 // DELETE .../runners/{id}, in order, whatever the answer
	jobs       map[int64]*ghJob
	waiting    []*ghJob      // queued jobs, oldest first
	wake       chan struct{} // closed and replaced when the queue or a hold changes
	deliveries []delivery
}

// ghRunner is a runner registration.
type ghRunner struct {
	id     int64
	name   string
	labels []string
	token  string
	polls  int    // acquire requests open
	job    *ghJob // the job it acquired
}

// ghJob is a workflow job.
type ghJob struct {
	id, runID int64
	labels    []string
	status    string // queued, in_progress, completed
	runner    string // the runner that acquired it
	runnerID  int64
	hold      chan struct{} // closed by release; nil when not held
}

// jitCall is one generate-jitconfig request.
type jitCall struct {
	Name          string   `json:"name"`
	RunnerGroupID int64    `json:"runner_group_id"`
	Labels        []string `json:"labels"`
	WorkFolder    string   `json:"work_folder"`
	id            int64
}

// delivery is one webhook delivery and the status it got (0: not
// delivered, Vermont was down).
type delivery struct {
	id     string
	action string
	job    int64
	status int
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{
		t: t, done: make(chan struct{}), nextID: 4000,
		runners: map[int64]*ghRunner{}, tokens: map[string]*ghRunner{}, jobs: map[int64]*ghJob{},
		wake: make(chan struct{}),
	}
	api := http.NewServeMux()
	repo := "/repos/" + ghOwner + "/" + ghRepo + "/actions"
	api.HandleFunc("POST "+repo+"/runners/generate-jitconfig", f.generateJIT)
	api.HandleFunc("DELETE "+repo+"/runners/{id}", f.removeRunner)
	api.HandleFunc("GET "+repo+"/runners", f.listRunners)
	api.HandleFunc("GET "+repo+"/runs", f.listRuns)
	api.HandleFunc("GET "+repo+"/runs/{run}/jobs", f.listJobs)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_broker/acquire", f.acquire)
	mux.HandleFunc("POST /_broker/complete", f.complete)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "Bearer "+ghPAT && auth != "token "+ghPAT {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		api.ServeHTTP(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.done)
		f.srv.Close()
	})
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// URL is the API base URL, for github.WithBaseURL.
func (f *fakeGitHub) URL() string { return f.srv.URL + "/" }

// setHook sets where deliveries go ("" makes them fail, as while Vermont is
// down).
func (f *fakeGitHub) setHook(url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = url
}

// runnerJSON is a runner as GitHub's REST API shows it.
func (r *ghRunner) json(status string) map[string]any {
	labels := make([]map[string]any, 0, len(r.labels))
	for i, l := range r.labels {
		typ := "custom"
		if l == "self-hosted" {
			typ = "read-only"
		}
		labels = append(labels, map[string]any{"id": i + 1, "name": l, "type": typ})
	}
	return map[string]any{"id": r.id, "name": r.name, "os": "Linux", "status": status, "busy": r.job != nil && r.job.status == "in_progress", "labels": labels}
}

// generateJIT is POST .../actions/runners/generate-jitconfig: it registers
// a runner and returns its configuration (201, {"runner": …,
// "encoded_jit_config": …}). The configuration is base64 JSON, like
// GitHub's, carrying what the test runner needs: its name, where the broker
// is and its credential.
func (f *fakeGitHub) generateJIT(w http.ResponseWriter, r *http.Request) {
	var req jitCall
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Name == "" || req.RunnerGroupID < 1 ||
		len(req.Labels) == 0 || len(req.Labels) > 100 {
		f.t.Errorf("generate-jitconfig: bad request %+v (%v)", req, err)
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rn := range f.runners {
		if rn.name == req.Name {
			writeJSON(w, http.StatusConflict, map[string]string{"message": "Already exists - A runner with the name " + req.Name + " already exists."})
			return
		}
	}
	f.nextID++
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	rn := &ghRunner{id: f.nextID, name: req.Name, labels: slices.Clone(req.Labels), token: hex.EncodeToString(tok[:])}
	f.runners[rn.id], f.tokens[rn.token] = rn, rn
	req.id = rn.id
	f.jits = append(f.jits, req)
	cfg, _ := json.Marshal(map[string]string{"name": rn.name, "broker": f.srv.URL + "/_broker", "token": rn.token})
	writeJSON(w, http.StatusCreated, map[string]any{
		"runner":             rn.json("offline"),
		"encoded_jit_config": base64.StdEncoding.EncodeToString(cfg),
	})
}

// removeRunner is DELETE .../actions/runners/{id}: 204, or 404 for a
// runner that is not registered (GitHub unregisters an ephemeral runner
// itself once its job is done).
func (f *fakeGitHub) removeRunner(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removals = append(f.removals, id)
	rn := f.runners[id]
	if rn == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	f.unregister(rn)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeGitHub) unregister(rn *ghRunner) {
	delete(f.runners, rn.id)
	delete(f.tokens, rn.token)
}

// listRunners is GET .../actions/runners: {"total_count", "runners"}, one
// page. A runner is online while it polls for or runs a job.
func (f *fakeGitHub) listRunners(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, rn := range f.runners {
		status := "offline"
		if rn.polls > 0 || rn.job != nil {
			status = "online"
		}
		out = append(out, rn.json(status))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(out), "runners": out})
}

// listRuns is GET .../actions/runs?status=…: one workflow run per job.
func (f *fakeGitHub) listRuns(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	f.mu.Lock()
	defer f.mu.Unlock()
	runs := []map[string]any{}
	for _, j := range f.jobs {
		if j.status == status {
			runs = append(runs, map[string]any{"id": j.runID, "name": "CI", "status": j.status, "run_attempt": 1})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "workflow_runs": runs})
}

// listJobs is GET .../actions/runs/{run}/jobs.
func (f *fakeGitHub) listJobs(w http.ResponseWriter, r *http.Request) {
	run, _ := strconv.ParseInt(r.PathValue("run"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	jobs := []map[string]any{}
	for _, j := range f.jobs {
		if j.runID == run {
			jobs = append(jobs, j.json())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(jobs), "jobs": jobs})
}

// json is the workflow_job object of the REST API and of webhook payloads.
func (j *ghJob) json() map[string]any {
	m := map[string]any{
		"id": j.id, "run_id": j.runID, "run_attempt": 1, "name": "build", "status": j.status,
		"conclusion": nil, "labels": j.labels, "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"runner_id": nil, "runner_name": nil, "runner_group_id": nil, "runner_group_name": nil,
		"workflow_name": "CI", "head_branch": "main", "steps": []any{},
	}
	if j.runner != "" {
		m["runner_id"], m["runner_name"], m["runner_group_id"], m["runner_group_name"] = j.runnerID, j.runner, 1, "Default"
	}
	if j.status == "completed" {
		m["conclusion"] = "success"
	}
	return m
}

// brokerRunner authenticates a runner by the token of its JIT config.
func (f *fakeGitHub) brokerRunner(r *http.Request) *ghRunner {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return f.tokens[tok]
}

// acquire is the runner's long poll for a job: the oldest queued job whose
// labels the runner has, or an empty 200 after a while. Handing out a job
// delivers workflow_job in_progress before the runner hears of it.
func (f *fakeGitHub) acquire(w http.ResponseWriter, r *http.Request) {
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	f.mu.Lock()
	rn := f.brokerRunner(r)
	if rn == nil || rn.job != nil {
		f.mu.Unlock()
		http.Error(w, "runner not registered or already has a job", http.StatusUnauthorized)
		return
	}
	rn.polls++
	defer func() {
		f.mu.Lock()
		rn.polls--
		f.mu.Unlock()
	}()
	for {
		if i := slices.IndexFunc(f.waiting, func(j *ghJob) bool { return subset(j.labels, rn.labels) }); i >= 0 {
			j := f.waiting[i]
			f.waiting = slices.Delete(f.waiting, i, i+1)
			j.status, j.runner, j.runnerID, rn.job = "in_progress", rn.name, rn.id, j
			f.mu.Unlock()
			f.deliver("in_progress", j)
			fmt.Fprint(w, j.id)
			return
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-timeout.C:
			return
		case <-f.done:
			return
		case <-r.Context().Done():
			return
		}
		f.mu.Lock()
	}
}

func subset(labels, of []string) bool {
	for _, l := range labels {
		if !slices.ContainsFunc(of, func(o string) bool { return strings.EqualFold(o, l) }) {
			return false
		}
	}
	return true
}

// complete is the runner reporting its job done. A held job waits for
// release first. GitHub then delivers workflow_job completed and
// unregisters the ephemeral runner.
func (f *fakeGitHub) complete(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	rn := f.brokerRunner(r)
	if rn == nil || rn.job == nil || r.FormValue("job") != strconv.FormatInt(rn.job.id, 10) {
		f.mu.Unlock()
		http.Error(w, "no such job for this runner", http.StatusBadRequest)
		return
	}
	j := rn.job
	f.mu.Unlock()
	if j.hold != nil {
		select {
		case <-j.hold:
		case <-f.done:
			return
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	j.status = "completed"
	f.unregister(rn)
	f.mu.Unlock()
	f.deliver("completed", j)
	w.WriteHeader(http.StatusOK)
}

// newJob records a queued job; hold makes its runner wait for release
// before reporting it done.
func (f *fakeGitHub) newJob(labels []string, hold bool) *ghJob {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	j := &ghJob{id: f.nextID, runID: 90000 + f.nextID, labels: labels, status: "queued"}
	if hold {
		j.hold = make(chan struct{})
	}
	f.jobs[j.id] = j
	return j
}

// offer makes a queued job available to runners.
func (f *fakeGitHub) offer(j *ghJob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = append(f.waiting, j)
	f.broadcast()
}

// queue queues a job, delivers workflow_job queued, and only then offers
// it to runners. It returns the job and the delivery's status.
func (f *fakeGitHub) queue(labels []string, hold bool) (*ghJob, int) {
	j := f.newJob(labels, hold)
	status := f.deliver("queued", j)
	f.offer(j)
	return j, status
}

func (f *fakeGitHub) broadcast() {
	close(f.wake)
	f.wake = make(chan struct{})
}

// release lets held jobs complete; with no jobs, every held job.
func (f *fakeGitHub) release(jobs ...*ghJob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(jobs) == 0 {
		for _, j := range f.jobs {
			jobs = append(jobs, j)
		}
	}
	for _, j := range jobs {
		if j.hold != nil {
			select {
			case <-j.hold:
			default:
				close(j.hold)
			}
		}
	}
}

// payload builds a workflow_job delivery's body as GitHub documents it.
func (f *fakeGitHub) payload(action string, j *ghJob) []byte {
	f.mu.Lock()
	job := j.json()
	f.mu.Unlock()
	body, _ := json.Marshal(map[string]any{
		"action":       action,
		"workflow_job": job,
		"repository": map[string]any{
			"id": 1296269, "name": ghRepo, "full_name": ghOwner + "/" + ghRepo, "private": true,
			"owner": map[string]any{"login": ghOwner, "id": 9919, "type": "Organization"},
		},
		"organization": map[string]any{"login": ghOwner, "id": 9919},
		"sender":       map[string]any{"login": "octocat", "id": 1, "type": "User"},
	})
	return body
}

// deliver sends a signed workflow_job delivery to the hook and records it.
func (f *fakeGitHub) deliver(action string, j *ghJob) int {
	body := f.payload(action, j)
	id := newDeliveryID()
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	status := 0
	if hook != "" {
		status = post(hook, id, body, sign([]byte(ghSecret), body))
	}
	f.mu.Lock()
	f.deliveries = append(f.deliveries, delivery{id: id, action: action, job: j.id, status: status})
	f.mu.Unlock()
	return status
}

// newDeliveryID returns a GUID, as GitHub's X-GitHub-Delivery is.
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// sign returns the X-Hub-Signature-256 value for body.
func sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// post POSTs a workflow_job delivery with GitHub's headers; signature ""
// sends none. It returns the status, or 0 when the hook is unreachable.
func post(url, id string, body []byte, signature string) int {
	req := webhookRequest(url, id, body, signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func webhookRequest(url, id string, body []byte, signature string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/e2e")
	req.Header.Set("X-GitHub-Event", "workflow_job")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-GitHub-Hook-ID", "424242")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	return req
}

// jitByName returns the generate-jitconfig calls by runner name.
func (f *fakeGitHub) jitByName() map[string]jitCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]jitCall{}
	for _, c := range f.jits {
		out[c.Name] = c
	}
	return out
}

// jitCount returns how many runners were registered.
func (f *fakeGitHub) jitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jits)
}

// removed reports whether DELETE .../runners/{id} was called.
func (f *fakeGitHub) removed(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.removals, id)
}

// registered returns the names of the runners still registered, sorted.
func (f *fakeGitHub) registered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, rn := range f.runners {
		out = append(out, rn.name)
	}
	slices.Sort(out)
	return out
}

// job returns a copy of a job's state.
func (f *fakeGitHub) job(id int64) ghJob {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.jobs[id]
}

// count returns how many jobs are in status.
func (f *fakeGitHub) count(status string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, j := range f.jobs {
		if j.status == status {
			n++
		}
	}
	return n
}

// delivered returns the deliveries made so far.
func (f *fakeGitHub) delivered() []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deliveries)
}
