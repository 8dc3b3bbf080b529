package actions

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
)

// Option configures a Resolver.
type Option func(*Resolver) error

// WithCacheDir sets the directory of the content cache. The default is
// vermont/actions under os.UserCacheDir().
func WithCacheDir(dir string) Option {
	return func(r *Resolver) error {
		if dir == "" {
			return errors.New("actions: empty cache directory")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("actions: cache directory %s: %w", dir, err)
		}
		r.cacheDir = abs
		return nil
	}
}

// WithGitHubURL sets the server that remote actions are fetched from; the
// repository owner/repo is fetched from URL/owner/repo. The default is
// https://github.com.
func WithGitHubURL(raw string) Option {
	return func(r *Resolver) error {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("actions: GitHub URL %q must be an http(s) URL such as https://github.com", raw)
		}
		if u.User != nil {
			return fmt.Errorf("actions: GitHub URL %s must not hold credentials; use a token (WithToken, --token-env)", u.Redacted())
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawQuery, u.Fragment = "", ""
		r.baseURL = u
		return nil
	}
}

// WithToken sets a token for private repositories. It reaches git only
// through an http.extraHeader set in git's environment (never on a command
// line), is sent only to the GitHub URL, and is removed from every error and
// log line.
func WithToken(token string) Option {
	return func(r *Resolver) error {
		if strings.ContainsAny(token, "\r\n") {
			return errors.New("actions: the token contains a line break")
		}
		r.token = token
		return nil
	}
}

// WithOffline makes the resolver use only the cache: a missing action is an
// error wrapping ErrNotCached that names it and says how to fill the cache.
func WithOffline(offline bool) Option {
	return func(r *Resolver) error {
		r.offline = offline
		return nil
	}
}

// WithRepoDir sets the root of the workflow's own repository, which `$/path`
// references are relative to.
func WithRepoDir(dir string) Option {
	return func(r *Resolver) error {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("actions: repository directory %s: %w", dir, err)
		}
		r.repoDir = abs
		return nil
	}
}

// WithLogger sets the logger for fetches and cache hits. The default
// discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(r *Resolver) error {
		if l == nil {
			return errors.New("actions: nil logger")
		}
		r.log = l
		return nil
	}
}

// WithPullLimit sets how many repositories Pull fetches at once (default
// 8; fetches wait on the network, not the CPU).
func WithPullLimit(n int) Option {
	return func(r *Resolver) error {
		if n < 1 {
			return fmt.Errorf("actions: pull limit %d: want 1 or more", n)
		}
		r.pullLimit = n
		return nil
	}
}

// WithGit sets the git program (default: "git" found on PATH).
func WithGit(path string) Option {
	return func(r *Resolver) error {
		if path == "" {
			return errors.New("actions: empty git path")
		}
		r.git = path
		return nil
	}
}
