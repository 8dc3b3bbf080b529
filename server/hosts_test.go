package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

// Artifacts under the data directory are recorded relative to it; those
// in a shared --artifacts directory by absolute path, the same on every
// host; removal finds both.
func TestArtifactPaths(t *testing.T) {
	data, shared := t.TempDir(), t.TempDir()
	st, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Server{store: st}
	local := filepath.Join(data, "artifacts", "1", "a", "data")
	remote := filepath.Join(shared, "1", "a", "data")
	if got := s.artifactPath(local); got != "artifacts/1/a/data" {
		t.Errorf("artifactPath(%s) = %s, want artifacts/1/a/data", local, got)
	}
	if got := s.artifactPath(remote); got != remote {
		t.Errorf("artifactPath(%s) = %s, want it unchanged", remote, got)
	}
	for _, p := range []string{local, remote} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		s.removeArtifact(s.artifactPath(p))
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not removed: %v", p, err)
		}
	}
	s.removeArtifact("") // nothing recorded: nothing removed, no panic
}

func TestWithLeaseAndArtifactDir(t *testing.T) {
	s := &Server{}
	if err := WithLease(0)(s); err == nil {
		t.Error("a zero lease is accepted")
	}
	if err := WithLease(-time.Second)(s); err == nil {
		t.Error("a negative lease is accepted")
	}
	if err := WithLease(3 * time.Second)(s); err != nil || s.lease != 3*time.Second {
		t.Errorf("WithLease(3s): %v, lease %v", err, s.lease)
	}
	if err := WithArtifactDir("rel/dir")(s); err != nil || !filepath.IsAbs(s.artifactDir) {
		t.Errorf("WithArtifactDir(rel/dir): %v, %q not absolute", err, s.artifactDir)
	}
}
