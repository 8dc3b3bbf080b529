// Package server is `vermont serve`: Vermont as a CI service. It takes
// webhook deliveries (GitHub, Gitea/Forgejo), cron ticks, dispatches and
// post-receive notifications, turns them into runs queued in the store,
// and runs them on the engine `vermont run` uses (schedule, exec),
// recording jobs, steps and masked logs as they happen. The REST API
// (package api) reads what it records and controls runs through it.
//
// Data flow:
//
//	webhook / cron / dispatch / notify ─▶ verify, dedupe ─▶ fetch the commit (mirror)
//	  ─▶ read the workflows at it, match on: ─▶ store: runs queued
//	  ─▶ a worker claims a run ─▶ checkout ─▶ schedule.Plan ─▶ exec ─▶ events ─▶ store
//
// Nothing that was acknowledged lives only in memory: a delivery is
// answered once its runs are queued, a log line is served once it is
// stored, and a restart concludes the runs a killed process left in
// progress (store.Abandon) and starts the queued ones.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/wiring"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/status"
	"github.com/vermont-ci/vermont/server/store"
)

// Upstream kinds of a repository.
const (
	GitHub = store.UpstreamGitHub
	Gitea  = store.UpstreamGitea
	Git    = store.UpstreamGit
)

// Repo is a repository the service builds.
type Repo struct {
	Owner, Name   string
	Remote        mirror.Remote // where it is fetched from, with its credentials
	Upstream      string        // GitHub, Gitea or Git (default)
	DefaultBranch string        // "" asks the remote
	// WebhookSecret verifies deliveries for this repository; empty means
	// the service's default secret.
	WebhookSecret []byte
	// Statuses, when set, receives a commit status per run.
	Statuses status.Reporter
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Mirrors is what the server needs of its repository mirrors;
// *mirror.Mirrors implements it.
type Mirrors interface {
	Fetch(ctx context.Context, name string, r mirror.Remote, want ...string) error
	Resolve(ctx context.Context, name, rev string) (string, error)
	DefaultBranch(ctx context.Context, name string) (string, error)
	Workflows(ctx context.Context, name, sha string) ([]mirror.File, error)
	ReadFile(ctx context.Context, name, sha, path string) ([]byte, error)
	Changed(ctx context.Context, name, before, after string) ([]string, error)
	Checkout(ctx context.Context, name, sha, dest string) error
}

var _ Mirrors = (*mirror.Mirrors)(nil)

// Server is the service. Make one with New, serve Handler, and call Run.
type Server struct {
	store   *store.Store
	box     *secrets.Box
	mirrors Mirrors
	backend exec.Backend
	log     *slog.Logger
	now     func() time.Time
	host    string
	baseURL string
	workers int
	workDir string
	secret  []byte
	lease   time.Duration
	poll    time.Duration
	metrics *metrics
	tracer  Tracer
	events  exec.Sink
	results *wiring.LazyResults // artifacts and caches of runs, under the data directory

	artifactDir string // where artifacts go: WithArtifactDir, or the data directory's

	repos  map[string]*Repo // by lower-case full name
	groups *schedule.Groups
	wake   chan struct{}

	mu      sync.Mutex
	running map[int64]*activeRun
	files   map[string][]byte // workflow files read at queue time, by repo, commit and path
	wg      sync.WaitGroup
}

// activeRun is a run this process is executing.
type activeRun struct {
	cancel    context.CancelFunc
	force     chan struct{}
	forceOnce sync.Once
	cancelled bool
	lost      bool // another host concluded it: record nothing more
}

// Option configures New.
type Option func(*Server) error

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) error { s.log = l; return nil }
}

// WithClock makes the server read the time from now: cron ticks follow it.
func WithClock(now func() time.Time) Option {
	return func(s *Server) error { s.now = now; return nil }
}

// WithHost names this host in run leases (default: the hostname).
func WithHost(name string) Option {
	return func(s *Server) error { s.host = name; return nil }
}

// WithBaseURL is the service's external URL, linked from commit statuses
// and given to runs as github.server_url.
func WithBaseURL(u string) Option {
	return func(s *Server) error { s.baseURL = strings.TrimSuffix(u, "/"); return nil }
}

// WithWorkers bounds how many runs execute at once (default: the number
// of CPUs).
func WithWorkers(n int) Option {
	return func(s *Server) error { s.workers = n; return nil }
}

// WithWebhookSecret is the secret of repositories that have none of their
// own (VERMONT_WEBHOOK_SECRET).
func WithWebhookSecret(secret []byte) Option {
	return func(s *Server) error { s.secret = append([]byte(nil), secret...); return nil }
}

// WithBackend sets where jobs run (default: the host).
func WithBackend(b exec.Backend) Option {
	return func(s *Server) error { s.backend = b; return nil }
}

// WithTracer traces runs (package telemetry); the default traces nothing.
func WithTracer(t Tracer) Option {
	return func(s *Server) error { s.tracer = t; return nil }
}

// WithEvents also sends every run's events (exec.Event, already masked)
// to sink, as they are recorded: for an embedder's own display or tests.
func WithEvents(sink exec.Sink) Option {
	return func(s *Server) error { s.events = sink; return nil }
}

// WithPollInterval sets how often an idle worker looks for queued runs
// that another host queued (default 1s; runs queued here wake it at once).
func WithPollInterval(d time.Duration) Option {
	return func(s *Server) error { s.poll = d; return nil }
}

// New returns a server over the store st, with box holding the service
// key (secrets of runs are decrypted with it), mirrors under its own
// directory, and the repositories repos (recorded in the store).
func New(ctx context.Context, st *store.Store, box *secrets.Box, mirrors Mirrors, repos []Repo, opts ...Option) (*Server, error) {
	if st == nil || box == nil || mirrors == nil {
		return nil, errors.New("server: New needs a store, a secrets box and mirrors")
	}
	s := &Server{store: st, box: box, mirrors: mirrors, repos: map[string]*Repo{}, groups: schedule.NewGroups(),
		wake: make(chan struct{}, 1), running: map[int64]*activeRun{}, files: map[string][]byte{}}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.host == "" {
		s.host, _ = os.Hostname()
	}
	if s.workers <= 0 {
		s.workers = runtime.NumCPU()
	}
	if s.lease == 0 {
		s.lease = time.Minute
	}
	if s.poll == 0 {
		s.poll = time.Second
	}
	if s.tracer == nil {
		s.tracer = noTracer{}
	}
	s.workDir = filepath.Join(st.Dir(), "work")
	if s.artifactDir == "" {
		s.artifactDir = filepath.Join(st.Dir(), "artifacts")
	}
	s.results = wiring.NewLazyResults(s.artifactDir, filepath.Join(st.Dir(), "caches"))
	s.metrics = newMetrics(s.queueDepth)
	for i := range repos {
		r := repos[i]
		if r.Upstream == "" {
			r.Upstream = Git
		}
		if _, err := st.PutRepository(ctx, store.Repository{Owner: r.Owner, Name: r.Name, CloneURL: r.Remote.URL,
			DefaultBranch: r.DefaultBranch, Upstream: r.Upstream}); err != nil {
			return nil, err
		}
		s.repos[strings.ToLower(r.FullName())] = &r
	}
	return s, nil
}

// Handler serves the webhook endpoint, /health and /metrics. Mount the
// REST API (package api, whose Control is Server.Control) beside it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", http.HandlerFunc(s.serveWebhook))
	mux.HandleFunc("GET /health", s.serveHealth)
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DB().PingContext(r.Context()); err != nil {
		http.Error(w, "unhealthy: store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Recover settles what a previous process left, before the service
// answers anyone: the runs it had in progress are concluded as GitHub
// concludes a job whose runner was lost, their processes and directories
// removed, and each repository fetched and its default branch's
// workflows recorded. Call it once, before Run.
func (s *Server) Recover(ctx context.Context) error {
	if err := os.MkdirAll(s.workDir, 0o755); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return s.recover(ctx)
}

// Run runs queued runs (those a previous process left queued first) and
// cron ticks until ctx ends. It waits for the runs it started: cancelling
// ctx cancels them as GitHub cancels a run.
func (s *Server) Run(ctx context.Context) error {
	var loops sync.WaitGroup
	loops.Add(3)
	go func() { defer loops.Done(); s.cron(ctx) }()
	go func() { defer loops.Done(); s.hosts(ctx) }()
	go func() { defer loops.Done(); s.retention(ctx) }()
	s.work(ctx)
	loops.Wait()
	s.wg.Wait()
	s.results.Close()
	return nil
}

// recover concludes the runs this host (or a host whose lease lapsed)
// left in progress, and removes their work directories.
func (s *Server) recover(ctx context.Context) error {
	if err := s.store.Heartbeat(ctx, s.host, s.now()); err != nil {
		return err
	}
	ids, err := s.store.Abandon(ctx, s.host, "The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled.")
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.log.Warn("run was in progress when the service stopped; concluded as failed", "run_id", id)
		s.metrics.runs.WithLabelValues(string(store.Failure)).Inc()
		if run, err := s.store.Run(ctx, id); err == nil {
			s.report(ctx, run, store.Failure)
		}
	}
	// Whatever runs or lies under the work directory belongs to runs that
	// are over.
	if n := reapOrphans(s.workDir); n > 0 {
		s.log.Warn("killed processes a stopped service's runs left", "processes", n)
	}
	entries, _ := os.ReadDir(s.workDir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(s.workDir, e.Name()))
	}
	for _, repo := range s.repos {
		if err := s.syncRepo(ctx, repo); err != nil {
			s.log.Warn("repository unavailable at start; its webhooks will retry", "repo", repo.FullName(), "error", err)
		}
	}
	s.cronMissed(ctx)
	return nil
}

// repo returns the configured repository named full ("owner/name").
func (s *Server) repo(full string) (*Repo, bool) {
	r, ok := s.repos[strings.ToLower(full)]
	return r, ok
}

// signal wakes a worker: a run was queued.
func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// retention removes artifacts past their retention, and claims of cron
// ticks older than a day, hourly.
func (s *Server) retention(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		expired, err := s.store.ExpiredArtifacts(ctx)
		if err == nil {
			for _, a := range expired {
				s.removeArtifact(a.Path)
				_ = s.store.DeleteArtifact(ctx, a.ID)
			}
		}
		_ = s.store.PruneTicks(ctx, s.now().Add(-24*time.Hour))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxCachedFiles bounds the workflow files kept between queueing a run and
// starting it.
const maxCachedFiles = 256

// remember keeps a workflow file read at a commit, for the run about to
// start from it.
func (s *Server) remember(repo, sha, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) >= maxCachedFiles {
		clear(s.files)
	}
	s.files[repo+"\x00"+sha+"\x00"+path] = data
}

// workflowFile reads a workflow file at a commit, from what queueing kept
// or from the mirror. A commit's files never change.
func (s *Server) workflowFile(ctx context.Context, repo, sha, path string) ([]byte, error) {
	s.mu.Lock()
	data, ok := s.files[repo+"\x00"+sha+"\x00"+path]
	s.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := s.mirrors.ReadFile(ctx, repo, sha, path)
	if err == nil {
		s.remember(repo, sha, path, data)
	}
	return data, err
}

// queueDepth is how many runs wait in the store.
func (s *Server) queueDepth() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := s.store.CountRuns(ctx, store.RunFilter{Status: string(store.Queued)})
	if err != nil {
		return 0
	}
	return float64(n)
}
