// Package pgtest is test support for code that talks to PostgreSQL: it
// starts a private server from Debian's binaries (/usr/lib/postgresql/N/
// bin: initdb, postgres) in a temporary directory, listening only on a
// unix socket there, with trust authentication for the superuser
// "vermont", and hands each test a fresh database on it. A system
// PostgreSQL is never touched.
//
// PostgreSQL refuses to run as root; as root the server runs as the
// unprivileged user nobody, which owns the temporary directory.
//
// Use a Shared server per test package:
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }
//
//	func TestX(t *testing.T) {
//		url := pg.URL(t) // a new, empty database; skips (or fails under CI=true) without PostgreSQL
//		...
//	}
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// ErrMissing reports that the host has no PostgreSQL server binaries.
var ErrMissing = errors.New("PostgreSQL is not installed (Debian: apt-get install postgresql)")

// BinDir returns the newest /usr/lib/postgresql/N/bin holding initdb and
// postgres, or ErrMissing.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrMissing
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// Server is a running private PostgreSQL server.
type Server struct {
	dir    string // owns data/ and the socket
	socket string // the directory of the unix socket
	port   int
	cmd    *exec.Cmd
	done   chan error
	dbs    atomic.Int64

	stopOnce sync.Once
}

// Start initialises a cluster in a new temporary directory and starts
// its server. Stop it with Stop.
func Start(ctx context.Context) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	// Under /tmp rather than $TMPDIR: the server's account must reach
	// it (a root-only $TMPDIR would stop nobody), and a unix socket's
	// path must stay under 108 bytes.
	base := ""
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "vermont-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, socket: dir, port: freePort()}
	if err := s.start(ctx, bin); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bin string) error {
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return err
	}
	if err := chownToRunner(s.dir); err != nil {
		return err
	}
	data := filepath.Join(s.dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "vermont", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	asRunner(initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	logf, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	// Only the unix socket, in the private directory; durable settings
	// are PostgreSQL's defaults, so figures measured on it are honest.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", s.socket, "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=", "-c", "max_connections=150", "-c", "shared_buffers=32MB",
		// No parallel query: its dynamic shared memory lives in /dev/shm,
		// which containers keep small.
		"-c", "max_parallel_workers_per_gather=0")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	asRunner(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open("pgx", s.url("postgres"))
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
		}
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("pgtest: postgres exited: %v: %s", werr, strings.TrimSpace(string(log)))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres did not answer within a minute: %w", err)
		}
	}
}

// freePort picks a port number for the socket's name (.s.PGSQL.<port>).
// Nothing listens on TCP; the number only keeps clusters apart.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 50000 + os.Getpid()%10000
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) url(db string) string {
	return fmt.Sprintf("postgres://vermont@/%s?host=%s&port=%d&sslmode=disable", db, s.socket, s.port)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.dbs.Add(1))
	db, err := sql.Open("pgx", s.url("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.url(name), nil
}

// Stop stops the server (fast shutdown) and removes its directory. Calls
// after the first do nothing.
func (s *Server) Stop() { s.stopOnce.Do(s.stop) }

func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.done != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	_ = os.RemoveAll(s.dir)
}

// Shared is one server for a test package, started by the first test
// that needs it and stopped by Main.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Main runs the package's tests, then stops the server if one started.
func (sh *Shared) Main(m *testing.M) int {
	code := m.Run()
	if sh.srv != nil {
		sh.srv.Stop()
	}
	return code
}

// Server returns the shared server, starting it on first use. Without
// PostgreSQL the test skips, or fails under CI=true.
func (sh *Shared) Server(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sh.srv, sh.err = Start(ctx)
	})
	if sh.err != nil {
		if errors.Is(sh.err, ErrMissing) && !isCI() {
			t.Skipf("pgtest: %v", sh.err)
		}
		t.Fatalf("pgtest: %v", sh.err)
	}
	return sh.srv
}

// New starts a server of the test's own, stopped when the test ends.
// Without PostgreSQL the test skips, or fails under CI=true.
func New(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := Start(ctx)
	if err != nil {
		if errors.Is(err, ErrMissing) && !isCI() {
			t.Skipf("pgtest: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// URL returns the URL of a new, empty database on the shared server.
func (sh *Shared) URL(t testing.TB) string {
	t.Helper()
	srv := sh.Server(t)
	url, err := srv.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func isCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}
