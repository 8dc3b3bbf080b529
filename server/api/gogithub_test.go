package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"
	"golang.org/x/crypto/nacl/box"
)

// goGitHub is go-github pointed at the test server as GitHub Enterprise.
func (e *env) goGitHub(tok string) *github.Client {
	e.t.Helper()
	c, err := github.NewClient(github.WithHTTPClient(e.client()), github.WithAuthToken(tok), github.WithEnterpriseURLs(e.baseURL(), e.baseURL()))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestGoGitHub makes the calls of TestGH through go-github.
func TestGoGitHub(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	gh := e.goGitHub(e.write)

	runs, resp, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, "octo", "hello", &github.ListWorkflowRunsOptions{ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if runs.GetTotalCount() != 3 || len(runs.WorkflowRuns) != 2 || resp.NextPage != 2 || resp.LastPage != 2 {
		t.Fatalf("runs page 1: total %d, %d runs, next %d, last %d; want 3, 2, 2, 2", runs.GetTotalCount(), len(runs.WorkflowRuns), resp.NextPage, resp.LastPage)
	}
	if got := runs.WorkflowRuns[0]; got.GetID() != e.runs.running.ID || got.GetStatus() != "in_progress" || got.GetHeadBranch() != "feature" {
		t.Fatalf("newest run: %v", got)
	}
	byStatus, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, "octo", "hello", &github.ListWorkflowRunsOptions{Status: "failure"})
	if err != nil || byStatus.GetTotalCount() != 1 || byStatus.WorkflowRuns[0].GetID() != e.runs.failure.ID {
		t.Fatalf("runs with status=failure: %v, %v", byStatus, err)
	}

	wfs, _, err := gh.Actions.ListWorkflows(ctx, "octo", "hello", nil)
	if err != nil || wfs.GetTotalCount() != 2 {
		t.Fatalf("workflows: %v, %v", wfs, err)
	}
	wf, _, err := gh.Actions.GetWorkflowByFileName(ctx, "octo", "hello", "ci.yml")
	if err != nil || wf.GetID() != e.runs.ciWorkflow.ID || wf.GetPath() != ".github/workflows/ci.yml" {
		t.Fatalf("workflow ci.yml: %v, %v", wf, err)
	}

	jobs, _, err := gh.Actions.ListWorkflowJobs(ctx, "octo", "hello", e.runs.failure.ID, nil)
	if err != nil || jobs.GetTotalCount() != 2 || len(jobs.Jobs[0].Steps) != 2 {
		t.Fatalf("jobs: %v, %v", jobs, err)
	}
	// go-github follows the 302 itself when asked to (maxRedirects).
	logURL, _, err := gh.Actions.GetWorkflowJobLogs(ctx, "octo", "hello", e.runs.buildJob.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	logResp, err := e.client().Get(logURL.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(logResp.Body)
	logResp.Body.Close()
	if logResp.StatusCode != http.StatusOK || !strings.Contains(string(body), "log of build step Run make build") {
		t.Fatalf("job log: %d\n%s", logResp.StatusCode, body)
	}

	details, _, err := gh.Actions.CreateWorkflowDispatchEventByFileName(ctx, "octo", "hello", "deploy.yml", github.CreateWorkflowDispatchEventRequest{
		Ref: "main", Inputs: map[string]any{"environment": "production", "dry-run": true}, ReturnRunDetails: github.Ptr(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	dispatched, _, err := gh.Actions.GetWorkflowRunByID(ctx, "octo", "hello", details.GetWorkflowRunID())
	if err != nil || dispatched.GetEvent() != "workflow_dispatch" || dispatched.GetWorkflowID() != e.runs.deployWorkflow.ID {
		t.Fatalf("dispatched run %d: %v, %v", details.GetWorkflowRunID(), dispatched, err)
	}
	_, _, err = gh.Actions.CreateWorkflowDispatchEventByFileName(ctx, "octo", "hello", "deploy.yml", github.CreateWorkflowDispatchEventRequest{
		Ref: "main", Inputs: map[string]any{"colour": "blue"},
	})
	var ghErr *github.ErrorResponse
	if !errors.As(err, &ghErr) || ghErr.Response.StatusCode != 422 || ghErr.Message != `Unexpected inputs provided: ["colour"]` {
		t.Fatalf("dispatch with an unknown input: %v", err)
	}

	if _, err := gh.Actions.CancelWorkflowRunByID(ctx, "octo", "hello", e.runs.running.ID); err != nil {
		var accepted *github.AcceptedError
		if !errors.As(err, &accepted) {
			t.Fatalf("cancel: %v", err)
		}
	}
	if _, err := gh.Actions.RerunFailedJobsByID(ctx, "octo", "hello", e.runs.failure.ID); err != nil {
		t.Fatalf("rerun failed jobs: %v", err)
	}

	pk, _, err := gh.Actions.GetRepoPublicKey(ctx, "octo", "hello")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(pk.GetKey())
	var pub [32]byte
	copy(pub[:], raw)
	sealed, err := box.SealAnonymous(nil, []byte("go-github-s3cr3t"), &pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Actions.CreateOrUpdateRepoSecret(ctx, "octo", "hello", &github.EncryptedSecret{
		Name: "GO_SECRET", KeyID: pk.GetKeyID(), EncryptedValue: base64.StdEncoding.EncodeToString(sealed),
	}); err != nil {
		t.Fatal(err)
	}
	secs, _, err := gh.Actions.ListRepoSecrets(ctx, "octo", "hello", nil)
	if err != nil || secs.TotalCount != 1 || secs.Secrets[0].Name != "GO_SECRET" {
		t.Fatalf("secrets: %v, %v", secs, err)
	}

	// A read token reads, and gets GitHub's 403 for a change.
	ro := e.goGitHub(e.read)
	if _, _, err := ro.Actions.GetWorkflowRunByID(ctx, "octo", "hello", e.runs.success.ID); err != nil {
		t.Fatalf("read token reading a run: %v", err)
	}
	_, err = ro.Actions.RerunWorkflowByID(ctx, "octo", "hello", e.runs.success.ID)
	if !errors.As(err, &ghErr) || ghErr.Response.StatusCode != 403 || ghErr.Message != "Resource not accessible by personal access token" {
		t.Fatalf("read token re-running: %v", err)
	}

	calls := strings.Join(e.control.Calls(), "\n")
	for _, want := range []string{
		`dispatch .github/workflows/deploy.yml {"dry-run":true,"environment":"production","note":"","replicas":2} by writer`,
		"cancel " + itoa(e.runs.running.ID),
		"rerun " + itoa(e.runs.failure.ID) + " failed by writer",
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("control calls lack %q:\n%s", want, calls)
		}
	}
}
