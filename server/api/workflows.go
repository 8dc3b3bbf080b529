package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Docs of the routes in this file.
const (
	docsWorkflows  = "https://docs.github.com/rest/actions/workflows#list-repository-workflows"
	docsWorkflow   = "https://docs.github.com/rest/actions/workflows#get-a-workflow"
	docsDispatch   = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
	docsRepoEvent  = "https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event"
	workflowsDir   = ".github/workflows/"
	maxRequestBody = 1 << 20 // GitHub's limit on a repository_dispatch's client_payload is far smaller
)

func (a *API) workflowRoutes() []route {
	return []route{
		{pattern: "GET /repos/{owner}/{repo}/actions/workflows", need: token.Read, docs: docsWorkflows, h: a.listWorkflows},
		{pattern: "GET /repos/{owner}/{repo}/actions/workflows/{workflow}", need: token.Read, docs: docsWorkflow, h: a.getWorkflow},
		{pattern: "POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", need: token.Write, docs: docsDispatch, h: a.dispatch},
		{pattern: "POST /repos/{owner}/{repo}/dispatches", need: token.Write, docs: docsRepoEvent, h: a.repositoryDispatch},
	}
}

func (a *API) listWorkflows(w http.ResponseWriter, r *http.Request, c *call) error {
	wfs, err := a.store.Workflows(r.Context(), c.repo.ID)
	if err != nil {
		return err
	}
	p := parsePage(r, 30)
	out := struct {
		TotalCount int                `json:"total_count"`
		Workflows  []*github.Workflow `json:"workflows"`
	}{TotalCount: len(wfs), Workflows: []*github.Workflow{}}
	for _, wf := range pageOf(p, wfs) {
		out.Workflows = append(out.Workflows, toWorkflow(c, c.repo, wf))
	}
	setLink(w, r, c, p, len(wfs))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// workflow finds the {workflow} of r: a workflow id, or a file name under
// .github/workflows (ci.yml), as GitHub accepts.
func (a *API) workflow(r *http.Request, c *call) (store.Workflow, error) {
	ref := r.PathValue("workflow")
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		wf, err := a.store.WorkflowByID(r.Context(), id)
		if err == nil && wf.RepoID != c.repo.ID {
			return store.Workflow{}, errNotFound
		}
		return wf, err
	}
	if strings.Contains(ref, "/") {
		return store.Workflow{}, errNotFound
	}
	return a.store.WorkflowByPath(r.Context(), c.repo.ID, workflowsDir+ref)
}

func (a *API) getWorkflow(w http.ResponseWriter, r *http.Request, c *call) error {
	wf, err := a.workflow(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWorkflow(c, c.repo, wf))
	return nil
}

// decodeBody decodes r's JSON body into v, answering GitHub's 400
// "Problems parsing JSON" when it is not JSON.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody))
	if err := dec.Decode(v); err != nil {
		return httpError(http.StatusBadRequest, "Problems parsing JSON", "")
	}
	return nil
}

// decodeOptionalBody is decodeBody for a body that may be empty.
func decodeOptionalBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody))
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return httpError(http.StatusBadRequest, "Problems parsing JSON", "")
	}
	return nil
}

func (a *API) dispatch(w http.ResponseWriter, r *http.Request, c *call) error {
	wf, err := a.workflow(r, c)
	if err != nil {
		return err
	}
	var body struct {
		Ref              *string        `json:"ref"`
		Inputs           map[string]any `json:"inputs"`
		ReturnRunDetails bool           `json:"return_run_details"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Ref == nil || *body.Ref == "" {
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.", "")
	}
	run, err := a.control.Dispatch(r.Context(), Dispatch{Repo: c.repo, Workflow: wf, Ref: *body.Ref, Inputs: body.Inputs, Actor: c.user.login})
	if err != nil {
		return controlError(err, "Conflict")
	}
	if !body.ReturnRunDetails {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	full := toRun(c, c.repo, run, nil)
	writeJSON(w, http.StatusOK, &github.WorkflowDispatchRunDetails{WorkflowRunID: full.ID, RunURL: full.URL, HTMLURL: full.HTMLURL})
	return nil
}

func (a *API) repositoryDispatch(w http.ResponseWriter, r *http.Request, c *call) error {
	var body struct {
		EventType     string          `json:"event_type"`
		ClientPayload json.RawMessage `json:"client_payload"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.EventType == "" {
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\n\"event_type\" wasn't supplied.", "")
	}
	if len(body.EventType) > 100 {
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\n\"event_type\" is too long (maximum is 100 characters).", "")
	}
	if len(body.ClientPayload) == 0 || string(body.ClientPayload) == "null" {
		body.ClientPayload = json.RawMessage("{}")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body.ClientPayload, &obj) != nil {
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/client_payload', "+string(body.ClientPayload)+" is not an object.", "")
	}
	if len(obj) > 10 {
		// https://docs.github.com/en/rest/repos/repos#create-a-repository-dispatch-event
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\nNo more than 10 properties are allowed; "+strconv.Itoa(len(obj))+" were supplied.", "")
	}
	if err := a.control.RepositoryDispatch(r.Context(), c.repo, body.EventType, body.ClientPayload, c.user.login); err != nil {
		return controlError(err, "Conflict")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// controlError maps a Control's error to GitHub's answer: an
// *InvalidError to 422, store.ErrConflict to 409 with conflict as the
// message.
func controlError(err error, conflict string) error {
	var inv *InvalidError
	if errors.As(err, &inv) {
		return httpError(http.StatusUnprocessableEntity, inv.Message, "")
	}
	if errors.Is(err, store.ErrConflict) {
		return httpError(http.StatusConflict, conflict, "")
	}
	return err
}
