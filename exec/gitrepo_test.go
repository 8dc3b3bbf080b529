package exec

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := osexec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestReadRepo reads what git itself reports, from loose refs, packed refs,
// a detached HEAD and a subdirectory, without running git.
func TestReadRepo(t *testing.T) {
	if _, err := osexec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed (the test command installs it)")
		}
		t.Skip("git is not installed")
	}
	t.Parallel()
	root := t.TempDir()
	git(t, root, "init", "-q", "-b", "feature/x")
	git(t, root, "remote", "add", "origin", "https://github.com/octo/hello-world.git")
	if err := os.MkdirAll(filepath.Join(root, "sub", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644)
	git(t, root, "add", "f")
	git(t, root, "commit", "-q", "-m", "one")
	sha := git(t, root, "rev-parse", "HEAD")

	r, ok := ReadRepo(filepath.Join(root, "sub", "dir"))
	if !ok || r.Root != root || r.SHA != sha || r.Ref != "refs/heads/feature/x" || r.Repository != "octo/hello-world" {
		t.Fatalf("loose ref: %+v, %v; want root %s sha %s", r, ok, root, sha)
	}
	git(t, root, "pack-refs", "--all")
	if r, _ := ReadRepo(root); r.SHA != sha {
		t.Fatalf("packed ref: sha %q, want %q", r.SHA, sha)
	}
	git(t, root, "checkout", "-q", "--detach")
	if r, _ := ReadRepo(root); r.SHA != sha || r.Ref != "" {
		t.Fatalf("detached: %+v", r)
	}
	git(t, root, "remote", "set-url", "origin", "git@github.com:octo/other.git")
	if r, _ := ReadRepo(root); r.Repository != "octo/other" {
		t.Fatalf("ssh remote: %q", r.Repository)
	}
	if _, ok := ReadRepo(t.TempDir()); ok {
		t.Fatal("a directory outside any repository was read as one")
	}
}

func TestGitHubContext(t *testing.T) {
	t.Parallel()
	repo := Repo{Root: "/src/hello", SHA: "abc", Ref: "refs/heads/main", Repository: "octo/hello"}
	tests := []struct {
		name  string
		event string
		body  map[string]any
		want  map[string]any
	}{
		{name: "push from the repository", event: "push",
			want: map[string]any{"ref": "refs/heads/main", "ref_name": "main", "ref_type": "branch", "sha": "abc", "repository": "octo/hello", "repository_owner": "octo"}},
		{name: "push payload wins", event: "push", body: map[string]any{"ref": "refs/tags/v1.2", "after": "def"},
			want: map[string]any{"ref": "refs/tags/v1.2", "ref_name": "v1.2", "ref_type": "tag", "sha": "def"}},
		{name: "pull request", event: "pull_request", body: map[string]any{"number": float64(7),
			"pull_request": map[string]any{"head": map[string]any{"ref": "topic", "sha": "fff"}, "base": map[string]any{"ref": "main"}}},
			want: map[string]any{"ref": "refs/pull/7/merge", "ref_name": "7/merge", "head_ref": "topic", "base_ref": "main", "sha": "fff"}},
		{name: "repository from the payload", event: "push", body: map[string]any{"repository": map[string]any{"full_name": "acme/rocket"}},
			want: map[string]any{"repository": "acme/rocket", "repository_owner": "acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := GitHubContext(GitHubOptions{EventName: tt.event, Event: tt.body, Repo: repo, WorkflowFile: ".github/workflows/ci.yml", RunID: "9"})
			get := func(k string) any { v, _ := g.Get(k); return v }
			for k, v := range tt.want {
				if get(k) != v {
					t.Errorf("github.%s = %v, want %v", k, get(k), v)
				}
			}
			if get("event_name") != tt.event || get("run_id") != "9" || get("server_url") != "https://github.com" {
				t.Errorf("context %v", g)
			}
		})
	}
}
