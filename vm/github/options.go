package github

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// DefaultBaseURL is GitHub.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// DefaultRunnerGroupID is the organization's "Default" runner group.
// Repository runners always use it.
const DefaultRunnerGroupID = 1

// DefaultMaxRepos bounds how many repositories QueuedJobs scans in
// organization scope.
const DefaultMaxRepos = 100

// Option configures a Client. Options may fail; New reports the first
// failure.
type Option func(*config) error

// config collects the options before New builds the Client.
type config struct {
	baseURL    *url.URL
	token      string
	app        *appAuth
	org        string
	owner      string
	repo       string
	groupID    int64
	httpClient *http.Client
	log        *slog.Logger
	maxRepos   int
}

type appAuth struct {
	appID, installationID int64
	key                   []byte
}

// WithBaseURL sets the REST API base URL: "https://HOST/api/v3/" for
// GitHub Enterprise Server, a test server's URL in tests. The default is
// DefaultBaseURL.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("github: base URL: %w", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("github: base URL %q: want an absolute http or https URL", rawURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.baseURL = u
		return nil
	}
}

// WithToken authenticates with a personal access token. It excludes WithApp.
func WithToken(pat string) Option {
	return func(c *config) error {
		if strings.TrimSpace(pat) == "" {
			return errors.New("github: token is empty")
		}
		c.token = pat
		return nil
	}
}

// WithApp authenticates as a GitHub App installation: the app's private key
// (PEM, as GitHub downloads it) signs a JWT that is exchanged for
// installation tokens, refreshed before they expire. It excludes WithToken.
func WithApp(appID, installationID int64, privateKeyPEM []byte) Option {
	return func(c *config) error {
		if appID <= 0 || installationID <= 0 {
			return errors.New("github: app ID and installation ID must be positive")
		}
		if len(privateKeyPEM) == 0 {
			return errors.New("github: app private key is empty")
		}
		c.app = &appAuth{appID: appID, installationID: installationID, key: privateKeyPEM}
		return nil
	}
}

// WithOrg scopes the client to an organization's runners. It excludes
// WithRepo.
func WithOrg(org string) Option {
	return func(c *config) error {
		if !validName(org) {
			return fmt.Errorf("github: organization %q is not a valid login", org)
		}
		c.org = org
		return nil
	}
}

// WithRepo scopes the client to one repository's runners. It excludes
// WithOrg.
func WithRepo(owner, repo string) Option {
	return func(c *config) error {
		if !validName(owner) || !validName(repo) {
			return fmt.Errorf("github: repository %q/%q is not a valid owner/name", owner, repo)
		}
		c.owner, c.repo = owner, repo
		return nil
	}
}

// WithRunnerGroupID sets the runner group new organization runners join
// (default DefaultRunnerGroupID, "Default").
func WithRunnerGroupID(id int64) Option {
	return func(c *config) error {
		if id <= 0 {
			return errors.New("github: runner group ID must be positive")
		}
		c.groupID = id
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose Transport (and timeout) carry
// the requests; authentication is layered on top of a copy, so the client
// passed in is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("github: HTTP client is nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger sets the structured logger; nil (the default) discards logs.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

// WithMaxRepos bounds how many repositories QueuedJobs scans in
// organization scope (default DefaultMaxRepos).
func WithMaxRepos(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return errors.New("github: max repos must be positive")
		}
		c.maxRepos = n
		return nil
	}
}

// validName accepts GitHub logins and repository names: non-empty, no path
// separators or URL syntax, so they can be placed in a URL path safely.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
