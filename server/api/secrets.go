package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Secrets keeps repositories' encrypted secrets.
type Secrets interface {
	PutSecret(ctx context.Context, sec store.Secret) error
	Secret(ctx context.Context, repoID int64, name string) (store.Secret, error)
	Secrets(ctx context.Context, repoID int64) ([]store.Secret, error)
	DeleteSecret(ctx context.Context, repoID int64, name string) error
}

// Docs of the routes in this file.
const (
	docsPublicKey    = "https://docs.github.com/rest/actions/secrets#get-a-repository-public-key"
	docsSecrets      = "https://docs.github.com/rest/actions/secrets#list-repository-secrets"
	docsSecret       = "https://docs.github.com/rest/actions/secrets#get-a-repository-secret"
	docsPutSecret    = "https://docs.github.com/rest/actions/secrets#create-or-update-a-repository-secret"
	docsDeleteSecret = "https://docs.github.com/rest/actions/secrets#delete-a-repository-secret"
)

func (a *API) secretRoutes() []route {
	return []route{
		{pattern: "GET /repos/{owner}/{repo}/actions/secrets/public-key", need: token.Read, docs: docsPublicKey, h: a.publicKey},
		{pattern: "GET /repos/{owner}/{repo}/actions/secrets", need: token.Read, docs: docsSecrets, h: a.listSecrets},
		{pattern: "GET /repos/{owner}/{repo}/actions/secrets/{name}", need: token.Read, docs: docsSecret, h: a.getSecret},
		{pattern: "PUT /repos/{owner}/{repo}/actions/secrets/{name}", need: token.Write, docs: docsPutSecret, h: a.putSecret},
		{pattern: "DELETE /repos/{owner}/{repo}/actions/secrets/{name}", need: token.Write, docs: docsDeleteSecret, h: a.deleteSecret},
	}
}

// secretName matches a valid secret or variable name: letters, digits and
// underscores, not starting with a digit
// (https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#naming-your-secrets).
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckName returns name as GitHub stores it (upper case), or an
// *InvalidError with GitHub's message saying why it is not a valid name for
// what ("secret" or "variable").
func CheckName(what, name string) (string, error) {
	if !secretName.MatchString(name) {
		return "", &InvalidError{Message: "Failed to add " + what + ". Name is invalid: " + what + " names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_), and must not start with a number."}
	}
	up := strings.ToUpper(name)
	if strings.HasPrefix(up, "GITHUB_") {
		return "", &InvalidError{Message: "Failed to add " + what + ". Name is invalid: " + what + " names must not start with the GITHUB_ prefix."}
	}
	return up, nil
}

// checkName is CheckName answered as a 422.
func checkName(what, name string) (string, error) {
	up, err := CheckName(what, name)
	if err != nil {
		return "", httpError(http.StatusUnprocessableEntity, err.Error(), "")
	}
	return up, nil
}

// secretJSON is a secret as GitHub lists it: never its value.
type secretJSON struct {
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func toSecret(s store.Secret) secretJSON {
	return secretJSON{Name: s.Name, CreatedAt: s.CreatedAt.UTC().Format(timeFormat), UpdatedAt: s.UpdatedAt.UTC().Format(timeFormat)}
}

// timeFormat is GitHub's timestamps' format.
const timeFormat = "2006-01-02T15:04:05Z"

func (a *API) publicKey(w http.ResponseWriter, r *http.Request, c *call) error {
	pk := a.box.PublicKey(c.repo.FullName())
	writeJSON(w, http.StatusOK, map[string]string{"key_id": pk.KeyID, "key": pk.Key})
	return nil
}

func (a *API) listSecrets(w http.ResponseWriter, r *http.Request, c *call) error {
	all, err := a.store.Secrets(r.Context(), c.repo.ID)
	if err != nil {
		return err
	}
	p := parsePage(r, 30)
	out := struct {
		TotalCount int          `json:"total_count"`
		Secrets    []secretJSON `json:"secrets"`
	}{TotalCount: len(all), Secrets: []secretJSON{}}
	for _, s := range pageOf(p, all) {
		out.Secrets = append(out.Secrets, toSecret(s))
	}
	setLink(w, r, c, p, len(all))
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	s, err := a.store.Secret(r.Context(), c.repo.ID, strings.ToUpper(r.PathValue("name")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSecret(s))
	return nil
}

// putSecret opens the sealed value and stores it encrypted under the
// service key: 201 for a new secret, 204 for a changed one, as GitHub.
func (a *API) putSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	name, err := checkName("secret", r.PathValue("name"))
	if err != nil {
		return err
	}
	var body struct {
		EncryptedValue string `json:"encrypted_value"`
		KeyID          string `json:"key_id"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.EncryptedValue == "" || body.KeyID == "" {
		return httpError(http.StatusUnprocessableEntity, "Invalid request.\n\n\"encrypted_value\" and \"key_id\" are required.", "")
	}
	plain, err := a.box.OpenSealed(c.repo.FullName(), body.KeyID, body.EncryptedValue)
	if errors.Is(err, secrets.ErrKeyID) {
		return httpError(http.StatusUnprocessableEntity, "Bad request: key_id is not the repository's public key id", "")
	}
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, "Bad request: encrypted_value is not a sealed box for the repository's public key", "")
	}
	if len(plain) > 48*1024 {
		// https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#limits-for-secrets
		return httpError(http.StatusUnprocessableEntity, "Secret value is too large: secrets are limited to 48 KB", "")
	}
	nonce, ct, err := a.box.Encrypt(secrets.RowContext(c.repo.ID, name), plain)
	clear(plain)
	if err != nil {
		return err
	}
	_, err = a.store.Secret(r.Context(), c.repo.ID, name)
	existed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := a.store.PutSecret(r.Context(), store.Secret{RepoID: c.repo.ID, Name: name, Ciphertext: ct, Nonce: nonce}); err != nil {
		return err
	}
	if existed {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusCreated, struct{}{})
	return nil
}

func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := a.store.DeleteSecret(r.Context(), c.repo.ID, strings.ToUpper(r.PathValue("name"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
