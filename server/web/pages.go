package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/server/store"
)

// workflowsDir is where a repository's workflow files live.
const workflowsDir = ".github/workflows/"

// runsPerPage is how many runs a page of runs lists.
const runsPerPage = 25

// repo is the {owner}/{repo} of r.
func (u *UI) repo(r *request) (store.Repository, error) {
	return u.store.Repository(r.Context(), r.PathValue("owner"), r.PathValue("repo"))
}

// workflowRow is a workflow and its last run.
type workflowRow struct {
	Workflow store.Workflow
	Last     *store.Run
}

func (u *UI) repositories(w http.ResponseWriter, r *request) error {
	repos, err := u.store.Repositories(r.Context())
	if err != nil {
		return err
	}
	type repoRow struct {
		Repo      store.Repository
		Workflows []workflowRow
	}
	var rows []repoRow
	for _, repo := range repos {
		wfs, err := u.workflowRows(r.Context(), repo)
		if err != nil {
			return err
		}
		rows = append(rows, repoRow{Repo: repo, Workflows: wfs})
	}
	return u.view(w, r, "repos", map[string]any{"Title": "Repositories", "Repos": rows})
}

// workflowRows is repo's workflows with the last run of each.
func (u *UI) workflowRows(ctx context.Context, repo store.Repository) ([]workflowRow, error) {
	wfs, err := u.store.Workflows(ctx, repo.ID)
	if err != nil {
		return nil, err
	}
	var rows []workflowRow
	for _, wf := range wfs {
		row := workflowRow{Workflow: wf}
		last, err := u.store.ListRuns(ctx, store.RunFilter{RepoID: repo.ID, WorkflowID: wf.ID, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(last) > 0 {
			row.Last = &last[0]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// workflowOf is the {file} of r: a file name under .github/workflows.
func (u *UI) workflowOf(ctx context.Context, repo store.Repository, file string) (store.Workflow, error) {
	if file == "" || strings.ContainsAny(file, "/\\") {
		return store.Workflow{}, errNotFound
	}
	return u.store.WorkflowByPath(ctx, repo.ID, workflowsDir+file)
}

func (u *UI) runs(w http.ResponseWriter, r *request) error {
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	wfs, err := u.workflowRows(r.Context(), repo)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.RunFilter{RepoID: repo.ID, Branch: q.Get("branch"), Event: q.Get("event"), Status: q.Get("status"),
		Actor: q.Get("actor"), Limit: runsPerPage}
	data := map[string]any{"Repo": repo, "Workflows": wfs, "Query": q}
	title := "Actions · " + repo.FullName()
	if file := r.PathValue("file"); file != "" {
		wf, err := u.workflowOf(r.Context(), repo, file)
		if err != nil {
			return err
		}
		f.WorkflowID = wf.ID
		data["Workflow"] = wf
		title = wf.Name + " · " + repo.FullName()
		form, err := u.dispatchForm(r.Context(), repo, wf)
		if err != nil {
			u.log.WarnContext(r.Context(), "web: reading a workflow's dispatch inputs", "workflow", wf.Path, "error", err)
		}
		data["Dispatch"] = form
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	f.Offset = (page - 1) * runsPerPage
	runs, err := u.store.ListRuns(r.Context(), f)
	if err != nil {
		return err
	}
	total, err := u.store.CountRuns(r.Context(), f)
	if err != nil {
		return err
	}
	data["Title"] = title
	data["Runs"] = runs
	data["Total"] = total
	data["Page"] = page
	if page > 1 {
		data["Prev"] = pageURL(r.URL, page-1)
	}
	if page*runsPerPage < total {
		data["Next"] = pageURL(r.URL, page+1)
	}
	return u.view(w, r, "runs", data)
}

// pageURL is u with its page parameter set to n.
func pageURL(u *url.URL, n int) string {
	q := u.Query()
	q.Set("page", strconv.Itoa(n))
	return u.Path + "?" + q.Encode()
}

// runOf is the {id} of r, which must be a run of repo.
func (u *UI) runOf(r *request, repo store.Repository) (store.Run, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.Run{}, errNotFound
	}
	run, err := u.store.Run(r.Context(), id)
	if err != nil {
		return run, err
	}
	if run.RepoID != repo.ID {
		return run, errNotFound
	}
	return run, nil
}

// runPath is the run page's path.
func runPath(repo store.Repository, id int64) string {
	return "/" + url.PathEscape(repo.Owner) + "/" + url.PathEscape(repo.Name) + "/actions/runs/" + strconv.FormatInt(id, 10)
}

func (u *UI) cancel(w http.ResponseWriter, r *request) error {
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	run, err := u.runOf(r, repo)
	if err != nil {
		return err
	}
	if err := u.control.Cancel(r.Context(), run, r.PostFormValue("force") == "1"); err != nil {
		return err
	}
	u.log.InfoContext(r.Context(), "web: run cancelled", "run_id", run.ID, "by", r.s.login)
	return u.done(w, r, runPath(repo, run.ID))
}

func (u *UI) rerun(w http.ResponseWriter, r *request) error {
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	run, err := u.runOf(r, repo)
	if err != nil {
		return err
	}
	failed := strings.HasSuffix(r.URL.Path, "/rerun-failed-jobs")
	if err := u.control.Rerun(r.Context(), run, r.s.login, failed); err != nil {
		return err
	}
	fresh, err := u.store.Run(r.Context(), run.ID)
	if err != nil {
		return err
	}
	return u.done(w, r, runPath(repo, run.ID)+"/attempts/"+strconv.FormatInt(fresh.Attempt, 10))
}

// done answers a form POST that succeeded: a redirect to where it leads,
// or, to the script that posted it (Accept: application/json), that place.
func (u *UI) done(w http.ResponseWriter, r *request, to string) error {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"location":` + strconv.Quote(to) + `}`))
		return nil
	}
	http.Redirect(w, r.Request, to, http.StatusSeeOther)
	return nil
}

// errForbidden is an action the session's token may not take.
var errForbidden = &userError{code: http.StatusForbidden, msg: "Your token may not do that; sign in with an admin token."}
