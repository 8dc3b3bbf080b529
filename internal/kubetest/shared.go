package kubetest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shared is one cluster for a test binary, started by the first test that
// asks for it: the zero value is ready to use, and the package's TestMain
// calls Close after m.Run.
type Shared struct {
	once sync.Once
	dir  string
	c    *Cluster
	err  error
	skip string
}

// Get returns the running cluster. When a component is missing it fails the
// test under CI=true and skips it, saying what is missing, otherwise; under
// CI it builds missing binaries first (internal/testall has already built
// them, so that is a cache hit).
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(s.start)
	switch {
	case s.skip != "" && ci():
		t.Fatalf("CI=true and %s", s.skip)
	case s.skip != "":
		t.Skip(s.skip)
	case s.err != nil:
		t.Fatalf("starting the test cluster: %v", s.err)
	}
	return s.c
}

func (s *Shared) start() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := Cached(); err != nil {
		if !ci() {
			s.skip = err.Error()
			return
		}
		if _, err := Build(ctx, os.Stderr); err != nil {
			s.err = err
			return
		}
	}
	if _, err := lookEtcd(); err != nil {
		s.skip = err.Error()
		return
	}
	s.dir, s.err = os.MkdirTemp("", "kubetest-")
	if s.err != nil {
		return
	}
	sctx, scancel := context.WithTimeout(ctx, 3*time.Minute)
	defer scancel()
	s.c, s.err = Start(sctx, s.dir)
}

// Close stops the cluster, if one was started, and removes its state.
func (s *Shared) Close() {
	if s.c != nil {
		s.c.Close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func ci() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// ForTest starts a cluster of the test's own, stopped when the test ends,
// with Shared's rules for missing components.
func ForTest(t testing.TB) *Cluster {
	t.Helper()
	s := &Shared{}
	t.Cleanup(s.Close)
	return s.Get(t)
}
