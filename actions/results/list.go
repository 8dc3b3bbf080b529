package results

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"
)

// Artifact is a finalized artifact of a run, as a service that keeps runs
// (vermont serve) records it.
type Artifact struct {
	ID      int64
	Job     string // the job that uploaded it
	Name    string
	Size    int64
	Digest  string // "sha256:<hex>"
	Path    string // its content: one file, as the toolkit uploaded it (a zip for upload-artifact)
	Created time.Time
}

// RunArtifacts lists the finalized artifacts of run, by name. Unfinished
// uploads are left out, as GitHub leaves them out of a run's artifacts.
func (s *Server) RunArtifacts(run string) ([]Artifact, error) {
	st := s.artifacts(run)
	entries, err := st.list()
	if err != nil {
		return nil, fmt.Errorf("results: artifacts of run %s: %w", run, err)
	}
	var out []Artifact
	for _, e := range entries {
		if !e.Finalized {
			continue
		}
		out = append(out, Artifact{ID: e.ID, Job: e.Job, Name: e.Name, Size: e.Size, Digest: e.Digest,
			Path: filepath.Join(st.entryDir(e.ID), dataFile), Created: e.Created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
