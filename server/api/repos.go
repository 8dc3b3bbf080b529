package api

import (
	"context"
	"net/http"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Repos looks up repositories and their workflows.
type Repos interface {
	Repository(ctx context.Context, owner, name string) (store.Repository, error)
	WorkflowByID(ctx context.Context, id int64) (store.Workflow, error)
	WorkflowByPath(ctx context.Context, repoID int64, path string) (store.Workflow, error)
	Workflows(ctx context.Context, repoID int64) ([]store.Workflow, error)
}

// Docs of the routes in this file.
const (
	docsRoot = "https://docs.github.com/rest/meta/meta#github-api-root"
	docsUser = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
	docsRepo = "https://docs.github.com/rest/repos/repos#get-a-repository"
)

// routes registers every route of the API.
func (a *API) routes() {
	// The root is open, as GitHub's is: it lists URL templates only.
	a.mux.HandleFunc("GET "+Prefix, a.root)
	a.mux.HandleFunc("GET "+Prefix+"/{$}", a.root)
	a.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, a.log, errNotFound, "")
	})
	a.mux.HandleFunc("GET "+DownloadPrefix+"{kind}/{id}", a.download)
	for _, rt := range [][]route{a.repoRoutes(), a.workflowRoutes(), a.runRoutes(), a.jobRoutes(), a.artifactRoutes(), a.secretRoutes(), a.variableRoutes()} {
		for _, r := range rt {
			a.handle(r)
		}
	}
}

func (a *API) repoRoutes() []route {
	return []route{
		{pattern: "GET /user", need: token.Read, docs: docsUser, h: a.getUser},
		{pattern: "GET /repos/{owner}/{repo}", need: token.Read, docs: docsRepo, h: a.getRepo},
	}
}

// root answers GitHub's API root: the URL templates of what is served.
func (a *API) root(w http.ResponseWriter, r *http.Request) {
	b := a.base(r)
	writeJSON(w, http.StatusOK, map[string]string{
		"current_user_url":              b + "/user",
		"repository_url":                b + "/repos/{owner}/{repo}",
		"workflow_runs_url":             b + "/repos/{owner}/{repo}/actions/runs{?actor,branch,event,status,head_sha,page,per_page}",
		"workflows_url":                 b + "/repos/{owner}/{repo}/actions/workflows",
		"artifacts_url":                 b + "/repos/{owner}/{repo}/actions/artifacts",
		"secrets_url":                   b + "/repos/{owner}/{repo}/actions/secrets",
		"variables_url":                 b + "/repos/{owner}/{repo}/actions/variables",
		"documentation_url":             docsREST,
		"authorizations_url":            b + "/authorizations",
		"current_user_repositories_url": b + "/user/repos",
	})
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, c *call) error {
	// X-OAuth-Scopes is what gh reads to tell a token's permissions.
	w.Header().Set("X-OAuth-Scopes", map[token.Scope]string{token.Read: "repo:status, read:org", token.Write: "repo, workflow, read:org", token.Admin: "repo, workflow, admin:org"}[c.user.scope])
	writeJSON(w, http.StatusOK, toUser(c, c.user.login, c.user.id))
	return nil
}

func (a *API) getRepo(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, toRepo(c, c.repo))
	return nil
}
