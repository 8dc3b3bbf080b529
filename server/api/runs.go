package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Runs reads and deletes runs.
type Runs interface {
	Run(ctx context.Context, id int64) (store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	CountRuns(ctx context.Context, f store.RunFilter) (int, error)
	Attempt(ctx context.Context, id, number int64) (store.Attempt, error)
	DeleteRun(ctx context.Context, id int64) error
}

// Docs of the routes in this file.
const (
	docsRuns        = "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository"
	docsRun         = "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run"
	docsAttempt     = "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run-attempt"
	docsCancel      = "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run"
	docsForceCancel = "https://docs.github.com/rest/actions/workflow-runs#force-cancel-a-workflow-run"
	docsRerun       = "https://docs.github.com/rest/actions/workflow-runs#re-run-a-workflow"
	docsRerunFailed = "https://docs.github.com/rest/actions/workflow-runs#re-run-failed-jobs-from-a-workflow-run"
	docsDeleteRun   = "https://docs.github.com/rest/actions/workflow-runs#delete-a-workflow-run"
	docsRunsOfWF    = "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow"
)

func (a *API) runRoutes() []route {
	return []route{
		{pattern: "GET /repos/{owner}/{repo}/actions/runs", need: token.Read, docs: docsRuns, h: a.listRuns},
		{pattern: "GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs", need: token.Read, docs: docsRunsOfWF, h: a.listRuns},
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}", need: token.Read, docs: docsRun, h: a.getRun},
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}/attempts/{attempt}", need: token.Read, docs: docsAttempt, h: a.getAttempt},
		{pattern: "POST /repos/{owner}/{repo}/actions/runs/{run}/cancel", need: token.Write, docs: docsCancel, h: a.cancel(false)},
		{pattern: "POST /repos/{owner}/{repo}/actions/runs/{run}/force-cancel", need: token.Write, docs: docsForceCancel, h: a.cancel(true)},
		{pattern: "POST /repos/{owner}/{repo}/actions/runs/{run}/rerun", need: token.Write, docs: docsRerun, h: a.rerun(false)},
		{pattern: "POST /repos/{owner}/{repo}/actions/runs/{run}/rerun-failed-jobs", need: token.Write, docs: docsRerunFailed, h: a.rerun(true)},
		{pattern: "DELETE /repos/{owner}/{repo}/actions/runs/{run}", need: token.Write, docs: docsDeleteRun, h: a.deleteRun},
	}
}

// runFilter reads the query parameters of GitHub's "list workflow runs".
func (a *API) runFilter(r *http.Request, c *call) (store.RunFilter, error) {
	q := r.URL.Query()
	f := store.RunFilter{
		RepoID:  c.repo.ID,
		Branch:  q.Get("branch"),
		Event:   q.Get("event"),
		Actor:   q.Get("actor"),
		HeadSHA: q.Get("head_sha"),
		Status:  q.Get("status"),
	}
	if r.PathValue("workflow") != "" {
		wf, err := a.workflow(r, c)
		if err != nil {
			return f, err
		}
		f.WorkflowID = wf.ID
	}
	if created := q.Get("created"); created != "" {
		after, before, ok := parseCreated(created)
		if !ok {
			return f, httpError(http.StatusUnprocessableEntity, "Validation Failed: invalid created filter "+strconv.Quote(created), "")
		}
		f.CreatedAfter, f.CreatedBefore = after, before
	}
	return f, nil
}

// parseCreated reads GitHub's date search syntax for the created filter
// (https://docs.github.com/en/search-github/getting-started-with-searching-on-github/understanding-the-search-syntax#query-for-dates):
// D, >D, >=D, <D, <=D and D..D, with dates as YYYY-MM-DD or RFC 3339
// times. It returns an inclusive lower and an exclusive upper bound.
func parseCreated(s string) (after, before time.Time, ok bool) {
	day := func(v string) (time.Time, time.Time, bool) {
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			return t, t.AddDate(0, 0, 1), true
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, t.Add(time.Second), true
		}
		return time.Time{}, time.Time{}, false
	}
	switch {
	case strings.Contains(s, ".."):
		lo, hi, _ := strings.Cut(s, "..")
		var ok1, ok2 = true, true
		if lo != "*" {
			after, _, ok1 = day(lo)
		}
		if hi != "*" {
			_, before, ok2 = day(hi)
		}
		return after, before, ok1 && ok2
	case strings.HasPrefix(s, ">="):
		after, _, ok = day(s[2:])
	case strings.HasPrefix(s, ">"):
		_, after, ok = day(s[1:])
	case strings.HasPrefix(s, "<="):
		_, before, ok = day(s[2:])
	case strings.HasPrefix(s, "<"):
		before, _, ok = day(s[1:])
	default:
		after, before, ok = day(s)
	}
	return after, before, ok
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request, c *call) error {
	f, err := a.runFilter(r, c)
	if err != nil {
		return err
	}
	p := parsePage(r, 30)
	total, err := a.store.CountRuns(r.Context(), f)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = p.perPage, p.offset()
	runs, err := a.store.ListRuns(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		TotalCount   int                   `json:"total_count"`
		WorkflowRuns []*github.WorkflowRun `json:"workflow_runs"`
	}{TotalCount: total, WorkflowRuns: make([]*github.WorkflowRun, 0, len(runs))}
	for _, run := range runs {
		out.WorkflowRuns = append(out.WorkflowRuns, toRun(c, c.repo, run, nil))
	}
	setLink(w, r, c, p, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// run finds the {run} of r in the call's repository.
func (a *API) run(r *http.Request, c *call) (store.Run, error) {
	id, err := strconv.ParseInt(r.PathValue("run"), 10, 64)
	if err != nil {
		return store.Run{}, errNotFound
	}
	run, err := a.store.Run(r.Context(), id)
	if err != nil {
		return store.Run{}, err
	}
	if run.RepoID != c.repo.ID {
		return store.Run{}, errNotFound
	}
	return run, nil
}

func (a *API) getRun(w http.ResponseWriter, r *http.Request, c *call) error {
	run, err := a.run(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRun(c, c.repo, run, nil))
	return nil
}

// attempt finds the {attempt} of run.
func (a *API) attempt(r *http.Request, run store.Run) (store.Attempt, error) {
	n, err := strconv.ParseInt(r.PathValue("attempt"), 10, 64)
	if err != nil || n < 1 {
		return store.Attempt{}, errNotFound
	}
	return a.store.Attempt(r.Context(), run.ID, n)
}

func (a *API) getAttempt(w http.ResponseWriter, r *http.Request, c *call) error {
	run, err := a.run(r, c)
	if err != nil {
		return err
	}
	at, err := a.attempt(r, run)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRun(c, c.repo, run, &at))
	return nil
}

// cancel answers GitHub's 202 Accepted once the cancellation is asked for;
// a completed run is GitHub's 409.
func (a *API) cancel(force bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		run, err := a.run(r, c)
		if err != nil {
			return err
		}
		if run.Status == store.Completed {
			return httpError(http.StatusConflict, "Cannot cancel a workflow run that is completed.", "")
		}
		if err := a.control.Cancel(r.Context(), run, force); err != nil {
			return controlError(err, "Cannot cancel a workflow run that is completed.")
		}
		writeJSON(w, http.StatusAccepted, struct{}{})
		return nil
	}
}

// rerun answers GitHub's 201 Created with an empty object.
func (a *API) rerun(failedOnly bool) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		run, err := a.run(r, c)
		if err != nil {
			return err
		}
		var body struct {
			EnableDebugLogging bool `json:"enable_debug_logging"`
		}
		if err := decodeOptionalBody(r, &body); err != nil {
			return err
		}
		if run.Status != store.Completed {
			return httpError(http.StatusForbidden, "This workflow is already running", "")
		}
		if err := a.control.Rerun(r.Context(), run, c.user.login, failedOnly); err != nil {
			return controlError(err, "This workflow is already running")
		}
		writeJSON(w, http.StatusCreated, struct{}{})
		return nil
	}
}

func (a *API) deleteRun(w http.ResponseWriter, r *http.Request, c *call) error {
	run, err := a.run(r, c)
	if err != nil {
		return err
	}
	if run.Status != store.Completed {
		// GitHub refuses to delete a run that is not completed.
		return httpError(http.StatusForbidden, "Cannot delete a workflow run that is not completed", "")
	}
	if err := a.store.DeleteRun(r.Context(), run.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
