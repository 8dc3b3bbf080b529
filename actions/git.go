package actions

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// gitFetch fetches one commit of url at ref into an empty directory,
// checks it out with a detached HEAD and returns its SHA. A ref is tried
// as a branch, tag or SHA by git itself; a SHA the server will not send
// directly is looked for in its branches and tags.
func (r *Resolver) gitFetch(ctx context.Context, dir, url, ref string) (string, error) {
	if _, err := r.runGit(ctx, dir, "init", "-q"); err != nil {
		return "", err
	}
	if _, err := r.runGit(ctx, dir, "remote", "add", "origin", url); err != nil {
		return "", err
	}
	_, err := r.runGit(ctx, dir, "fetch", "-q", "--depth", "1", "--no-tags", "origin", ref)
	if errors.Is(err, errNoShallow) {
		// A server that speaks only git's dumb HTTP protocol (a bare
		// repository behind a plain web server) cannot send a shallow
		// history: fetch the ref with all of its history instead.
		r.log.WarnContext(ctx, "the git server refused a shallow fetch (dumb HTTP transport?); fetching the whole history of the ref instead",
			"url", url, "ref", ref)
		_, err = r.runGit(ctx, dir, "fetch", "-q", "--no-tags", "origin", ref)
	}
	target := "FETCH_HEAD^{commit}"
	if err != nil && isSHA(ref) && !errors.Is(err, ErrAuth) && !isCtxErr(err) {
		// Servers without uploadpack.allowAnySHA1InWant refuse a bare SHA.
		_, err = r.runGit(ctx, dir, "fetch", "-q", "--no-tags", "origin",
			"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
		target = strings.ToLower(ref) + "^{commit}"
		if err == nil {
			if _, cerr := r.runGit(ctx, dir, "cat-file", "-e", target); cerr != nil {
				err = fmt.Errorf("%w: no commit %s in any branch or tag", ErrNotFound, ref)
			}
		}
	}
	if err != nil {
		return "", err
	}
	out, err := r.runGit(ctx, dir, "rev-parse", "--verify", "-q", target)
	if err != nil {
		return "", fmt.Errorf("%w: %s does not name a commit", ErrNotFound, ref)
	}
	sha := strings.TrimSpace(out)
	if _, err := r.runGit(ctx, dir, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", sha); err != nil {
		return "", err
	}
	return sha, nil
}

// checkoutEntry makes dest a git working tree at sha, copied from a cache
// entry without network, with origin pointing at the real repository.
func (r *Resolver) checkoutEntry(ctx context.Context, entry, sha, url, dest string) error {
	steps := [][]string{
		{"init", "-q"},
		{"fetch", "-q", "--depth", "1", "--no-tags", entry, sha},
		{"-c", "advice.detachedHead=false", "checkout", "-q", "--detach", sha},
		{"remote", "add", "origin", url},
	}
	for _, args := range steps {
		if _, err := r.runGit(ctx, dest, args...); err != nil {
			return fmt.Errorf("checkout of %s at %s into %s: %w", url, sha, dest, err)
		}
	}
	return nil
}

// runGit runs git in dir and returns its standard output. The error holds
// the last lines git wrote, with the token removed, and wraps ErrNotFound
// or ErrAuth when git's message says so.
func (r *Resolver) runGit(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, r.git, args...)
	cmd.Dir = dir
	cmd.Env = r.gitEnv()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("git %s: %w", args[0], ctx.Err())
	}
	if errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("git is needed to fetch actions and was not found (%s): install git, or run offline from a filled cache: %w", r.git, err)
	}
	msg := r.redact(lastLines(stderr.String(), 3))
	return "", classify(args[0], msg, err)
}

// classify turns git's message into an error with a sentinel category.
func classify(verb, msg string, err error) error {
	low := strings.ToLower(msg)
	var cat error
	switch {
	case strings.Contains(low, "could not read username") || strings.Contains(low, "authentication failed") ||
		strings.Contains(low, "returned error: 401") || strings.Contains(low, "returned error: 403"):
		cat = fmt.Errorf("%w: the server wants credentials that were not given or not accepted; set a token (--token-env VAR)", ErrAuth)
	case strings.Contains(low, "does not support shallow"):
		// "dumb http transport does not support shallow capabilities"
		cat = errNoShallow
	case strings.Contains(low, "couldn't find remote ref") || strings.Contains(low, "not our ref") ||
		strings.Contains(low, "no such remote ref"):
		cat = fmt.Errorf("%w: no branch, tag or commit of that name", ErrNotFound)
	case strings.Contains(low, "not found") || strings.Contains(low, "returned error: 404"):
		cat = fmt.Errorf("%w: the repository does not exist or the token cannot read it", ErrNotFound)
	}
	if cat != nil {
		return fmt.Errorf("%w (git %s: %s)", cat, verb, msg)
	}
	if msg == "" {
		return fmt.Errorf("git %s: %w", verb, err)
	}
	return fmt.Errorf("git %s: %s: %w", verb, msg, err)
}

// gitEnv is the environment of every git command: no prompts, and the
// token as an extra header for the GitHub URL only, through GIT_CONFIG_*
// so that it never appears on a command line.
func (r *Resolver) gitEnv() []string {
	env := os.Environ()
	env = append(env, "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "GCM_INTERACTIVE=never")
	if r.token == "" {
		return env
	}
	n := 0
	if v, err := strconv.Atoi(os.Getenv("GIT_CONFIG_COUNT")); err == nil && v > 0 {
		n = v // keep the caller's own GIT_CONFIG_* settings
	}
	return append(env,
		fmt.Sprintf("GIT_CONFIG_KEY_%d=http.%s/.extraHeader", n, r.baseURL.String()),
		fmt.Sprintf("GIT_CONFIG_VALUE_%d=Authorization: Basic %s", n, r.basicAuth()),
		fmt.Sprintf("GIT_CONFIG_COUNT=%d", n+1),
	)
}

// basicAuth encodes the token as GitHub expects it from git.
func (r *Resolver) basicAuth() string {
	return base64.StdEncoding.EncodeToString([]byte("x-access-token:" + r.token))
}

// redact removes the token, in every form git might echo, from s.
func (r *Resolver) redact(s string) string {
	if r.token == "" {
		return s
	}
	return strings.NewReplacer(r.basicAuth(), "***", r.token, "***").Replace(s)
}

// lastLines returns the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "hint:") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
