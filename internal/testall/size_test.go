package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTrackedSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]int // tracked files and their sizes
		ignored map[string]int // files in the tree that git does not track
		wantErr string
	}{
		{name: "small files", files: map[string]int{"a.go": 100, "testdata/x.yml": 1 << 20}},
		{name: "one over the limit", files: map[string]int{"a.go": 100, "cmd/vermont/vermont": 1<<20 + 1},
			wantErr: "cmd/vermont/vermont (1048577 bytes)"},
		{name: "untracked big file", files: map[string]int{"a.go": 100}, ignored: map[string]int{"bin/vermont": 2 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			git := func(args ...string) {
				t.Helper()
				c := exec.Command("git", args...)
				c.Dir = dir
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v: %s", args, err, out)
				}
			}
			write := func(name string, size int) {
				t.Helper()
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			git("init", "-q")
			for name, size := range tt.files {
				write(name, size)
				git("add", name)
			}
			for name, size := range tt.ignored {
				write(name, size)
			}
			err := checkTrackedSizes(context.Background(), dir, maxTrackedSize)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("checkTrackedSizes: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkTrackedSizes error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestRepositoryTracksNoLargeFiles runs the check on this repository, so
// that `go test` alone catches a committed binary.
func TestRepositoryTracksNoLargeFiles(t *testing.T) {
	if err := checkTrackedSizes(context.Background(), "../..", maxTrackedSize); err != nil {
		t.Fatal(err)
	}
}
