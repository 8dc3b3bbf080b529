//go:build !thin

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vermont-ci/vermont/vm"
	vmcontainerd "github.com/vermont-ci/vermont/vm/containerd"
	"github.com/vermont-ci/vermont/vm/github"
	"github.com/vermont-ci/vermont/vm/hyperv"
	vmkube "github.com/vermont-ci/vermont/vm/kubernetes"
	"github.com/vermont-ci/vermont/vm/vmtest"
	"github.com/vermont-ci/vermont/webhook"
)

// runPool is `vermont pool`: keep warm ephemeral runners and serve GitHub's
// webhooks, health, metrics and the runner-config endpoints.
func runPool(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("pool", flag.ContinueOnError)
	fs.SetOutput(io.err)
	configPath := fs.String("config", "", "YAML `file` describing the pools (default: one pool of 4 warm [self-hosted] instances)")
	stateDir := fs.String("state", "", "`dir` for the pool's state database (default: $VM_STORAGE_PATH/state, else ./vermont-state)")
	dotEnv := fs.String("env-file", ".env", "`file` of KEY=VALUE lines read under the environment")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont pool [--config FILE.yaml] [--state DIR]\n\n"+
			"Keeps warm single-use runners and serves POST /webhook, GET /health, GET /metrics,\n"+
			"GET /api/runner-config/{name} and POST /api/runner-complete/{name} on $PORT.\n"+
			"Environment: GITHUB_PAT, GITHUB_ORG, GITHUB_REPO, WEBHOOK_SECRET, PORT, USE_MOCK,\n"+
			"ORCHESTRATOR_IP, VM_TEMPLATE_PATH, VM_STORAGE_PATH, GITHUB_API_URL.\n\nflags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	env, err := loadPoolEnv(os.Environ(), *dotEnv)
	if err != nil {
		fmt.Fprintf(io.err, "vermont pool: %v\n", err)
		return 2
	}
	var pf poolFile
	if *configPath != "" {
		data, err := os.ReadFile(*configPath)
		if err == nil {
			pf, err = parsePoolFile(*configPath, data)
		}
		if err != nil {
			fmt.Fprintf(io.err, "vermont pool: %v\n", err)
			return 2
		}
	}
	if *stateDir == "" {
		*stateDir = "vermont-state"
		if env.storagePath != "" {
			*stateDir = filepath.Join(env.storagePath, "state")
		}
	}
	log := slog.New(slog.NewJSONHandler(io.err, nil))
	srv, err := newPoolServer(ctx, env, pf, *stateDir, log, nil)
	if err != nil {
		fmt.Fprintf(io.err, "vermont pool: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", ":"+env.port)
	if err != nil {
		srv.close(ctx)
		fmt.Fprintf(io.err, "vermont pool: %v\n", err)
		return 1
	}
	log.InfoContext(ctx, "vermont pool listening", "addr", ln.Addr().String(), "controller", srv.pool.Controller())
	if err := srv.serve(ctx, ln); err != nil {
		fmt.Fprintf(io.err, "vermont pool: %v\n", err)
		return 1
	}
	return 0
}

// poolServer is the pool and its HTTP surface.
type poolServer struct {
	pool    *vm.Pool
	mock    *vmtest.Provider // the in-memory provider, when a pool uses it
	handler http.Handler
	log     *slog.Logger
	closers []func() error // providers to release after the pool
	bound   time.Duration  // a pool below min-idle longer than this is unhealthy
}

// newPoolServer wires providers, the GitHub client, the pool and the HTTP
// routes, and starts the pool (reconciling with what a previous run left).
// mock, if not nil, is the in-memory provider to use for mock pools (tests
// pass one that outlives a server, as a host outlives a process).
func newPoolServer(ctx context.Context, env poolEnv, pf poolFile, stateDir string, log *slog.Logger, mock *vmtest.Provider) (*poolServer, error) {
	controller, err := vm.ControllerID(ctx, stateDir)
	if err != nil {
		return nil, err
	}
	s := &poolServer{log: log, mock: mock, bound: cmp.Or(env.healthBound, defaultHealthBound)}
	configs, byPool, err := s.providers(ctx, env, pf, controller)
	if err != nil {
		s.closeProviders()
		return nil, err
	}
	provider, err := vm.ByPool(byPool)
	if err != nil {
		s.closeProviders()
		return nil, err
	}
	runners, err := newRunners(env, log)
	if err != nil {
		s.closeProviders()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	opts := []vm.Option{
		vm.WithPools(configs...), vm.WithStateDir(stateDir), vm.WithRegistry(reg),
		vm.WithLogger(log), vm.WithPrefix("vermont-" + controller),
	}
	if pf.hostMax > 0 {
		opts = append(opts, vm.WithHostMax(pf.hostMax))
	}
	if s.pool, err = vm.New(provider, runners, opts...); err != nil {
		s.closeProviders()
		return nil, err
	}
	hook, err := webhook.NewHandler([]byte(env.secret), webhook.PoolHandler(s.pool), webhook.WithLogger(log))
	if err != nil {
		s.closeProviders()
		return nil, err
	}
	if err := s.pool.Start(ctx); err != nil {
		s.closeProviders()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	mux.HandleFunc("GET /health", s.health)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /api/runner-config/{name}", s.runnerConfig)
	mux.HandleFunc("POST /api/runner-complete/{name}", s.runnerComplete)
	s.handler = mux
	return s, nil
}

// providers builds one provider per kind the pools use, and the pools.
func (s *poolServer) providers(ctx context.Context, env poolEnv, pf poolFile, controller string) ([]vm.PoolConfig, map[string]vm.VMProvider, error) {
	specs := pf.pools
	if len(specs) == 0 {
		specs = []poolSpec{{name: "default", minIdle: vm.DefaultMinIdle}}
	}
	kinds := map[string]vm.VMProvider{}
	byPool := map[string]vm.VMProvider{}
	var configs []vm.PoolConfig
	for _, ps := range specs {
		kind := ps.provider
		if kind == "" || env.useMock {
			kind = env.defaultProvider()
		}
		p, ok := kinds[kind]
		if !ok {
			var err error
			if p, err = s.newProvider(ctx, kind, env, pf, controller); err != nil {
				return nil, nil, fmt.Errorf("pool %q: %w", ps.name, err)
			}
			kinds[kind] = p
		}
		byPool[ps.name] = p
		cfg := vm.PoolConfig{
			Name: ps.name, Labels: ps.labels, MinIdle: ps.minIdle, Max: ps.max,
			Image: ps.image, CPUs: ps.cpus, MemoryMB: ps.memoryMB,
		}
		if cfg.Image == "" && kind != "kubernetes" {
			cfg.Image = env.templatePath
		}
		if env.orchestratorIP != "" {
			// Where an instance fetches its config and reports completion.
			cfg.Env = map[string]string{"VERMONT_ORCHESTRATOR_URL": "http://" + net.JoinHostPort(env.orchestratorIP, env.port)}
		}
		configs = append(configs, cfg)
	}
	return configs, byPool, nil
}

func (s *poolServer) newProvider(ctx context.Context, kind string, env poolEnv, pf poolFile, controller string) (vm.VMProvider, error) {
	switch kind {
	case "mock":
		if s.mock == nil {
			s.mock = vmtest.New(vmtest.WithController(controller))
		}
		return s.mock, nil
	case "containerd":
		opts := []vmcontainerd.Option{
			vmcontainerd.WithControllerID(controller), vmcontainerd.WithLogger(s.log),
			// A runner must reach GitHub; see vm/containerd's Network.
			vmcontainerd.WithNetwork(vmcontainerd.NetworkHost),
		}
		if env.storagePath != "" {
			opts = append(opts, vmcontainerd.WithStateDir(filepath.Join(env.storagePath, "containerd")))
		}
		p, err := vmcontainerd.New(ctx, opts...)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, p.Close)
		return p, nil
	case "hyperv":
		if env.storagePath == "" {
			return nil, errors.New("provider hyperv needs VM_STORAGE_PATH")
		}
		return hyperv.New(env.storagePath, hyperv.WithController(controller), hyperv.WithLogger(s.log))
	case "kubernetes":
		p, err := vmkube.New(append(kubeOptions(pf, controller), vmkube.WithLogger(s.log))...)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, p.Close)
		return p, nil
	}
	return nil, fmt.Errorf("unknown provider %q", kind)
}

// newRunners builds the GitHub client from the environment.
func newRunners(env poolEnv, log *slog.Logger) (*github.Client, error) {
	opts := []github.Option{github.WithBaseURL(env.apiURL), github.WithToken(env.pat), github.WithLogger(log)}
	if env.repo != "" {
		opts = append(opts, github.WithRepo(env.repoOwner, env.repo))
	} else {
		opts = append(opts, github.WithOrg(env.org))
	}
	return github.New(opts...)
}

// serve serves on ln until ctx ends, then shuts down: HTTP first (so no new
// demand arrives), then the pool, on a fresh bounded context.
func (s *poolServer) serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
		s.log.Info("vermont pool shutting down")
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if cerr := s.close(sctx); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// close stops the pool (destroying idle instances) and releases providers.
func (s *poolServer) close(ctx context.Context) error {
	err := s.pool.Close(ctx)
	s.closeProviders()
	return err
}

func (s *poolServer) closeProviders() {
	for _, c := range s.closers {
		_ = c()
	}
	s.closers = nil
}

// healthBody is GET /health's JSON. Status is "ok", or "unhealthy" (with
// 503) when a pool has been below its min-idle idle instances for longer
// than BoundSeconds: GitHub or the provider failing, as the pools' last
// errors say.
type healthBody struct {
	Status       string         `json:"status"`
	BoundSeconds int            `json:"bound_seconds"`
	VMs          int            `json:"vms"`
	Ready        int            `json:"ready"`
	Running      int            `json:"running"`
	Pending      int            `json:"pending"`
	States       map[string]int `json:"states"`
	Pools        []healthPool   `json:"pools"`
}

type healthPool struct {
	Name    string         `json:"name"`
	Labels  []string       `json:"labels"`
	MinIdle int            `json:"min_idle"`
	Max     int            `json:"max"`
	Pending int            `json:"pending"`
	States  map[string]int `json:"states"`
	Ready   int            `json:"ready"`
	Busy    int            `json:"busy"`
	Wanted  int            `json:"wanted"`
	// ShortSince is when the pool fell below min-idle, while it is.
	ShortSince    *time.Time   `json:"short_since,omitempty"`
	Healthy       bool         `json:"healthy"`
	ProviderError *healthError `json:"last_provider_error,omitempty"`
	GitHubError   *healthError `json:"last_github_error,omitempty"`
}

type healthError struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

func newHealthError(e vm.LastError) *healthError {
	if e.At.IsZero() {
		return nil
	}
	return &healthError{Message: e.Message, At: e.At}
}

func (s *poolServer) health(w http.ResponseWriter, _ *http.Request) {
	snap := s.pool.Snapshot()
	body := healthBody{
		Status: "ok", BoundSeconds: int(s.bound / time.Second), VMs: snap.Total(), Ready: snap.States[vm.StateIdle],
		Running: snap.States[vm.StateBusy], Pending: snap.Pending, States: stateCounts(snap.States),
	}
	now := time.Now()
	for _, p := range snap.Pools {
		hp := healthPool{Name: p.Name, Labels: p.Labels, MinIdle: p.MinIdle, Max: p.Max,
			Pending: p.Pending, States: stateCounts(p.States), Ready: p.States[vm.StateIdle], Busy: p.States[vm.StateBusy],
			Wanted: p.Wanted, Healthy: true, ProviderError: newHealthError(p.ProviderError), GitHubError: newHealthError(p.GitHubError)}
		if !p.ShortSince.IsZero() {
			hp.ShortSince = &p.ShortSince
			if now.Sub(p.ShortSince) > s.bound {
				hp.Healthy, body.Status = false, "unhealthy"
			}
		}
		body.Pools = append(body.Pools, hp)
	}
	w.Header().Set("Content-Type", "application/json")
	if body.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

func stateCounts(m map[vm.State]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

// authorized checks the instance token (vm.EnvInstanceToken) before
// anything about the instance is looked up or told.
func (s *poolServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.pool.CheckInstanceToken(r.PathValue("name"), token) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "missing or wrong instance token (Authorization: Bearer $"+vm.EnvInstanceToken+")", http.StatusUnauthorized)
		return false
	}
	return true
}

func (s *poolServer) runnerConfig(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	name := r.PathValue("name")
	cfg, err := s.pool.RunnerConfig(r.Context(), name)
	switch {
	case errors.Is(err, vm.ErrNotFound):
		http.Error(w, "no runner config for this instance", http.StatusNotFound)
	case err != nil:
		http.Error(w, "pool unavailable", http.StatusServiceUnavailable)
	default:
		s.log.InfoContext(r.Context(), "runner config fetched", "instance", name, "remote", r.RemoteAddr)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(cfg))
	}
}

func (s *poolServer) runnerComplete(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	err := s.pool.RunnerDone(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, vm.ErrNotFound):
		http.Error(w, "unknown instance", http.StatusNotFound)
	case err != nil:
		http.Error(w, "pool unavailable", http.StatusServiceUnavailable)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
