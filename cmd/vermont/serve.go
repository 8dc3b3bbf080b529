//go:build !thin

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	osexec "os/exec"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server"
	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/telemetry"
	"github.com/vermont-ci/vermont/server/token"
	"github.com/vermont-ci/vermont/server/web"
)

func runServe(ctx context.Context, args []string, io stdio) int {
	if len(args) > 0 && args[0] == "notify" {
		return runNotify(ctx, args[1:], io)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.err)
	data := fs.String("data", "vermont-data", "`dir` of the run store, mirrors, artifacts and the service key")
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to serve the API, webhooks, /health and /metrics on")
	cert := fs.String("tls-cert", "", "TLS certificate `file` (with --tls-key): serve HTTPS")
	key := fs.String("tls-key", "", "TLS private key `file`")
	config := fs.String("config", "", "YAML `file` of repositories (see package server's Config)")
	baseURL := fs.String("base-url", "", "the service's external `URL` (default: from --listen)")
	workers := fs.Int("workers", 0, "runs executed at once (default: the number of CPUs)")
	database := fs.String("database", "", "PostgreSQL `URL` (postgres://…) of the store, shared by several hosts (default: SQLite under --data)")
	host := fs.String("host", "", "this host's `name` in run leases; unique per process on one --database (default: the hostname)")
	lease := fs.Duration("lease", time.Minute, "how long a run's lease and this host's heartbeat last unrenewed before other hosts conclude its runs as lost")
	artifacts := fs.String("artifacts", "", "`dir` for run artifacts, shared by the hosts of one --database (default: under --data)")
	var repos multiFlag
	fs.Var(&repos, "repo", "`OWNER/NAME=GIT_URL` to build (repeatable); GIT_URL is anything git fetches")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont serve --data DIR [--database postgres://… --host NAME --artifacts DIR] --listen ADDR [--tls-cert FILE --tls-key FILE] [--repo OWNER/NAME=GIT_URL ...] [--config FILE]\n"+
			"       vermont serve notify --url URL --repo OWNER/NAME   (from a bare repository's post-receive hook)\n\n"+
			"Runs workflows on pushes, pull requests, schedules and dispatches, keeps them, and serves\n"+
			"GitHub's REST API under /api/v3, a web interface at /, POST /webhook, GET /health and GET /metrics.\n"+
			"Environment: VERMONT_WEBHOOK_SECRET (the default webhook secret), VERMONT_SECRET_KEY, VERMONT_DATABASE (--database),\n"+
			"OTEL_EXPORTER_OTLP_ENDPOINT (traces).\n\nflags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.err, "vermont serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if (*cert == "") != (*key == "") {
		fmt.Fprintln(io.err, "vermont serve: --tls-cert and --tls-key go together")
		return 2
	}
	var cfg server.Config
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err == nil {
			cfg, err = server.ParseConfig(*config, b, os.Getenv)
		}
		if err != nil {
			fmt.Fprintf(io.err, "vermont serve: %v\n", err)
			return 2
		}
	}
	for _, v := range repos {
		r, err := server.ParseRepoFlag(v)
		if err != nil {
			fmt.Fprintf(io.err, "vermont serve: %v\n", err)
			return 2
		}
		cfg.Repos = append(cfg.Repos, r)
	}
	if *baseURL != "" {
		cfg.BaseURL = *baseURL
	}
	if *database == "" {
		*database = os.Getenv("VERMONT_DATABASE") // keeps a password off the command line
	}
	log := slog.New(slog.NewJSONHandler(io.err, nil))
	if err := serve(ctx, serveOptions{data: *data, listen: *listen, cert: *cert, key: *key, cfg: cfg, workers: *workers,
		database: *database, host: *host, lease: *lease, artifacts: *artifacts}, log); err != nil {
		fmt.Fprintf(io.err, "vermont serve: %v\n", err)
		return 1
	}
	return 0
}

type serveOptions struct {
	data, listen, cert, key string
	cfg                     server.Config
	workers                 int
	database, host          string // PostgreSQL URL; lease name
	lease                   time.Duration
	artifacts               string
}

// openStore opens the SQLite store under data, or the PostgreSQL one
// database names.
func openStore(ctx context.Context, data, database string) (*store.Store, error) {
	if database == "" {
		return store.Open(ctx, data)
	}
	return store.Open(ctx, data, store.WithDatabase(database))
}

func serve(ctx context.Context, o serveOptions, log *slog.Logger) error {
	if o.database != "" && os.Getenv(secrets.KeyEnv) == "" {
		// A key file per data directory would differ per host: secrets
		// stored through one host could not be read on another.
		return errors.New("with --database every host needs the same service key: set VERMONT_SECRET_KEY (32 bytes, base64) on each")
	}
	st, err := openStore(ctx, o.data, o.database)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := secrets.LoadKey(o.data, os.Getenv("VERMONT_SECRET_KEY"))
	if err != nil {
		return err
	}
	box, err := secrets.New(key)
	if err != nil {
		return err
	}
	mirrors, err := mirror.New(st.Dir()+"/mirrors", mirror.WithLogger(log))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	if o.cfg.BaseURL == "" {
		scheme := "http"
		if o.cert != "" {
			scheme = "https"
		}
		o.cfg.BaseURL = scheme + "://" + ln.Addr().String()
	}
	tp, shutdown, err := telemetry.Setup(ctx, "vermont", os.Getenv)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = shutdown(sctx)
	}()
	opts := []server.Option{server.WithTracer(server.TracerOf(tp)), server.WithLogger(log), server.WithBaseURL(o.cfg.BaseURL), server.WithWorkers(o.workers),
		server.WithWebhookSecret([]byte(os.Getenv("VERMONT_WEBHOOK_SECRET"))), server.WithLease(o.lease)}
	if o.host != "" {
		opts = append(opts, server.WithHost(o.host))
	}
	if o.artifacts != "" {
		opts = append(opts, server.WithArtifactDir(o.artifacts))
	}
	if now, ok, err := fakeClock(os.Getenv("VERMONT_FAKE_NOW")); err != nil {
		return err
	} else if ok {
		opts = append(opts, server.WithClock(now))
	}
	srv, err := server.New(ctx, st, box, mirrors, o.cfg.Repos, opts...)
	if err != nil {
		return err
	}
	if err := srv.Recover(ctx); err != nil {
		return err
	}
	restAPI, err := api.New(st, srv.Control(), box, api.WithLogger(log), api.WithBaseURL(o.cfg.BaseURL))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", restAPI)
	mux.Handle(api.Prefix, restAPI)
	mux.Handle(api.DownloadPrefix, restAPI)
	ui, err := web.New(st, srv.Control(), srv, box, web.WithLogger(log), web.WithNext(srv.Handler()))
	if err != nil {
		return err
	}
	mux.Handle("/", ui) // the web interface; the webhook, /health and /metrics behind it
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if o.cert != "" {
			errc <- hs.ServeTLS(ln, o.cert, o.key)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("vermont serve listening", "addr", ln.Addr().String(), "base_url", o.cfg.BaseURL, "repos", len(o.cfg.Repos))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	select {
	case err = <-errc:
		stop()
		<-done
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return <-done
}

// fakeClock reads VERMONT_FAKE_NOW (RFC 3339): the service's clock starts
// there and runs at the real pace. Tests use it to reach a cron minute
// without waiting for it.
func fakeClock(v string) (func() time.Time, bool, error) {
	if v == "" {
		return nil, false, nil
	}
	start, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, false, fmt.Errorf("VERMONT_FAKE_NOW: want an RFC 3339 time: %w", err)
	}
	began := time.Now()
	return func() time.Time { return start.Add(time.Since(began)) }, true, nil
}

// runNotify is a bare repository's post-receive hook: it reads
// "<old> <new> <ref>" lines and delivers each as a signed push webhook, so
// a plain git server starts the same runs GitHub's pushes start.
func runNotify(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("serve notify", flag.ContinueOnError)
	fs.SetOutput(io.err)
	url := fs.String("url", "http://127.0.0.1:8080", "the service's `URL`")
	repo := fs.String("repo", "", "`OWNER/NAME` the service knows the repository as")
	actor := fs.String("actor", os.Getenv("USER"), "who pushed")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	secret := os.Getenv("VERMONT_WEBHOOK_SECRET")
	if *repo == "" || secret == "" {
		fmt.Fprintln(io.err, "vermont serve notify: --repo and VERMONT_WEBHOOK_SECRET are needed")
		return 2
	}
	owner, name, _ := strings.Cut(*repo, "/")
	sc := bufio.NewScanner(io.in)
	code := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		p := pushPayload(f[0], f[1], f[2], owner, name, *actor)
		if err := deliver(ctx, *url, "push", p, []byte(secret)); err != nil {
			fmt.Fprintf(io.err, "vermont serve notify: %s: %v\n", f[2], err)
			code = 1
		}
	}
	return code
}

// pushPayload is a push event's payload
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push)
// for a ref update, read in the repository the hook runs in.
func pushPayload(before, after, ref, owner, name, actor string) map[string]any {
	p := map[string]any{"ref": ref, "before": before, "after": after,
		"created": strings.Trim(before, "0") == "", "deleted": strings.Trim(after, "0") == "",
		"repository": map[string]any{"name": name, "full_name": owner + "/" + name, "owner": map[string]any{"login": owner, "name": owner}},
		"pusher":     map[string]any{"name": actor}, "sender": map[string]any{"login": actor}, "commits": []any{}}
	if p["deleted"] == false {
		commit := map[string]any{"id": after}
		if out, err := osexec.Command("git", "show", "-s", "--format=%B", after).Output(); err == nil {
			commit["message"] = strings.TrimRight(string(out), "\n")
		}
		p["head_commit"] = commit
	}
	return p
}

// deliver posts one webhook delivery signed as GitHub signs them.
func deliver(ctx context.Context, url, event string, payload any, secret []byte) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/webhook", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", hex.EncodeToString(id))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// runToken is `vermont token create`: it prints a new API token once and
// stores only its hash.
func runToken(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(io.err, "usage: vermont token create --data DIR [--database URL] NAME [--scope read|write|admin]")
		return 2
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(io.err)
	data := fs.String("data", "vermont-data", "the service's data `dir`")
	database := fs.String("database", "", "the service's PostgreSQL `URL`, when it has one (vermont serve --database)")
	scope := fs.String("scope", "read", "what the token may do: read, write or admin")
	if code, ok := parseFlags(fs, reorder(args[1:], fs)); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(io.err, "vermont token create: want one NAME")
		return 2
	}
	if *database == "" {
		*database = os.Getenv("VERMONT_DATABASE")
	}
	sc, err := token.ParseScope(*scope)
	if err != nil {
		fmt.Fprintf(io.err, "vermont token create: %v\n", err)
		return 2
	}
	st, err := openStore(ctx, *data, *database)
	if err != nil {
		fmt.Fprintf(io.err, "vermont token create: %v\n", err)
		return 1
	}
	defer st.Close()
	plain, hash, err := token.New()
	if err == nil {
		_, err = st.CreateToken(ctx, store.Token{Name: fs.Arg(0), Hash: hash, Scope: sc.String()})
	}
	if errors.Is(err, store.ErrConflict) {
		err = fmt.Errorf("a token named %q exists", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(io.err, "vermont token create: %v\n", err)
		return 1
	}
	fmt.Fprintln(io.out, plain)
	return 0
}
