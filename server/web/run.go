package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/workflow"
)

// graphColumn is one column of a run's job graph: the jobs whose needs
// are all in the columns before it.
type graphColumn struct {
	Groups []jobGroup
}

// jobGroup is the jobs of one workflow job: one, or a matrix's legs.
type jobGroup struct {
	Key   string
	Needs []string
	Jobs  []store.Job
	State string // the group's state: failure if any leg failed, and so on
}

// graph lays a run's jobs out as their needs DAG: columns by the length
// of the longest needs chain before each job, matrix legs grouped.
func graph(jobs []store.Job, needs map[string][]string) []graphColumn {
	byKey := map[string]*jobGroup{}
	var order []string
	for _, j := range jobs {
		g := byKey[j.Key]
		if g == nil {
			g = &jobGroup{Key: j.Key, Needs: needs[j.Key]}
			byKey[j.Key] = g
			order = append(order, j.Key)
		}
		g.Jobs = append(g.Jobs, j)
	}
	depth := map[string]int{}
	var depthOf func(k string, seen map[string]bool) int
	depthOf = func(k string, seen map[string]bool) int {
		if d, ok := depth[k]; ok {
			return d
		}
		if seen[k] {
			return 0 // a cycle; the workflow check refuses those
		}
		seen[k] = true
		d := 0
		for _, n := range needs[k] {
			if byKey[n] != nil {
				d = max(d, depthOf(n, seen)+1)
			}
		}
		depth[k] = d
		return d
	}
	var cols []graphColumn
	for _, k := range order {
		d := depthOf(k, map[string]bool{})
		for len(cols) <= d {
			cols = append(cols, graphColumn{})
		}
		g := byKey[k]
		g.State = groupState(g.Jobs)
		cols[d].Groups = append(cols[d].Groups, *g)
	}
	return cols
}

// groupState is the state a group of legs shows: in progress while any
// runs, failure if any failed, cancelled, queued, else success/skipped.
func groupState(jobs []store.Job) string {
	seen := map[string]bool{}
	for _, j := range jobs {
		seen[state(j.Status, j.Conclusion)] = true
	}
	for _, s := range []string{"in_progress", "failure", "cancelled", "queued", "success", "skipped"} {
		if seen[s] {
			return s
		}
	}
	return "queued"
}

// needsOf reads the needs of a run's workflow's jobs from its file at the
// run's commit; without the file the graph is one column.
func (u *UI) needsOf(ctx context.Context, repo store.Repository, run store.Run) map[string][]string {
	needs := map[string][]string{}
	data, err := u.source.WorkflowFile(ctx, repo.FullName(), run.HeadSHA, run.WorkflowPath)
	if err != nil {
		return needs
	}
	wf, _ := workflow.NewParser().Parse(run.WorkflowPath, data)
	if wf == nil {
		return needs
	}
	for _, j := range wf.Jobs {
		for _, n := range j.Needs {
			needs[j.ID.Value] = append(needs[j.ID.Value], n.Value)
		}
	}
	return needs
}

// runData reads what the run page and its live state show.
func (u *UI) runData(r *request) (map[string]any, error) {
	repo, err := u.repo(r)
	if err != nil {
		return nil, err
	}
	run, err := u.runOf(r, repo)
	if err != nil {
		return nil, err
	}
	attempt := run.Attempt
	n := r.PathValue("n")
	if n == "" {
		n = r.URL.Query().Get("attempt")
	}
	if n != "" {
		attempt, err = strconv.ParseInt(n, 10, 64)
		if err != nil || attempt < 1 || attempt > run.Attempt {
			return nil, errNotFound
		}
	}
	jobs, err := u.store.Jobs(r.Context(), run.ID, attempt)
	if err != nil {
		return nil, err
	}
	att, err := u.store.Attempt(r.Context(), run.ID, attempt)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Repo": repo, "Run": run, "Attempt": att, "Jobs": jobs}, nil
}

func (u *UI) run(w http.ResponseWriter, r *request) error {
	data, err := u.runData(r)
	if err != nil {
		return err
	}
	repo, run, jobs := data["Repo"].(store.Repository), data["Run"].(store.Run), data["Jobs"].([]store.Job)
	att := data["Attempt"].(store.Attempt)
	attempts, err := u.store.Attempts(r.Context(), run.ID)
	if err != nil {
		return err
	}
	sort.Slice(attempts, func(i, j int) bool { return attempts[i].Number > attempts[j].Number })
	artifacts, err := u.store.Artifacts(r.Context(), run.ID)
	if err != nil {
		return err
	}
	sums, err := u.store.Summaries(r.Context(), run.ID, att.Number)
	if err != nil {
		return err
	}
	type summary struct {
		Job  store.Job
		HTML template.HTML
	}
	var summaries []summary
	failed := false
	for _, j := range jobs {
		if md, ok := sums[j.ID]; ok {
			summaries = append(summaries, summary{Job: j, HTML: renderSummary(md)})
		}
		if j.Conclusion == store.Failure || j.Conclusion == store.Cancelled {
			failed = true
		}
	}
	data["Title"] = run.WorkflowName + " · " + repo.FullName()
	data["Attempts"] = attempts
	data["Graph"] = graph(jobs, u.needsOf(r.Context(), repo, run))
	data["Artifacts"] = artifacts
	data["Summaries"] = summaries
	data["Latest"] = att.Number == run.Attempt
	data["CanRerunFailed"] = failed
	data["Path"] = runPath(repo, run.ID)
	data["Workflow"] = strings.TrimPrefix(run.WorkflowPath, workflowsDir)
	return u.view(w, r, "run", data)
}

// runStateJSON is what the run page's script polls.
type runStateJSON struct {
	State   string         `json:"state"`
	Label   string         `json:"label"`
	Attempt int64          `json:"attempt"`
	Jobs    []jobStateJSON `json:"jobs"`
}

type jobStateJSON struct {
	ID       int64  `json:"id"`
	State    string `json:"state"`
	Label    string `json:"label"`
	Duration string `json:"duration"`
}

func (u *UI) runState(w http.ResponseWriter, r *request) error {
	data, err := u.runData(r)
	if err != nil {
		return err
	}
	run, jobs := data["Run"].(store.Run), data["Jobs"].([]store.Job)
	att := data["Attempt"].(store.Attempt)
	st, c := run.Status, run.Conclusion
	if att.Number != run.Attempt {
		st, c = att.Status, att.Conclusion
	}
	out := runStateJSON{State: state(st, c), Label: stateLabel(st, c), Attempt: run.Attempt, Jobs: []jobStateJSON{}}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, jobStateJSON{ID: j.ID, State: state(j.Status, j.Conclusion),
			Label: stateLabel(j.Status, j.Conclusion), Duration: duration(j.StartedAt, j.CompletedAt)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}

// artifact downloads one of a run's artifacts as a zip: a .zip file as it
// is, a directory zipped, any other file as the one entry.
func (u *UI) artifact(w http.ResponseWriter, r *request) error {
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	run, err := u.runOf(r, repo)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil {
		return errNotFound
	}
	art, err := u.store.Artifact(r.Context(), id)
	if err != nil {
		return err
	}
	if art.RunID != run.ID || art.Path == "" {
		return errNotFound
	}
	err = api.ServeArtifact(w, r.Request, u.store.Dir(), art)
	if errors.Is(err, fs.ErrNotExist) {
		return errNotFound
	}
	if err != nil {
		u.log.WarnContext(r.Context(), "web: zipping an artifact", "artifact", art.ID, "error", err)
	}
	return nil
}
