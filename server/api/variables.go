package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Variables keeps repositories' configuration variables (the vars context).
type Variables interface {
	CreateVariable(ctx context.Context, v store.Variable) error
	UpdateVariable(ctx context.Context, v store.Variable) error
	Variable(ctx context.Context, repoID int64, name string) (store.Variable, error)
	Variables(ctx context.Context, repoID int64) ([]store.Variable, error)
	DeleteVariable(ctx context.Context, repoID int64, name string) error
}

// Docs of the routes in this file.
const (
	docsVariables      = "https://docs.github.com/rest/actions/variables#list-repository-variables"
	docsVariable       = "https://docs.github.com/rest/actions/variables#get-a-repository-variable"
	docsCreateVariable = "https://docs.github.com/rest/actions/variables#create-a-repository-variable"
	docsUpdateVariable = "https://docs.github.com/rest/actions/variables#update-a-repository-variable"
	docsDeleteVariable = "https://docs.github.com/rest/actions/variables#delete-a-repository-variable"
)

func (a *API) variableRoutes() []route {
	return []route{
		{pattern: "GET /repos/{owner}/{repo}/actions/variables", need: token.Read, docs: docsVariables, h: a.listVariables},
		{pattern: "POST /repos/{owner}/{repo}/actions/variables", need: token.Write, docs: docsCreateVariable, h: a.createVariable},
		{pattern: "GET /repos/{owner}/{repo}/actions/variables/{name}", need: token.Read, docs: docsVariable, h: a.getVariable},
		{pattern: "PATCH /repos/{owner}/{repo}/actions/variables/{name}", need: token.Write, docs: docsUpdateVariable, h: a.updateVariable},
		{pattern: "DELETE /repos/{owner}/{repo}/actions/variables/{name}", need: token.Write, docs: docsDeleteVariable, h: a.deleteVariable},
	}
}

// variableJSON is a variable as GitHub answers it.
type variableJSON struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func toVariable(v store.Variable) variableJSON {
	return variableJSON{Name: v.Name, Value: v.Value, CreatedAt: v.CreatedAt.UTC().Format(timeFormat), UpdatedAt: v.UpdatedAt.UTC().Format(timeFormat)}
}

// maxVariableSize is GitHub's limit on one variable's value
// (https://docs.github.com/en/actions/reference/workflows-and-actions/variables#limits-for-configuration-variables).
const maxVariableSize = 48 * 1024

func (a *API) listVariables(w http.ResponseWriter, r *http.Request, c *call) error {
	all, err := a.store.Variables(r.Context(), c.repo.ID)
	if err != nil {
		return err
	}
	// GitHub lists 10 variables a page by default, and at most 30.
	p := parsePage(r, 10)
	p.perPage = min(p.perPage, 30)
	out := struct {
		TotalCount int            `json:"total_count"`
		Variables  []variableJSON `json:"variables"`
	}{TotalCount: len(all), Variables: []variableJSON{}}
	for _, v := range pageOf(p, all) {
		out.Variables = append(out.Variables, toVariable(v))
	}
	setLink(w, r, c, p, len(all))
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getVariable(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := a.store.Variable(r.Context(), c.repo.ID, strings.ToUpper(r.PathValue("name")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVariable(v))
	return nil
}

func (a *API) createVariable(w http.ResponseWriter, r *http.Request, c *call) error {
	var body struct {
		Name  *string `json:"name"`
		Value *string `json:"value"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Name == nil || body.Value == nil {
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\" and \"value\" are required.", "")
	}
	name, err := checkName("variable", *body.Name)
	if err != nil {
		return err
	}
	if len(*body.Value) > maxVariableSize {
		return httpError(http.StatusUnprocessableEntity, "Variable value is too large: variables are limited to 48 KB", "")
	}
	err = a.store.CreateVariable(r.Context(), store.Variable{RepoID: c.repo.ID, Name: name, Value: *body.Value})
	if errors.Is(err, store.ErrConflict) {
		return httpError(http.StatusConflict, "Already exists - Variable already exists", "")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct{}{})
	return nil
}

// updateVariable changes a variable's value, and renames it when the body
// names it differently.
func (a *API) updateVariable(w http.ResponseWriter, r *http.Request, c *call) error {
	old, err := a.store.Variable(r.Context(), c.repo.ID, strings.ToUpper(r.PathValue("name")))
	if err != nil {
		return err
	}
	var body struct {
		Name  *string `json:"name"`
		Value *string `json:"value"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	v := old
	if body.Value != nil {
		if len(*body.Value) > maxVariableSize {
			return httpError(http.StatusUnprocessableEntity, "Variable value is too large: variables are limited to 48 KB", "")
		}
		v.Value = *body.Value
	}
	if body.Name != nil {
		if v.Name, err = checkName("variable", *body.Name); err != nil {
			return err
		}
	}
	if v.Name == old.Name {
		err = a.store.UpdateVariable(r.Context(), v)
	} else {
		err = a.store.CreateVariable(r.Context(), v)
		if err == nil {
			err = a.store.DeleteVariable(r.Context(), c.repo.ID, old.Name)
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return httpError(http.StatusConflict, "Already exists - Variable already exists", "")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteVariable(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := a.store.DeleteVariable(r.Context(), c.repo.ID, strings.ToUpper(r.PathValue("name"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
