package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

func settingsPath(repo store.Repository) string {
	return "/" + url.PathEscape(repo.Owner) + "/" + url.PathEscape(repo.Name) + "/settings/secrets/actions"
}

// secrets lists a repository's secrets (names and dates; values are
// never read) and variables.
func (u *UI) secrets(w http.ResponseWriter, r *request) error {
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	secs, err := u.store.Secrets(r.Context(), repo.ID)
	if err != nil {
		return err
	}
	for i := range secs {
		secs[i].Ciphertext, secs[i].Nonce = nil, nil
	}
	vars, err := u.store.Variables(r.Context(), repo.ID)
	if err != nil {
		return err
	}
	return u.view(w, r, "secrets", map[string]any{"Title": "Secrets and variables · " + repo.FullName(), "Repo": repo,
		"Secrets": secs, "Variables": vars, "Admin": r.s.scope.Allows(token.Admin)})
}

func (u *UI) setSecret(w http.ResponseWriter, r *request) error {
	if !r.s.scope.Allows(token.Admin) {
		return errForbidden
	}
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	name, err := api.CheckName("secret", strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		return err
	}
	value := r.PostFormValue("value")
	if value == "" || len(value) > 48*1024 {
		return badRequest("A secret's value must be between 1 byte and 48 KB.")
	}
	nonce, ct, err := u.box.Encrypt(secrets.RowContext(repo.ID, name), []byte(value))
	if err != nil {
		return err
	}
	if err := u.store.PutSecret(r.Context(), store.Secret{RepoID: repo.ID, Name: name, Ciphertext: ct, Nonce: nonce}); err != nil {
		return err
	}
	u.log.InfoContext(r.Context(), "web: secret set", "repo", repo.FullName(), "name", name, "by", r.s.login)
	return u.done(w, r, settingsPath(repo))
}

func (u *UI) deleteSecret(w http.ResponseWriter, r *request) error {
	if !r.s.scope.Allows(token.Admin) {
		return errForbidden
	}
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	if err := u.store.DeleteSecret(r.Context(), repo.ID, strings.ToUpper(r.PostFormValue("name"))); err != nil {
		return err
	}
	return u.done(w, r, settingsPath(repo))
}

func (u *UI) setVariable(w http.ResponseWriter, r *request) error {
	if !r.s.scope.Allows(token.Admin) {
		return errForbidden
	}
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	name, err := api.CheckName("variable", strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		return err
	}
	v := store.Variable{RepoID: repo.ID, Name: name, Value: r.PostFormValue("value")}
	err = u.store.UpdateVariable(r.Context(), v)
	if errors.Is(err, store.ErrNotFound) {
		err = u.store.CreateVariable(r.Context(), v)
	}
	if err != nil {
		return err
	}
	return u.done(w, r, settingsPath(repo))
}

func (u *UI) deleteVariable(w http.ResponseWriter, r *request) error {
	if !r.s.scope.Allows(token.Admin) {
		return errForbidden
	}
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	if err := u.store.DeleteVariable(r.Context(), repo.ID, strings.ToUpper(r.PostFormValue("name"))); err != nil {
		return err
	}
	return u.done(w, r, settingsPath(repo))
}
