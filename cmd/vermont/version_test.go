package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{name: "no build info", want: "vermont unknown (no build information)"},
		{name: "go run", ok: true, info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			want: "vermont (devel) (go1.26.8)"},
		{name: "clean build", ok: true, info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "c720453abc"}, {Key: "vcs.time", Value: "2026-12-05T16:08:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			want: "vermont v0.3.0 (revision c720453abc, committed 2026-12-05T16:08:00Z, go1.26.8)"},
		{name: "dirty build", ok: true, info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "c720453abc"}, {Key: "vcs.modified", Value: "true"}}},
			want: "vermont (devel) (revision c720453abc-dirty)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := versionLine(tt.info, tt.ok); got != tt.want {
				t.Errorf("versionLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, stdio{out: &out, err: &errb}); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			// A test binary has build info with the module path but no VCS stamp.
			if !regexp.MustCompile(`^vermont \S+ \(.*go1\.\d+`).MatchString(out.String()) {
				t.Errorf("output %q", out.String())
			}
		})
	}
}

// TestVersionBuilt builds the binary the way a user does, from a clone of
// this repository's HEAD with this package's current files on top, and
// checks that the commit it was built from is in the output. The clone is
// needed because the go command stamps no VCS data in a git worktree, whose
// .git is a file.
func TestVersionBuilt(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to know the expected revision")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	dir := t.TempDir()
	clone := filepath.Join(dir, "src")
	if out, err := exec.Command("git", "clone", "-q", "--shared", string(bytes.TrimSpace(top)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v: %s", err, out)
	}
	if out, err := exec.Command("git", "-C", clone, "checkout", "-q", "--detach", string(bytes.TrimSpace(rev))).CombinedOutput(); err != nil {
		t.Fatalf("git checkout: %v: %s", err, out)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clone, "cmd", "vermont", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "vermont")
	build := exec.Command("go", "build", "-o", bin, "./cmd/vermont")
	build.Dir = clone
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("vermont --version: %v", err)
	}
	want := regexp.MustCompile(`^vermont \S+ \(revision ` + string(bytes.TrimSpace(rev)) + `(-dirty)?, committed \d{4}-`)
	if !want.Match(out) {
		t.Errorf("vermont --version = %q, want it to match %s", out, want)
	}
}
