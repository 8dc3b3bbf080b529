package results

import (
	"errors"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The ArtifactService messages, in protobuf's JSON mapping with the proto
// field names the toolkit sends (github.actions.results.api.v1).
type (
	createArtifactRequest struct {
		RunID     string  `json:"workflow_run_backend_id"`
		JobID     string  `json:"workflow_job_run_backend_id"`
		Name      string  `json:"name"`
		ExpiresAt *string `json:"expires_at"`
		Version   int32   `json:"version"`
		MimeType  *string `json:"mime_type"`
	}
	createArtifactResponse struct {
		OK              bool   `json:"ok"`
		SignedUploadURL string `json:"signed_upload_url"`
	}
	finalizeArtifactRequest struct {
		RunID string    `json:"workflow_run_backend_id"`
		JobID string    `json:"workflow_job_run_backend_id"`
		Name  string    `json:"name"`
		Size  int64JSON `json:"size"`
		Hash  *string   `json:"hash"`
	}
	finalizeArtifactResponse struct {
		OK         bool      `json:"ok"`
		ArtifactID int64JSON `json:"artifact_id"`
	}
	listArtifactsRequest struct {
		RunID      string     `json:"workflow_run_backend_id"`
		JobID      string     `json:"workflow_job_run_backend_id"`
		NameFilter *string    `json:"name_filter"`
		IDFilter   *int64JSON `json:"id_filter"`
	}
	listArtifactsResponse struct {
		Artifacts []monolithArtifact `json:"artifacts"`
	}
	monolithArtifact struct {
		RunID      string    `json:"workflow_run_backend_id"`
		JobID      string    `json:"workflow_job_run_backend_id"`
		DatabaseID int64JSON `json:"database_id"`
		Name       string    `json:"name"`
		Size       int64JSON `json:"size"`
		CreatedAt  string    `json:"created_at"`
		Digest     string    `json:"digest,omitempty"`
	}
	// artifactRequest is GetSignedArtifactURLRequest and
	// DeleteArtifactRequest.
	artifactRequest struct {
		RunID string `json:"workflow_run_backend_id"`
		JobID string `json:"workflow_job_run_backend_id"`
		Name  string `json:"name"`
	}
	signedArtifactURLResponse struct {
		SignedURL string `json:"signed_url"`
	}
	deleteArtifactResponse struct {
		OK         bool      `json:"ok"`
		ArtifactID int64JSON `json:"artifact_id"`
	}
)

// checkRun checks that a request names the run of its token, and for
// uploads (ownJob) also its job: a job reaches only its own run's
// artifacts. Downloads name the job that uploaded the artifact.
func checkRun(id identity, run, job string, ownJob bool) error {
	switch {
	case run == "" || job == "":
		return errorf(codeInvalidArgument, "workflow_run_backend_id and workflow_job_run_backend_id are required")
	case run != id.run:
		return errorf(codePermissionDenied, "the runtime token is for another workflow run")
	case ownJob && job != id.job:
		return errorf(codePermissionDenied, "the runtime token is for another job")
	}
	return nil
}

// checkArtifact checks a request that names an artifact: its run (and for
// uploads its job, see checkRun) and the name.
func checkArtifact(id identity, run, job, name string, ownJob bool) error {
	if err := checkRun(id, run, job, ownJob); err != nil {
		return err
	}
	return checkArtifactName(name)
}

// maxNameLen bounds artifact names and cache keys (GitHub's cache key
// limit is 512 characters).
const maxNameLen = 512

// checkArtifactName rejects what GitHub rejects in an artifact name (the
// characters @actions/artifact checks for: " : < > | * ? \r \n \ /), plus
// other control characters, "." and "..".
func checkArtifactName(name string) error {
	switch {
	case name == "":
		return errorf(codeInvalidArgument, "the artifact name is empty")
	case len(name) > maxNameLen:
		return errorf(codeInvalidArgument, "the artifact name is over %d bytes", maxNameLen)
	case name == "." || name == "..":
		return errorf(codeInvalidArgument, "invalid artifact name %q", name)
	}
	for _, r := range name {
		if strings.ContainsRune(`":<>|*?\/`, r) || unicode.IsControl(r) {
			return errorf(codeInvalidArgument, "artifact name %q contains %q; names may not contain \" : < > | * ? \\ / or control characters", name, r)
		}
	}
	return nil
}

func (s *Server) createArtifact(r *http.Request, id identity) (any, error) {
	var req createArtifactRequest
	if err := decodeRequest(r, &req); err != nil {
		return nil, err
	}
	if err := checkArtifact(id, req.RunID, req.JobID, req.Name, true); err != nil {
		return nil, err
	}
	mimeType := "application/zip"
	if req.MimeType != nil && *req.MimeType != "" {
		mimeType = *req.MimeType
	}
	st := s.artifacts(req.RunID)
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := st.list()
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.Name != req.Name {
			continue
		}
		if e.Finalized {
			return nil, errorf(codeAlreadyExists, "an artifact named %q already exists in this workflow run; delete it first (upload-artifact's overwrite: true does)", req.Name)
		}
		// An upload that never finished: this one replaces it.
		if err := st.remove(e.ID); err != nil {
			return nil, err
		}
	}
	e := &entry{Run: req.RunID, Job: req.JobID, Name: req.Name, MimeType: mimeType, Created: s.now()}
	if err := st.create(e); err != nil {
		return nil, err
	}
	u := s.signedURL(baseURL(r), artifactBlobPath(req.RunID, e.ID), permWrite, s.urlTTL)
	return createArtifactResponse{OK: true, SignedUploadURL: u}, nil
}

func artifactBlobPath(run string, id int64) string {
	return blobPrefix + "artifacts/" + runDir(run) + "/" + strconv.FormatInt(id, 10)
}

// findArtifact returns the run's artifact called name, finalized or
// still uploading.
func findArtifact(st store, name string, finalized bool) (*entry, error) {
	all, err := st.list()
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.Name == name && e.Finalized == finalized {
			return e, nil
		}
	}
	return nil, nil
}

func (s *Server) finalizeArtifact(r *http.Request, id identity) (any, error) {
	var req finalizeArtifactRequest
	if err := decodeRequest(r, &req); err != nil {
		return nil, err
	}
	if err := checkArtifact(id, req.RunID, req.JobID, req.Name, true); err != nil {
		return nil, err
	}
	st := s.artifacts(req.RunID)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := findArtifact(st, req.Name, false)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errorf(codeNotFound, "no artifact named %q is being uploaded in this workflow run (CreateArtifact first)", req.Name)
	}
	if err := s.sealEntry(st, e, req.Hash); err != nil {
		return nil, err
	}
	return finalizeArtifactResponse{OK: true, ArtifactID: int64JSON(e.ID)}, nil
}

// sealEntry finalizes an uploaded entry: its size and digest are what was
// stored, and a digest the client sent must agree.
func (s *Server) sealEntry(st store, e *entry, hash *string) error {
	if err := st.seal(e); errors.Is(err, fs.ErrNotExist) {
		return errorf(codeFailedPrecond, "nothing was uploaded for %q: upload to the signed URL before finalizing", e.Name)
	} else if err != nil {
		return err
	}
	if hash != nil && strings.HasPrefix(*hash, "sha256:") && !strings.EqualFold(*hash, e.Digest) {
		return errorf(codeInvalidArgument, "%q: the uploaded data has digest %s, not %s as the client computed", e.Name, e.Digest, *hash)
	}
	e.Finalized, e.Created = true, s.now()
	return st.save(e)
}

func (s *Server) listArtifacts(r *http.Request, id identity) (any, error) {
	var req listArtifactsRequest
	if err := decodeRequest(r, &req); err != nil {
		return nil, err
	}
	if err := checkRun(id, req.RunID, req.JobID, false); err != nil {
		return nil, err
	}
	all, err := s.artifacts(req.RunID).list()
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Created.Before(all[j].Created) })
	resp := listArtifactsResponse{Artifacts: []monolithArtifact{}}
	for _, e := range all {
		switch {
		case !e.Finalized,
			req.NameFilter != nil && *req.NameFilter != e.Name,
			req.IDFilter != nil && int64(*req.IDFilter) != e.ID:
			continue
		}
		resp.Artifacts = append(resp.Artifacts, monolithArtifact{
			RunID: e.Run, JobID: e.Job, DatabaseID: int64JSON(e.ID), Name: e.Name, Size: int64JSON(e.Size),
			CreatedAt: e.Created.UTC().Format(time.RFC3339Nano), Digest: e.Digest,
		})
	}
	return resp, nil
}

// finalizedArtifact decodes a request naming one finalized artifact of
// the token's run (GetSignedArtifactURL, DeleteArtifact) and finds it.
// Callers hold s.mu.
func (s *Server) finalizedArtifact(r *http.Request, id identity) (store, *entry, error) {
	var req artifactRequest
	if err := decodeRequest(r, &req); err != nil {
		return store{}, nil, err
	}
	if err := checkArtifact(id, req.RunID, req.JobID, req.Name, false); err != nil {
		return store{}, nil, err
	}
	st := s.artifacts(req.RunID)
	e, err := findArtifact(st, req.Name, true)
	if err == nil && e == nil {
		err = errorf(codeNotFound, "no artifact named %q in this workflow run", req.Name)
	}
	return st, e, err
}

func (s *Server) signedArtifactURL(r *http.Request, id identity) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e, err := s.finalizedArtifact(r, id)
	if err != nil {
		return nil, err
	}
	u := s.signedURL(baseURL(r), artifactBlobPath(e.Run, e.ID), permRead, s.urlTTL)
	return signedArtifactURLResponse{SignedURL: u}, nil
}

func (s *Server) deleteArtifact(r *http.Request, id identity) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e, err := s.finalizedArtifact(r, id)
	if err != nil {
		return nil, err
	}
	if err := st.remove(e.ID); err != nil {
		return nil, err
	}
	return deleteArtifactResponse{OK: true, ArtifactID: int64JSON(e.ID)}, nil
}
