package api

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Jobs reads jobs, their steps and their logs.
type Jobs interface {
	Job(ctx context.Context, id int64) (store.Job, error)
	Jobs(ctx context.Context, runID, attempt int64) ([]store.Job, error)
	Steps(ctx context.Context, jobID int64) ([]store.Step, error)
	Logs(ctx context.Context, jobID int64, q store.LogQuery) ([]store.LogLine, error)
	WriteLog(ctx context.Context, jobID int64, w io.Writer) error
}

// Docs of the routes in this file.
const (
	docsJobs        = "https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run"
	docsAttemptJobs = "https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run-attempt"
	docsJob         = "https://docs.github.com/rest/actions/workflow-jobs#get-a-job-for-a-workflow-run"
	docsJobLogs     = "https://docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run"
	docsRunLogs     = "https://docs.github.com/rest/actions/workflow-runs#download-workflow-run-logs"
	docsAttemptLogs = "https://docs.github.com/rest/actions/workflow-runs#download-workflow-run-attempt-logs"
)

func (a *API) jobRoutes() []route {
	return []route{
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}/jobs", need: token.Read, docs: docsJobs, h: a.listJobs},
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}/attempts/{attempt}/jobs", need: token.Read, docs: docsAttemptJobs, h: a.listJobs},
		{pattern: "GET /repos/{owner}/{repo}/actions/jobs/{job}", need: token.Read, docs: docsJob, h: a.getJob},
		{pattern: "GET /repos/{owner}/{repo}/actions/jobs/{job}/logs", need: token.Read, docs: docsJobLogs, h: a.jobLogs},
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}/logs", need: token.Read, docs: docsRunLogs, h: a.runLogs},
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}/attempts/{attempt}/logs", need: token.Read, docs: docsAttemptLogs, h: a.runLogs},
	}
}

// jobsOf returns the jobs of run that r asks for: those of {attempt}, or
// with filter=all those of every attempt, or (filter=latest, the default)
// those of the latest attempt.
func (a *API) jobsOf(r *http.Request, run store.Run) ([]store.Job, error) {
	if r.PathValue("attempt") != "" {
		at, err := a.attempt(r, run)
		if err != nil {
			return nil, err
		}
		return a.store.Jobs(r.Context(), run.ID, at.Number)
	}
	switch r.URL.Query().Get("filter") {
	case "", "latest":
		return a.store.Jobs(r.Context(), run.ID, 0)
	case "all":
		var all []store.Job
		for n := run.Attempt; n >= 1; n-- {
			jobs, err := a.store.Jobs(r.Context(), run.ID, n)
			if err != nil {
				return nil, err
			}
			all = append(all, jobs...)
		}
		return all, nil
	}
	return nil, httpError(http.StatusUnprocessableEntity, "Invalid request.\n\nfilter must be one of: latest, all.", "")
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request, c *call) error {
	run, err := a.run(r, c)
	if err != nil {
		return err
	}
	jobs, err := a.jobsOf(r, run)
	if err != nil {
		return err
	}
	p := parsePage(r, 30)
	out := struct {
		TotalCount int                   `json:"total_count"`
		Jobs       []*github.WorkflowJob `json:"jobs"`
	}{TotalCount: len(jobs), Jobs: []*github.WorkflowJob{}}
	for _, j := range pageOf(p, jobs) {
		steps, err := a.store.Steps(r.Context(), j.ID)
		if err != nil {
			return err
		}
		out.Jobs = append(out.Jobs, toJob(c, c.repo, run, j, steps))
	}
	setLink(w, r, c, p, len(jobs))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// job finds the {job} of r in the call's repository, with its run.
func (a *API) job(r *http.Request, c *call) (store.Job, store.Run, error) {
	id, err := strconv.ParseInt(r.PathValue("job"), 10, 64)
	if err != nil {
		return store.Job{}, store.Run{}, errNotFound
	}
	j, err := a.store.Job(r.Context(), id)
	if err != nil {
		return store.Job{}, store.Run{}, err
	}
	run, err := a.store.Run(r.Context(), j.RunID)
	if err != nil {
		return store.Job{}, store.Run{}, err
	}
	if run.RepoID != c.repo.ID {
		return store.Job{}, store.Run{}, errNotFound
	}
	return j, run, nil
}

func (a *API) getJob(w http.ResponseWriter, r *http.Request, c *call) error {
	j, run, err := a.job(r, c)
	if err != nil {
		return err
	}
	steps, err := a.store.Steps(r.Context(), j.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toJob(c, c.repo, run, j, steps))
	return nil
}

// jobLogs answers, as GitHub does, a 302 to a URL that serves the job's
// plain-text log without a token for a minute.
func (a *API) jobLogs(w http.ResponseWriter, r *http.Request, c *call) error {
	j, _, err := a.job(r, c)
	if err != nil {
		return err
	}
	a.redirect(w, r, c, kindJobLog, j.ID, 0)
	return nil
}

// runLogs answers a 302 to a URL that serves the run's (or attempt's)
// logs as a zip archive in GitHub's layout.
func (a *API) runLogs(w http.ResponseWriter, r *http.Request, c *call) error {
	run, err := a.run(r, c)
	if err != nil {
		return err
	}
	attempt := run.Attempt
	if r.PathValue("attempt") != "" {
		at, err := a.attempt(r, run)
		if err != nil {
			return err
		}
		attempt = at.Number
	}
	a.redirect(w, r, c, kindRunLogs, run.ID, attempt)
	return nil
}
