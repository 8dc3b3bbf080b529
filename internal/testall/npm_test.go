//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNpm writes an npm that records its arguments and, when ok, creates
// the package.json of each of pkgs under --prefix, like the real one.
func fakeNpm(t *testing.T, ok bool, pkgs []string) (path, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > \"" + argsFile + "\"\n"
	if ok {
		script += `prefix=""
while [ $# -gt 0 ]; do
	if [ "$1" = --prefix ]; then prefix="$2"; fi
	shift
done
for p in ` + strings.Join(pkgs, " ") + `; do
	mkdir -p "$prefix/node_modules/$p" && echo '{}' > "$prefix/node_modules/$p/package.json"
done
`
	} else {
		script += "echo 'npm error network unreachable' >&2; exit 1\n"
	}
	path = filepath.Join(dir, "npm")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsFile
}

func TestNpmInstall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		inst        npmInstall
		present     []string // packages installed already
		npm         string   // "ok", "fails" or "" (missing)
		ci          bool
		wantNote    string
		wantErr     string
		wantWarning bool // the error is a warning (does not fail the run)
		wantArgs    string
	}{
		{name: "core already there", inst: actionsCore, present: []string{"@actions/core"}, wantNote: "@actions/core already in"},
		{name: "core installs", inst: actionsCore, npm: "ok", wantNote: "installed @actions/core@3 from the npm registry",
			wantArgs: "install --no-audit --no-fund --no-package-lock --prefix DIR --no-save @actions/core@3"},
		{name: "toolkit already there", inst: resultsToolkit, present: resultsToolkit.pkgs, wantNote: "@actions/cache, @actions/core already in"},
		{name: "toolkit: one missing installs", inst: resultsToolkit, present: []string{"@actions/core"}, npm: "ok",
			wantNote: "installed the packages of", wantArgs: "install --no-audit --no-fund --no-package-lock --prefix DIR"},
		{name: "octokit installs", inst: octokit, npm: "ok", wantNote: "installed the packages of server/api/testdata/octokit/package.json",
			wantArgs: "install --no-audit --no-fund --no-package-lock --prefix DIR"},
		{name: "octokit without npm under CI", inst: octokit, ci: true, wantErr: "the @octokit/rest tests in server/api fail without them under CI=true"},
		{name: "no npm locally", inst: actionsCore, wantErr: "npm is not installed", wantWarning: true},
		{name: "no npm under CI", inst: resultsToolkit, ci: true, wantErr: "fail without them under CI=true"},
		{name: "npm fails locally", inst: actionsCore, npm: "fails", wantErr: "skip without them", wantWarning: true},
		{name: "npm fails under CI", inst: resultsToolkit, npm: "fails", ci: true, wantErr: "npm install the packages of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			inst := tt.inst
			inst.dir = dir
			for _, p := range tt.present {
				d := filepath.Join(dir, "node_modules", p)
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, "package.json"), []byte("{}"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var argsFile string
			lookPath := func(string) (string, error) { return "", errors.New("not found") }
			if tt.npm != "" {
				var npm string
				npm, argsFile = fakeNpm(t, tt.npm == "ok", inst.pkgs)
				lookPath = func(string) (string, error) { return npm, nil }
			}
			var out bytes.Buffer
			r := &runner{ctx: context.Background(), stdout: &out, stderr: &out}
			note, err := inst.install(r, tt.ci, lookPath)
			if tt.wantErr != "" {
				var w warning
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &w) != tt.wantWarning {
					t.Fatalf("error %v (warning: %v), want %q (warning: %v)", err, errors.As(err, &w), tt.wantErr, tt.wantWarning)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v\n%s", err, out.String())
			}
			if !strings.Contains(note, tt.wantNote) {
				t.Errorf("note %q, want %q", note, tt.wantNote)
			}
			if tt.wantArgs != "" {
				b, err := os.ReadFile(argsFile)
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.ReplaceAll(strings.TrimSpace(string(b)), dir, "DIR"); got != tt.wantArgs {
					t.Errorf("npm %s, want npm %s", got, tt.wantArgs)
				}
			}
		})
	}
}
