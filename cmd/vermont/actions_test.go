package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/actions/actionstest"
)

const actionsTestdata = "../../testdata/actions"

// pullServer serves acme/hello (tag v1) and acme/tool (tag v1) from
// testdata/actions.
func pullServer(t *testing.T) *actionstest.Server {
	t.Helper()
	srv := actionstest.NewServer(t)
	for _, name := range []string{"hello", "tool"} {
		repo := srv.NewRepo(t, "acme", name)
		repo.Commit("v1", actionstest.ReadTree(t, filepath.Join(actionsTestdata, name)))
		repo.Git("tag", "v1")
		repo.Push()
	}
	return srv
}

// workspace writes a repository with one workflow and returns its root.
func workspace(t *testing.T, wf string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, ".github", "workflows")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "ci.yml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

const pullWorkflow = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/hello@v1
      - uses: docker://alpine:3.20
  call:
    uses: acme/hello/.github/workflows/reuse.yml@v1
`

func TestActionsPull(t *testing.T) {
	t.Parallel()
	srv := pullServer(t)
	root := workspace(t, pullWorkflow)
	cache := t.TempDir()
	wfDir := filepath.Join(root, ".github", "workflows")
	code, out, errOut := runCmd(t, "actions", "pull", "-W", wfDir, "--action-cache", cache, "--github-url", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The reusable workflow uses acme/hello/sub/dir@v1 (same ref) and
	// $/docker-only; the composite uses acme/tool@v1.
	for _, want := range []string{"fetched  acme/hello@v1 ", "fetched  acme/tool@v1 ", "2 repository ref(s) in " + cache} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	srv.Close()
	r, err := actions.NewResolver(actions.WithCacheDir(cache), actions.WithOffline(true), actions.WithGitHubURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, uses := range []string{"acme/hello@v1", "acme/hello/sub/dir@v1", "acme/tool@v1"} {
		if _, _, err := r.Action(context.Background(), uses, root); err != nil {
			t.Errorf("after pull, offline: %v", err)
		}
	}
	if _, err := r.Workflow(context.Background(), "acme/hello/.github/workflows/reuse.yml@v1", root); err != nil {
		t.Errorf("after pull, offline: %v", err)
	}
}

func TestActionsPullErrors(t *testing.T) {
	t.Parallel()
	srv := pullServer(t)
	missing := workspace(t, "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/hello@v1\n      - uses: acme/nope@v1\n")
	bad := workspace(t, "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/hello\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{name: "missing repo", args: []string{"-W", filepath.Join(missing, ".github", "workflows", "ci.yml")}, wantCode: 1,
			wantErr: []string{"ci.yml:7:15: uses acme/nope@v1: ", "does not exist", "some actions could not be pulled"}},
		{name: "invalid workflow", args: []string{"-W", filepath.Join(bad, ".github", "workflows")}, wantCode: 1,
			wantErr: []string{"ci.yml:6:15:", "needs a version", "no valid workflow"}},
		{name: "missing path", args: []string{"-W", "does-not-exist"}, wantCode: 1, wantErr: []string{"does-not-exist"}},
		{name: "unset token variable", args: []string{"--token-env", "VERMONT_TEST_UNSET_TOKEN"}, wantCode: 2, wantErr: []string{"VERMONT_TEST_UNSET_TOKEN", "unset or empty"}},
		{name: "bad url", args: []string{"--github-url", "ftp://x"}, wantCode: 2, wantErr: []string{"must be an http(s) URL"}},
		{name: "extra argument", args: []string{"x.yml"}, wantCode: 2, wantErr: []string{"-W"}},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: []string{"usage: vermont actions pull"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"actions", "pull", "--action-cache", t.TempDir(), "--github-url", srv.URL}, tt.args...)
			code, _, errOut := runCmd(t, args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	for _, args := range [][]string{{"actions"}, {"actions", "push"}} {
		if code, _, errOut := runCmd(t, args...); code != 2 || !strings.Contains(errOut, "usage: vermont actions pull") {
			t.Errorf("%v: exit %d, stderr %s", args, code, errOut)
		}
	}
}

// TestActionsPullToken is not parallel: it sets an environment variable.
func TestActionsPullToken(t *testing.T) {
	const token = "cmd-s3cret-token"
	srv := pullServer(t)
	srv.RequireAuth("acme/hello", "Basic "+base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token)))
	srv.RequireAuth("acme/tool", "Basic "+base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token)))
	root := workspace(t, pullWorkflow)
	wfDir := filepath.Join(root, ".github", "workflows")
	base := []string{"actions", "pull", "-W", wfDir, "--github-url", srv.URL}

	t.Setenv("VERMONT_TEST_TOKEN", token+"-wrong")
	code, out, errOut := runCmd(t, append(base, "--action-cache", t.TempDir(), "--token-env", "VERMONT_TEST_TOKEN")...)
	if code != 1 || strings.Contains(out+errOut, token) {
		t.Errorf("wrong token: exit %d, output must not hold the token:\n%s%s", code, out, errOut)
	}
	t.Setenv("VERMONT_TEST_TOKEN", token)
	code, out, errOut = runCmd(t, append(base, "--action-cache", t.TempDir(), "--token-env", "VERMONT_TEST_TOKEN")...)
	if code != 0 || strings.Contains(out+errOut, token) {
		t.Errorf("token: exit %d:\n%s%s", code, out, errOut)
	}
}
