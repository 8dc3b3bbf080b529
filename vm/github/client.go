package github

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/vm"
)

var _ vm.Runners = (*Client)(nil)

// Client registers and removes GitHub self-hosted runners for one
// repository or organization. It is safe for concurrent use. Create it
// with New.
type Client struct {
	gh       *gh.Client
	org      string // organization scope, or
	owner    string // repository scope
	repo     string
	groupID  int64
	maxRepos int
	htmlURL  string // the scope's web URL, for config.sh --url
	log      *slog.Logger
	secrets  []string // known secrets scrubbed from errors
}

// New returns a Client. Exactly one of WithToken and WithApp, and exactly
// one of WithOrg and WithRepo, are required.
func New(opts ...Option) (*Client, error) {
	var cfg config
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.baseURL == nil {
		cfg.baseURL, _ = url.Parse(DefaultBaseURL)
	}
	if cfg.groupID == 0 {
		cfg.groupID = DefaultRunnerGroupID
	}
	if cfg.maxRepos == 0 {
		cfg.maxRepos = DefaultMaxRepos
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		org: cfg.org, owner: cfg.owner, repo: cfg.repo,
		groupID: cfg.groupID, maxRepos: cfg.maxRepos,
		log: cfg.log,
	}
	ghOpts, err := cfg.auth()
	if err != nil {
		return nil, err
	}
	if cfg.token != "" {
		c.secrets = append(c.secrets, cfg.token)
	}
	baseURL := cfg.baseURL.String()
	ghOpts = append(ghOpts, gh.WithURLs(&baseURL, nil), gh.WithUserAgent("vermont"))
	if c.gh, err = gh.NewClient(ghOpts...); err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	c.htmlURL = webURL(cfg.baseURL, c.path())
	return c, nil
}

// validate checks that credentials and scope are each given exactly once.
func (cfg *config) validate() error {
	switch {
	case cfg.token == "" && cfg.app == nil:
		return errors.New("github: no credentials; use WithToken or WithApp")
	case cfg.token != "" && cfg.app != nil:
		return errors.New("github: WithToken and WithApp are exclusive")
	case cfg.org == "" && cfg.repo == "":
		return errors.New("github: no scope; use WithOrg or WithRepo")
	case cfg.org != "" && cfg.repo != "":
		return errors.New("github: WithOrg and WithRepo are exclusive")
	}
	return nil
}

// auth returns go-github options for an authenticated HTTP client: a copy
// of the caller's (go-github installs its auth transport on the client it is
// given) carrying the token, or the GitHub App installation transport.
func (cfg *config) auth() ([]gh.ClientOptionsFunc, error) {
	hc := &http.Client{}
	if cfg.httpClient != nil {
		*hc = *cfg.httpClient
	}
	if cfg.token != "" {
		return []gh.ClientOptionsFunc{gh.WithHTTPClient(hc), gh.WithAuthToken(cfg.token)}, nil
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	itr, err := ghinstallation.New(base, cfg.app.appID, cfg.app.installationID, cfg.app.key)
	if err != nil {
		// The parse error does not quote the key.
		return nil, fmt.Errorf("github: app private key: %w", err)
	}
	// ghinstallation fetches installation tokens from BaseURL too.
	itr.BaseURL = strings.TrimSuffix(cfg.baseURL.String(), "/")
	hc.Transport = itr
	return []gh.ClientOptionsFunc{gh.WithHTTPClient(hc)}, nil
}

// Format prints the Client's scope and never its credentials, whatever the
// verb.
func (c *Client) Format(f fmt.State, _ rune) {
	if c == nil || c.gh == nil {
		fmt.Fprint(f, "github.Client(nil)")
		return
	}
	fmt.Fprintf(f, "github.Client{%s, base: %s, credentials: [redacted]}", c.scope(), c.gh.BaseURL())
}

// scope names the client's scope in errors and logs.
func (c *Client) scope() string {
	if c.org != "" {
		return "organization " + c.org
	}
	return "repository " + c.owner + "/" + c.repo
}

// path is the scope's path: "org" or "owner/repo".
func (c *Client) path() string {
	if c.org != "" {
		return c.org
	}
	return c.owner + "/" + c.repo
}

// webURL turns an API base URL into the web URL of path, which config.sh
// takes as --url: https://api.github.com/ → https://github.com/path,
// https://HOST/api/v3/ → https://HOST/path.
func webURL(api *url.URL, path string) string {
	u := *api
	u.Host = strings.TrimPrefix(u.Host, "api.")
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/v3")
	u.Path = p + "/" + path
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String()
}
