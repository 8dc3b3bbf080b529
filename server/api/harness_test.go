package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
	"github.com/vermont-ci/vermont/workflow"
)

// env is one API served over TLS with a test CA, over a real SQLite store
// in a temporary data directory, with a seeded repository.
type env struct {
	t       *testing.T
	dir     string // the data directory
	store   *store.Store
	box     *secrets.Box
	control *testControl
	srv     *httptest.Server
	caFile  string // the test CA's certificate, PEM
	host    string // host:port, for GH_HOST
	logBuf  *syncBuffer
	repo    store.Repository
	write   string // a write token
	read    string // a read token
	runs    seeded
}

// seeded is what newEnv stored.
type seeded struct {
	ciWorkflow, deployWorkflow store.Workflow
	success, failure, running  store.Run
	buildJob, testJob          store.Job
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, dir: t.TempDir(), logBuf: &syncBuffer{}}
	st, err := store.Open(ctx, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	key, err := secrets.LoadKey(e.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.box, err = secrets.New(key); err != nil {
		t.Fatal(err)
	}
	e.control = &testControl{store: st, workflows: "testdata"}
	log := slog.New(slog.NewTextHandler(e.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(st, e.control, e.box, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	e.startTLS(a)
	e.write = e.token("writer", token.Write)
	e.read = e.token("reader", token.Read)
	e.seed()
	return e
}

// startTLS serves h on 127.0.0.1 with a certificate from a CA made here,
// written to caFile for the clients (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS).
func (e *env) startTLS(h http.Handler) {
	t := e.t
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vermont test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	e.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(e.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.logBuf.Write([]byte("request: " + r.Method + " " + r.URL.RequestURI() + "\n"))
		h.ServeHTTP(w, r)
	}))
	e.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	e.host = e.srv.Listener.Addr().String()
}

// client is an HTTP client that trusts only the test CA.
func (e *env) client() *http.Client {
	pool := x509.NewCertPool()
	data, err := os.ReadFile(e.caFile)
	if err != nil {
		e.t.Fatal(err)
	}
	pool.AppendCertsFromPEM(data)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// baseURL is the API's URL.
func (e *env) baseURL() string { return "https://" + e.host + Prefix }

func (e *env) token(name string, scope token.Scope) string {
	plain, hash, err := token.New()
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.CreateToken(context.Background(), store.Token{Name: name, Hash: hash, Scope: scope.String()}); err != nil {
		e.t.Fatal(err)
	}
	return plain
}

// seed stores repository octo/hello with three runs of CI (a success, a
// failure of one of two jobs, one in progress) with steps and logs, and the
// Deploy workflow.
func (e *env) seed() {
	t, ctx := e.t, context.Background()
	var err error
	e.repo, err = e.store.PutRepository(ctx, store.Repository{Owner: "octo", Name: "hello", CloneURL: "https://example.com/octo/hello.git", DefaultBranch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if e.runs.deployWorkflow, err = e.store.PutWorkflow(ctx, e.repo.ID, ".github/workflows/deploy.yml", "Deploy"); err != nil {
		t.Fatal(err)
	}
	e.runs.success, e.runs.buildJob = e.completedRun(map[string]store.Conclusion{"build": store.Success}, "a1b2c3d")
	e.runs.failure, e.runs.testJob = e.completedRun(map[string]store.Conclusion{"test": store.Failure, "lint": store.Success}, "d4e5f6a")
	e.runs.running = e.newRun("f00ba47", "feature")
	if _, err := e.store.ClaimRun(ctx, "host-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if e.runs.ciWorkflow, err = e.store.WorkflowByPath(ctx, e.repo.ID, ".github/workflows/ci.yml"); err != nil {
		t.Fatal(err)
	}
	if e.runs.running, err = e.store.Run(ctx, e.runs.running.ID); err != nil {
		t.Fatal(err)
	}
}

func (e *env) newRun(sha, branch string) store.Run {
	run, err := e.store.CreateRun(context.Background(), store.NewRun{
		RepoID: e.repo.ID, WorkflowPath: ".github/workflows/ci.yml", WorkflowName: "CI", Event: "push",
		HeadSHA: sha, HeadBranch: branch, Ref: "refs/heads/" + branch, Actor: "octocat", DisplayTitle: "commit " + sha,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}

// completedRun runs a CI run to completion through the store as a host
// would: claim, jobs with two steps each and their log lines, conclude.
// It returns the run and its first job in sorted key order.
func (e *env) completedRun(jobs map[string]store.Conclusion, sha string) (store.Run, store.Job) {
	t, ctx := e.t, context.Background()
	run := e.newRun(sha, "main")
	if _, err := e.store.ClaimRun(ctx, "host-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	conclusion := store.Success
	var first store.Job
	for _, key := range slices.Sorted(maps.Keys(jobs)) {
		c := jobs[key]
		now := time.Now()
		j, err := e.store.CreateJob(ctx, store.Job{RunID: run.ID, Attempt: 1, Key: key, Name: key, Labels: []string{"ubuntu-latest"}})
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == 0 {
			first = j
		}
		if err := e.store.StartJob(ctx, j.ID, "host-1", now); err != nil {
			t.Fatal(err)
		}
		lw, err := e.store.NewLogWriter(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		for n, step := range []string{"Set up job", "Run make " + key} {
			num := int64(n + 1)
			sc := store.Success
			if n == 1 {
				sc = c
			}
			if err := e.store.StartStep(ctx, j.ID, num, step, now); err != nil {
				t.Fatal(err)
			}
			if err := lw.Write(ctx, num, now, "log of "+key+" step "+step); err != nil {
				t.Fatal(err)
			}
			if err := lw.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.store.FinishStep(ctx, j.ID, num, sc, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := lw.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.store.FinishJob(ctx, j.ID, c, nil, now); err != nil {
			t.Fatal(err)
		}
		if c == store.Failure {
			conclusion = store.Failure
		}
		if first.ID == j.ID {
			first, _ = e.store.Job(ctx, j.ID)
		}
	}
	if err := e.store.CompleteRun(ctx, run.ID, conclusion); err != nil {
		t.Fatal(err)
	}
	run, err := e.store.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run, first
}

// do sends a request with tok (none when "") and returns the status, the
// body and the response.
func (e *env) do(method, path, tok string, body any) (int, []byte, *http.Response) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+e.host+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "token "+tok)
	}
	c := e.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b, resp
}

// requireTool returns the path of a client program the test drives. Missing,
// it fails the test under CI=true (internal/testall installs it) and skips
// it otherwise, saying how to install it.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if ci := strings.ToLower(os.Getenv("CI")); ci == "true" || ci == "1" {
		t.Fatalf("%s is not installed, and CI=true needs it: %s", name, install)
	}
	t.Skipf("%s is not installed (%s); under CI=true this fails", name, install)
	return ""
}

// testControl is the run control the API tests drive: it makes the
// changes in the real store that the server makes (cancelled runs
// conclude, re-runs queue an attempt, dispatches queue a run), and records
// the calls.
type testControl struct {
	store     *store.Store
	workflows string // where the workflows' files are, by base name

	mu    sync.Mutex
	calls []string
}

func (c *testControl) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *testControl) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (c *testControl) Cancel(ctx context.Context, run store.Run, force bool) error {
	c.record("cancel " + itoa(run.ID) + map[bool]string{true: " force", false: ""}[force])
	return c.store.CompleteRun(ctx, run.ID, store.Cancelled)
}

func (c *testControl) Rerun(ctx context.Context, run store.Run, actor string, failedOnly bool) error {
	c.record("rerun " + itoa(run.ID) + map[bool]string{true: " failed", false: ""}[failedOnly] + " by " + actor)
	_, err := c.store.NewAttempt(ctx, run.ID, actor, failedOnly)
	return err
}

func (c *testControl) Dispatch(ctx context.Context, d Dispatch) (store.Run, error) {
	src, err := os.ReadFile(filepath.Join(c.workflows, filepath.Base(d.Workflow.Path)))
	if err != nil {
		return store.Run{}, err
	}
	wf, err := workflow.NewParser().Parse(d.Workflow.Path, src)
	if err != nil {
		return store.Run{}, err
	}
	if d.Ref != "main" && d.Ref != "refs/heads/main" {
		return store.Run{}, &InvalidError{Message: "No ref found for: " + d.Ref}
	}
	inputs, err := ValidateInputs(wf, d.Inputs)
	if err != nil {
		return store.Run{}, err
	}
	raw, _ := json.Marshal(inputs)
	c.record("dispatch " + d.Workflow.Path + " " + string(raw) + " by " + d.Actor)
	return c.store.CreateRun(ctx, store.NewRun{RepoID: d.Repo.ID, WorkflowPath: d.Workflow.Path, WorkflowName: d.Workflow.Name,
		Event: "workflow_dispatch", HeadBranch: "main", Ref: "refs/heads/main", Actor: d.Actor, Inputs: raw})
}

func (c *testControl) RepositoryDispatch(ctx context.Context, repo store.Repository, eventType string, payload json.RawMessage, actor string) error {
	c.record("repository_dispatch " + eventType + " " + string(payload) + " by " + actor)
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
