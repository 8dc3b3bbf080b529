package server

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/status"
)

// Config is `vermont serve --config`'s file:
//
//	base-url: https://ci.example.com      # links in commit statuses, github.server_url
//	repos:
//	  - name: acme/app                    # owner/name
//	    url: https://git.example.com/acme/app.git   # anything git fetches
//	    upstream: gitea                   # github, gitea or git (default)
//	    default-branch: main              # default: the remote's HEAD
//	    webhook-secret-env: APP_HOOK_SECRET   # default: VERMONT_WEBHOOK_SECRET
//	    username: ci                      # http(s) clone credentials
//	    password-env: APP_CLONE_TOKEN
//	    ssh-key: /etc/vermont/app.key     # ssh clone key
//	    status-api: https://git.example.com   # where commit statuses go (github: its API URL)
//	    status-token-env: APP_STATUS_TOKEN
//
// Secrets are named by environment variable, never written in the file.
type Config struct {
	BaseURL string
	Repos   []Repo
}

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// ParseConfig reads a Config; getenv resolves the *-env keys. Every
// problem is reported, each with its file:line:col.
func ParseConfig(file string, data []byte, getenv func(string) string) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%s: %w", file, err)
	}
	var cfg Config
	var errs []error
	fail := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", file, n.Line, n.Column, fmt.Sprintf(format, args...)))
	}
	if len(doc.Content) == 0 {
		return cfg, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		fail(root, "want a mapping with base-url and repos")
		return cfg, errors.Join(errs...)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "base-url":
			cfg.BaseURL = scalar(v, fail)
		case "repos":
			if v.Kind != yaml.SequenceNode {
				fail(v, "repos: want a list")
				continue
			}
			for _, rn := range v.Content {
				if r, ok := parseRepo(rn, fail, getenv); ok {
					cfg.Repos = append(cfg.Repos, r)
				}
			}
		default:
			fail(k, "unknown key %q (want base-url, repos)", k.Value)
		}
	}
	return cfg, errors.Join(errs...)
}

func scalar(n *yaml.Node, fail func(*yaml.Node, string, ...any)) string {
	if n.Kind != yaml.ScalarNode {
		fail(n, "want a string")
		return ""
	}
	return n.Value
}

func parseRepo(n *yaml.Node, fail func(*yaml.Node, string, ...any), getenv func(string) string) (Repo, bool) {
	var r Repo
	if n.Kind != yaml.MappingNode {
		fail(n, "a repo: want a mapping with name and url")
		return r, false
	}
	var statusAPI, statusToken string
	var statusNode *yaml.Node
	env := func(k, v *yaml.Node) string {
		name := scalar(v, fail)
		val := getenv(name)
		if name != "" && val == "" {
			fail(v, "%s: environment variable %s is not set", k.Value, name)
		}
		return val
	}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			full := scalar(v, fail)
			if !repoNameRE.MatchString(full) {
				fail(v, "name: want owner/name, got %q", full)
				ok = false
			}
			r.Owner, r.Name, _ = strings.Cut(full, "/")
		case "url":
			r.Remote.URL = scalar(v, fail)
		case "upstream":
			r.Upstream = scalar(v, fail)
			if r.Upstream != GitHub && r.Upstream != Gitea && r.Upstream != Git {
				fail(v, "upstream: want github, gitea or git, got %q", r.Upstream)
			}
		case "default-branch":
			r.DefaultBranch = scalar(v, fail)
		case "webhook-secret-env":
			r.WebhookSecret = []byte(env(k, v))
		case "username":
			r.Remote.Username = scalar(v, fail)
		case "password-env":
			r.Remote.Password = env(k, v)
		case "ssh-key":
			r.Remote.SSHKeyFile = scalar(v, fail)
		case "status-api":
			statusAPI, statusNode = scalar(v, fail), v
		case "status-token-env":
			statusToken = env(k, v)
		default:
			fail(k, "unknown key %q (want name, url, upstream, default-branch, webhook-secret-env, username, password-env, ssh-key, status-api, status-token-env)", k.Value)
		}
	}
	if r.Owner == "" || r.Remote.URL == "" {
		fail(n, "a repo needs name and url")
		return r, false
	}
	if r.Upstream == "" {
		r.Upstream = Git
	}
	if statusToken != "" {
		rep, err := NewReporter(r.Upstream, statusAPI, statusToken)
		if err != nil {
			at := n
			if statusNode != nil {
				at = statusNode
			}
			fail(at, "%v", err)
		}
		r.Statuses = rep
	}
	return r, ok
}

// NewReporter returns the commit-status reporter of an upstream: GitHub's
// API (apiURL, default https://api.github.com) or Gitea's (its base URL).
func NewReporter(upstream, apiURL, token string) (status.Reporter, error) {
	switch upstream {
	case GitHub:
		if apiURL == "" {
			apiURL = "https://api.github.com"
		}
		return status.NewGitHub(apiURL, token)
	case Gitea:
		if apiURL == "" {
			return nil, errors.New("status-api: a gitea upstream needs its base URL")
		}
		return status.NewGitea(apiURL, token)
	}
	return nil, fmt.Errorf("status-token-env: commit statuses need an upstream of github or gitea, not %q", upstream)
}

// ParseRepoFlag reads a --repo OWNER/NAME=GIT_URL flag.
func ParseRepoFlag(v string) (Repo, error) {
	full, url, ok := strings.Cut(v, "=")
	if !ok || !repoNameRE.MatchString(full) || url == "" {
		return Repo{}, fmt.Errorf("--repo %q: want OWNER/NAME=GIT_URL", v)
	}
	owner, name, _ := strings.Cut(full, "/")
	return Repo{Owner: owner, Name: name, Remote: mirror.Remote{URL: url}}, nil
}
