package results

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Server is the Actions Results Service of a local run. It is an
// http.Handler; Start also listens and serves. It is safe for concurrent
// use.
type Server struct {
	artifactDir string
	cacheDir    string
	maxBlob     int64
	cacheLimit  int64
	urlTTL      time.Duration
	log         *slog.Logger
	now         func() time.Time
	key         []byte
	started     time.Time

	mu  sync.Mutex // serialises creating and finalizing entries
	srv *http.Server
	url string
}

// Option configures a Server.
type Option func(*Server) error

// WithArtifactDir sets where artifacts are stored, one directory per run
// (default: a "artifacts" directory under os.TempDir()/vermont-results).
func WithArtifactDir(dir string) Option {
	return func(s *Server) error { s.artifactDir = dir; return nil }
}

// WithCacheDir sets where cache entries are stored. Runs that share it
// share their caches (default: "caches" under os.TempDir()/vermont-results).
func WithCacheDir(dir string) Option {
	return func(s *Server) error { s.cacheDir = dir; return nil }
}

// WithMaxBlobSize bounds one artifact or cache entry (default 10 GiB, the
// size of a repository's whole cache on GitHub).
func WithMaxBlobSize(n int64) Option {
	return func(s *Server) error {
		if n <= 0 {
			return fmt.Errorf("results: WithMaxBlobSize(%d): want a positive size", n)
		}
		s.maxBlob = n
		return nil
	}
}

// WithCacheLimit sets the total size of the cache entries kept (default
// 10 GiB, GitHub's limit for a repository). Past it, the least recently
// used entries are evicted, as GitHub does.
func WithCacheLimit(n int64) Option {
	return func(s *Server) error {
		if n <= 0 {
			return fmt.Errorf("results: WithCacheLimit(%d): want a positive size", n)
		}
		s.cacheLimit = n
		return nil
	}
}

// WithURLTTL sets how long a signed blob URL stays valid (default one
// hour).
func WithURLTTL(d time.Duration) Option {
	return func(s *Server) error {
		if d <= 0 {
			return fmt.Errorf("results: WithURLTTL(%v): want a positive duration", d)
		}
		s.urlTTL = d
		return nil
	}
}

// WithLogger sets where internal failures are logged (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(s *Server) error { s.log = l; return nil } }

// New returns a Server with a fresh random signing key: tokens and URLs of
// one Server mean nothing to another.
func New(opts ...Option) (*Server, error) {
	s := &Server{}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	base := filepath.Join(os.TempDir(), "vermont-results")
	if s.artifactDir == "" {
		s.artifactDir = filepath.Join(base, "artifacts")
	}
	if s.cacheDir == "" {
		s.cacheDir = filepath.Join(base, "caches")
	}
	if s.maxBlob == 0 {
		s.maxBlob = 10 << 30
	}
	if s.cacheLimit == 0 {
		s.cacheLimit = 10 << 30
	}
	if s.urlTTL == 0 {
		s.urlTTL = time.Hour
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.key = make([]byte, 32)
	if _, err := rand.Read(s.key); err != nil {
		return nil, fmt.Errorf("results: signing key: %w", err)
	}
	s.started = s.now()
	// The directories are made by the first upload: a run that saves
	// nothing leaves no trace in the user's cache directory.
	return s, nil
}

// Start listens on addr (such as "127.0.0.1:0") and serves until Close.
// It returns the base URL for ACTIONS_RESULTS_URL ("http://host:port/").
func (s *Server) Start(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("results: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.mu.Lock()
	if s.srv != nil {
		s.mu.Unlock()
		l.Close()
		return "", errors.New("results: already started")
	}
	s.srv, s.url = srv, "http://"+l.Addr().String()+"/"
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("results service stopped", "err", err)
		}
	}()
	return s.url, nil
}

// URL is the base URL Start returned ("" before Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops serving (when Start was called), ending open connections.
// Stored artifacts and caches stay on disk.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}

const (
	twirpPrefix     = "/twirp/github.actions.results.api.v1."
	artifactService = "ArtifactService/"
	cacheService    = "CacheService/"
	blobPrefix      = "/blob/"
)

// ServeHTTP serves the Twirp services and the signed blob URLs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// No request may take the server down; a bug answers 500.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("results: panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeTwirpError(w, errors.New("panic"))
		}
	}()
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, twirpPrefix):
		s.serveTwirp(w, r, strings.TrimPrefix(path, twirpPrefix))
	case strings.HasPrefix(path, blobPrefix):
		s.serveBlob(w, r)
	default:
		writeTwirpError(w, errorf(codeBadRoute, "no such endpoint: %s", path))
	}
}

// serveTwirp authenticates a Twirp call and dispatches it.
func (s *Server) serveTwirp(w http.ResponseWriter, r *http.Request, method string) {
	id, err := s.verifyToken(r.Header.Get("Authorization"))
	if err != nil {
		writeTwirpError(w, err)
		return
	}
	var h func(*http.Request, identity) (any, error)
	switch method {
	case artifactService + "CreateArtifact":
		h = s.createArtifact
	case artifactService + "FinalizeArtifact":
		h = s.finalizeArtifact
	case artifactService + "ListArtifacts":
		h = s.listArtifacts
	case artifactService + "GetSignedArtifactURL":
		h = s.signedArtifactURL
	case artifactService + "DeleteArtifact":
		h = s.deleteArtifact
	case cacheService + "CreateCacheEntry":
		h = s.createCacheEntry
	case cacheService + "FinalizeCacheEntryUpload":
		h = s.finalizeCacheEntry
	case cacheService + "GetCacheEntryDownloadURL":
		h = s.cacheEntryDownloadURL
	default:
		writeTwirpError(w, errorf(codeBadRoute, "no such method: %s", method))
		return
	}
	resp, err := h(r, id)
	if err != nil {
		var te *twirpError
		if !errors.As(err, &te) {
			s.log.Error("results: "+method, "err", err)
		}
		writeTwirpError(w, err)
		return
	}
	writeJSON(w, resp)
}

// baseURL is the scheme and host the client reached this server at: the
// signed URLs it gets back use the same.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// safeRunID reports whether run is 1–64 of [A-Za-z0-9_.-]. A loop, not a
// regexp: a package-level regexp is compiled in init, which every
// `vermont run` would pay for (about 0.2 ms and 800 allocations).
func safeRunID(run string) bool {
	if len(run) == 0 || len(run) > 64 {
		return false
	}
	for i := 0; i < len(run); i++ {
		c := run[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// runDir is the directory name of a run's artifacts: the run id itself
// when it is a plain name, else a hash of it.
func runDir(run string) string {
	if safeRunID(run) && run != "." && run != ".." {
		return run
	}
	sum := sha256.Sum256([]byte(run))
	return "h" + hex.EncodeToString(sum[:16])
}

func (s *Server) artifacts(run string) store {
	return store{dir: filepath.Join(s.artifactDir, runDir(run))}
}

func (s *Server) caches() store { return store{dir: s.cacheDir} }
