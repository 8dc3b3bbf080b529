package wiring

import (
	"errors"
	"os"
	"sync"

	"github.com/vermont-ci/vermont/actions/results"
)

// LazyResults is an exec.ResultsService started on first use, so a run
// without actions pays nothing for it. It serves on 127.0.0.1.
type LazyResults struct {
	artifactDir string // "" for a temporary directory removed by Close
	cacheDir    string

	once sync.Once
	srv  *results.Server
	tmp  string
	url  string
	err  error
}

// NewLazyResults returns a results service keeping artifacts in
// artifactDir ("" for a temporary directory that Close removes) and
// caches in cacheDir.
func NewLazyResults(artifactDir, cacheDir string) *LazyResults {
	return &LazyResults{artifactDir: artifactDir, cacheDir: cacheDir}
}

func (l *LazyResults) start() {
	l.once.Do(func() {
		dir := l.artifactDir
		if dir == "" {
			l.tmp, l.err = os.MkdirTemp("", "vermont-artifacts-")
			if l.err != nil {
				return
			}
			dir = l.tmp
		}
		l.srv, l.err = results.New(results.WithArtifactDir(dir), results.WithCacheDir(l.cacheDir))
		if l.err == nil {
			l.url, l.err = l.srv.Start("127.0.0.1:0")
		}
	})
}

// URL implements exec.ResultsService: it starts the service once.
func (l *LazyResults) URL() (string, error) {
	l.start()
	if l.err == nil && l.url == "" {
		return "", errors.New("the results service has stopped")
	}
	return l.url, l.err
}

// Token implements exec.ResultsService.
func (l *LazyResults) Token(runID, jobID string) string {
	if _, err := l.URL(); err != nil {
		return ""
	}
	return l.srv.Token(runID, jobID)
}

// RunArtifacts lists run's finalized artifacts in the kept artifact
// directory, without starting the service.
func (l *LazyResults) RunArtifacts(run string) ([]results.Artifact, error) {
	if l.artifactDir == "" {
		return nil, errors.New("results: a temporary artifact directory keeps no artifacts")
	}
	srv, err := results.New(results.WithArtifactDir(l.artifactDir), results.WithCacheDir(l.cacheDir))
	if err != nil {
		return nil, err
	}
	return srv.RunArtifacts(run)
}

// Close stops the service, if it started, and removes a temporary
// artifact directory.
func (l *LazyResults) Close() {
	l.once.Do(func() {}) // a late first use must not start it now
	if l.srv != nil {
		l.srv.Close()
	}
	if l.tmp != "" {
		os.RemoveAll(l.tmp)
	}
}
