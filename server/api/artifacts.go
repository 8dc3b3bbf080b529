package api

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Artifacts reads and deletes artifacts' records.
type Artifacts interface {
	Artifact(ctx context.Context, id int64) (store.Artifact, error)
	Artifacts(ctx context.Context, runID int64) ([]store.Artifact, error)
	RepoArtifacts(ctx context.Context, repoID int64) ([]store.Artifact, error)
	DeleteArtifact(ctx context.Context, id int64) error
	Dir() string
}

// Docs of the routes in this file.
const (
	docsRepoArtifacts  = "https://docs.github.com/rest/actions/artifacts#list-artifacts-for-a-repository"
	docsRunArtifacts   = "https://docs.github.com/rest/actions/artifacts#list-workflow-run-artifacts"
	docsArtifact       = "https://docs.github.com/rest/actions/artifacts#get-an-artifact"
	docsArtifactZip    = "https://docs.github.com/rest/actions/artifacts#download-an-artifact"
	docsDeleteArtifact = "https://docs.github.com/rest/actions/artifacts#delete-an-artifact"
)

func (a *API) artifactRoutes() []route {
	return []route{
		{pattern: "GET /repos/{owner}/{repo}/actions/artifacts", need: token.Read, docs: docsRepoArtifacts, h: a.listArtifacts},
		{pattern: "GET /repos/{owner}/{repo}/actions/runs/{run}/artifacts", need: token.Read, docs: docsRunArtifacts, h: a.listArtifacts},
		{pattern: "GET /repos/{owner}/{repo}/actions/artifacts/{artifact}", need: token.Read, docs: docsArtifact, h: a.getArtifact},
		{pattern: "GET /repos/{owner}/{repo}/actions/artifacts/{artifact}/{format}", need: token.Read, docs: docsArtifactZip, h: a.downloadArtifact},
		{pattern: "DELETE /repos/{owner}/{repo}/actions/artifacts/{artifact}", need: token.Write, docs: docsDeleteArtifact, h: a.deleteArtifact},
	}
}

func (a *API) listArtifacts(w http.ResponseWriter, r *http.Request, c *call) error {
	var arts []store.Artifact
	runs := map[int64]store.Run{}
	if r.PathValue("run") != "" {
		run, err := a.run(r, c)
		if err != nil {
			return err
		}
		runs[run.ID] = run
		if arts, err = a.store.Artifacts(r.Context(), run.ID); err != nil {
			return err
		}
	} else {
		var err error
		if arts, err = a.store.RepoArtifacts(r.Context(), c.repo.ID); err != nil {
			return err
		}
	}
	if name := r.URL.Query().Get("name"); name != "" {
		kept := arts[:0]
		for _, art := range arts {
			if art.Name == name {
				kept = append(kept, art)
			}
		}
		arts = kept
	}
	p := parsePage(r, 30)
	out := struct {
		TotalCount int                `json:"total_count"`
		Artifacts  []*github.Artifact `json:"artifacts"`
	}{TotalCount: len(arts), Artifacts: []*github.Artifact{}}
	now := a.now()
	for _, art := range pageOf(p, arts) {
		run, ok := runs[art.RunID]
		if !ok {
			var err error
			if run, err = a.store.Run(r.Context(), art.RunID); err != nil {
				return err
			}
			runs[art.RunID] = run
		}
		out.Artifacts = append(out.Artifacts, toArtifact(c, c.repo, run, art, now))
	}
	setLink(w, r, c, p, len(arts))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// artifact finds the {artifact} of r in the call's repository, with its run.
func (a *API) artifact(r *http.Request, c *call) (store.Artifact, store.Run, error) {
	id, err := strconv.ParseInt(r.PathValue("artifact"), 10, 64)
	if err != nil {
		return store.Artifact{}, store.Run{}, errNotFound
	}
	art, err := a.store.Artifact(r.Context(), id)
	if err != nil {
		return store.Artifact{}, store.Run{}, err
	}
	run, err := a.store.Run(r.Context(), art.RunID)
	if err != nil {
		return store.Artifact{}, store.Run{}, err
	}
	if run.RepoID != c.repo.ID {
		return store.Artifact{}, store.Run{}, errNotFound
	}
	return art, run, nil
}

func (a *API) getArtifact(w http.ResponseWriter, r *http.Request, c *call) error {
	art, run, err := a.artifact(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toArtifact(c, c.repo, run, art, a.now()))
	return nil
}

// downloadArtifact answers a 302 to a signed URL of the artifact's zip;
// zip is the only archive_format, and an expired artifact is GitHub's 410.
func (a *API) downloadArtifact(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PathValue("format") != "zip" {
		return errNotFound
	}
	art, _, err := a.artifact(r, c)
	if err != nil {
		return err
	}
	if !art.ExpiresAt.IsZero() && !a.now().Before(art.ExpiresAt) {
		return httpError(http.StatusGone, "Artifact has expired", "")
	}
	a.redirect(w, r, c, kindArtifact, art.ID, 0)
	return nil
}

func (a *API) deleteArtifact(w http.ResponseWriter, r *http.Request, c *call) error {
	art, _, err := a.artifact(r, c)
	if err != nil {
		return err
	}
	if err := a.store.DeleteArtifact(r.Context(), art.ID); err != nil {
		return err
	}
	if p := a.artifactPath(art); p != "" {
		if err := os.RemoveAll(p); err != nil {
			a.log.WarnContext(r.Context(), "api: removing a deleted artifact's files", "artifact", art.ID, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// artifactPath is where art's content lives: its Path, under the data
// directory when relative; "" when it has none.
func (a *API) artifactPath(art store.Artifact) string { return ArtifactPath(a.store.Dir(), art) }

// ArtifactPath is where art's content lives: its Path, under dataDir when
// relative; "" when it has none.
func ArtifactPath(dataDir string, art store.Artifact) string {
	if art.Path == "" {
		return ""
	}
	if filepath.IsAbs(art.Path) {
		return art.Path
	}
	return filepath.Join(dataDir, filepath.FromSlash(art.Path))
}

func (a *API) serveArtifact(w http.ResponseWriter, r *http.Request, id int64) error {
	art, err := a.store.Artifact(r.Context(), id)
	if err != nil {
		return err
	}
	err = ServeArtifact(w, r, a.store.Dir(), art)
	if errors.Is(err, fs.ErrNotExist) {
		return errNotFound
	}
	return err
}

// ServeArtifact writes art as a zip: a .zip file as it is, a directory
// zipped (its files at the archive's root, as actions/upload-artifact lays
// them out), any other file as the one entry. An artifact without content
// is an fs.ErrNotExist, before anything is written.
func ServeArtifact(w http.ResponseWriter, r *http.Request, dataDir string, art store.Artifact) error {
	p := ArtifactPath(dataDir, art)
	if p == "" {
		return fs.ErrNotExist
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fs.ErrNotExist
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(art.Name+".zip"))
	if !fi.IsDir() && strings.HasSuffix(p, ".zip") {
		http.ServeFile(w, r, p)
		return nil
	}
	zw := zip.NewWriter(w)
	root := p
	if !fi.IsDir() {
		root = filepath.Dir(p)
	}
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		f, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(f, src)
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}
