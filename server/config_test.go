package server

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"HOOK": "hook-secret", "CLONE": "clone-token", "STATUS": "status-token"}
	getenv := func(k string) string { return env[k] }
	cfg, err := ParseConfig("serve.yml", []byte(`base-url: https://ci.example.com
repos:
  - name: acme/app
    url: https://git.example.com/acme/app.git
    upstream: gitea
    default-branch: trunk
    webhook-secret-env: HOOK
    username: ci
    password-env: CLONE
    status-api: https://git.example.com
    status-token-env: STATUS
  - name: acme/lib
    url: /srv/git/lib.git
`), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://ci.example.com" || len(cfg.Repos) != 2 {
		t.Fatalf("config %+v", cfg)
	}
	app := cfg.Repos[0]
	if app.FullName() != "acme/app" || app.Upstream != Gitea || app.DefaultBranch != "trunk" ||
		string(app.WebhookSecret) != "hook-secret" || app.Remote.Username != "ci" || app.Remote.Password != "clone-token" ||
		app.Statuses == nil {
		t.Fatalf("repo %+v", app)
	}
	if lib := cfg.Repos[1]; lib.Upstream != Git || lib.Statuses != nil || lib.Remote.URL != "/srv/git/lib.git" {
		t.Fatalf("repo %+v", lib)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"repos: 3\n", "serve.yml:1:8: repos: want a list"},
		{"colour: red\n", `serve.yml:1:1: unknown key "colour"`},
		{"repos:\n  - name: nope\n    url: x\n", `serve.yml:2:11: name: want owner/name, got "nope"`},
		{"repos:\n  - name: a/b\n    url: x\n    upstream: svn\n", `serve.yml:4:15: upstream: want github, gitea or git, got "svn"`},
		{"repos:\n  - name: a/b\n    url: x\n    password-env: UNSET\n", "serve.yml:4:19: password-env: environment variable UNSET is not set"},
		{"repos:\n  - name: a/b\n", "serve.yml:2:5: a repo needs name and url"},
		{"repos:\n  - name: a/b\n    url: x\n    status-token-env: T\n", `serve.yml:2:5: status-token-env: commit statuses need an upstream of github or gitea, not "git"`},
		{"repos: [\n", "serve.yml: yaml:"},
	} {
		_, err := ParseConfig("serve.yml", []byte(tc.src), func(k string) string {
			if k == "T" {
				return "s3cr3t-value"
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("%q: the error shows a secret: %v", tc.src, err)
		}
	}
}

func TestParseRepoFlag(t *testing.T) {
	r, err := ParseRepoFlag("octo/app=/srv/git/app.git")
	if err != nil || r.FullName() != "octo/app" || r.Remote.URL != "/srv/git/app.git" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"octo/app", "app=/x", "octo/app=", "../x/y=/z"} {
		if _, err := ParseRepoFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
