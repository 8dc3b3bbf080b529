// Package mirror keeps one local bare mirror per repository that
// `vermont serve` builds, fetched incrementally, and reads commits from it:
// the workflows at a commit, the files a push changed, and working trees
// for runs that borrow the mirror's objects.
//
// Credentials reach git through its environment (GIT_CONFIG_* and
// GIT_SSH_COMMAND), never its command line or a config file, and are
// scrubbed from every error.
package mirror

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Remote is where a repository is fetched from: anything git fetches (a
// path, file://, http(s)://, ssh).
type Remote struct {
	URL        string
	Username   string // http(s) basic auth, with Password
	Password   string // a token; never in argv, logs or errors
	SSHKeyFile string // ssh: the private key to use
}

// File is a file read at a commit.
type File struct {
	Path string
	Data []byte
}

// Mirrors holds the mirrors under one directory. It is safe for
// concurrent use: fetches of one repository are serialized, and a caller
// that waited for another's fetch reuses it when it asked for nothing
// that fetch did not bring.
type Mirrors struct {
	dir string
	log *slog.Logger

	mu    sync.Mutex
	repos map[string]*repoLock
}

type repoLock struct {
	have    sync.Map // commit ids known to be in the mirror: a mirror is never pruned of objects
	mu      sync.Mutex
	fetches atomic.Int64 // completed fetches, to tell a caller one finished while it waited
}

// Option configures New.
type Option func(*Mirrors)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(m *Mirrors) { m.log = l } }

// New returns the mirrors kept under dir, which it creates.
func New(dir string, opts ...Option) (*Mirrors, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	m := &Mirrors{dir: dir, repos: map[string]*repoLock{}}
	for _, o := range opts {
		o(m)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*/[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// gitDir is the mirror of name ("owner/name").
func (m *Mirrors) gitDir(name string) (string, error) {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("mirror: bad repository name %q: want owner/name", name)
	}
	return filepath.Join(m.dir, filepath.FromSlash(name)+".git"), nil
}

func (m *Mirrors) lock(name string) *repoLock {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.repos[name]
	if l == nil {
		l = &repoLock{}
		m.repos[name] = l
	}
	return l
}

// refspecs are what a fetch brings: branches, tags, and pull request heads
// (GitHub and Gitea publish them under refs/pull/N/head).
var refspecs = []string{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+refs/pull/*/head:refs/pull/*/head"}

// Fetch brings the mirror of name up to date with r, creating it the first
// time. want are commits the caller needs: when all are here already,
// nothing is fetched; one still missing after the refs are fetched is
// fetched by its id, and an error names it if the remote does not have it
// either. Remote branches that are gone are pruned. The default branch is
// read from the remote when the mirror is made.
func (m *Mirrors) Fetch(ctx context.Context, name string, r Remote, want ...string) error {
	dir, err := m.gitDir(name)
	if err != nil {
		return err
	}
	l := m.lock(name)
	all := len(want) > 0
	for _, sha := range want {
		all = all && len(sha) == 40 && m.known(ctx, l, dir, sha)
	}
	if all {
		return nil // the commits are here already: the webhook's fetch brought them
	}
	seen := l.fetches.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fetches.Load() > seen && m.haveAll(ctx, dir, want) {
		return nil // a fetch finished while this caller waited, and brought what it needs
	}
	created := false
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		created = true
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("mirror %s: %w", name, err)
		}
		if _, err := m.git(ctx, r, dir, "init", "-q", "--bare"); err != nil {
			return fmt.Errorf("mirror %s: %w", name, err)
		}
	}
	r.URL = absURL(r.URL)
	args := append([]string{"fetch", "-q", "--prune", "--no-write-fetch-head", r.URL}, refspecs...)
	if _, err := m.git(ctx, r, dir, args...); err != nil {
		return fmt.Errorf("mirror %s: fetch: %w", name, err)
	}
	if created {
		m.updateHead(ctx, r, dir)
	}
	l.fetches.Add(1)
	for _, sha := range want {
		if m.known(ctx, l, dir, sha) {
			continue
		}
		if _, err := m.git(ctx, r, dir, "fetch", "-q", "--no-write-fetch-head", r.URL, sha); err != nil || !m.have(ctx, dir, sha) {
			return fmt.Errorf("mirror %s: commit %s is not in the remote", name, sha)
		}
	}
	return nil
}

// updateHead points the mirror's HEAD at the remote's default branch.
func (m *Mirrors) updateHead(ctx context.Context, r Remote, dir string) {
	out, err := m.git(ctx, r, dir, "ls-remote", "--symref", r.URL, "HEAD")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "ref: "); ok {
			ref, _, _ := strings.Cut(rest, "\t")
			_, _ = m.git(ctx, r, dir, "symbolic-ref", "HEAD", ref)
			return
		}
	}
}

func (m *Mirrors) haveAll(ctx context.Context, dir string, want []string) bool {
	for _, sha := range want {
		if !m.have(ctx, dir, sha) {
			return false
		}
	}
	return true
}

// known reports whether sha is in the mirror of l, asking git only once.
func (m *Mirrors) known(ctx context.Context, l *repoLock, dir, sha string) bool {
	if _, ok := l.have.Load(sha); ok {
		return true
	}
	if !m.have(ctx, dir, sha) {
		return false
	}
	l.have.Store(sha, true)
	return true
}

func (m *Mirrors) have(ctx context.Context, dir, sha string) bool {
	_, err := m.git(ctx, Remote{}, dir, "cat-file", "-e", sha+"^{commit}")
	return err == nil
}

// Resolve returns the commit rev (a branch, tag, full ref or commit id)
// names in the mirror.
func (m *Mirrors) Resolve(ctx context.Context, name, rev string) (string, error) {
	dir, err := m.gitDir(name)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("mirror %s: bad revision %q", name, rev)
	}
	out, err := m.git(ctx, Remote{}, dir, "rev-parse", "--verify", "-q", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("mirror %s: no commit %q", name, rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// DefaultBranch is the remote's default branch, as of the mirror's
// creation.
func (m *Mirrors) DefaultBranch(ctx context.Context, name string) (string, error) {
	dir, err := m.gitDir(name)
	if err != nil {
		return "", err
	}
	// HEAD of a bare repository is "ref: refs/heads/<branch>\n"; read
	// without a git process, as every event asks.
	b, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: refs/heads/")
	if err != nil || !ok {
		return "", fmt.Errorf("mirror %s: no default branch (not fetched yet?)", name)
	}
	return ref, nil
}

// Workflows returns the workflow files at sha: .github/workflows/*.yml and
// *.yaml, not in subdirectories (GitHub reads only those), by path.
func (m *Mirrors) Workflows(ctx context.Context, name, sha string) ([]File, error) {
	dir, err := m.gitDir(name)
	if err != nil {
		return nil, err
	}
	out, err := m.git(ctx, Remote{}, dir, "ls-tree", "-z", "--name-only", sha+":.github/workflows")
	if err != nil {
		return nil, nil // no workflows directory
	}
	var files []File
	var batch bytes.Buffer
	for _, n := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if ext := path.Ext(n); (ext == ".yml" || ext == ".yaml") && !strings.ContainsAny(n, "\n") {
			files = append(files, File{Path: ".github/workflows/" + n})
			fmt.Fprintf(&batch, "%s:%s\n", sha, files[len(files)-1].Path)
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	// One git for every file: `cat-file --batch` answers
	// "<oid> <type> <size>\n<content>\n", or "<name> missing\n".
	cmd := osexec.CommandContext(ctx, "git", "-C", dir, "cat-file", "--batch")
	cmd.Stdin = &batch
	all, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("mirror %s: read workflows at %s: %w", name, sha, err)
	}
	kept := files[:0]
	for _, f := range files {
		header, rest, ok := bytes.Cut(all, []byte("\n"))
		if !ok {
			break
		}
		fields := strings.Fields(string(header))
		if len(fields) != 3 {
			all = rest
			continue // missing
		}
		size, err := strconv.Atoi(fields[2])
		if err != nil || size > len(rest) {
			break
		}
		if fields[1] == "blob" {
			f.Data = rest[:size]
			kept = append(kept, f)
		}
		all = rest[min(size+1, len(rest)):]
	}
	files = kept
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// ReadFile returns the file p (slash-separated, from the repository's
// root) at sha.
func (m *Mirrors) ReadFile(ctx context.Context, name, sha, p string) ([]byte, error) {
	dir, err := m.gitDir(name)
	if err != nil {
		return nil, err
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	out, err := m.git(ctx, Remote{}, dir, "cat-file", "blob", sha+":"+p)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: no file %s at %s", name, p, sha)
	}
	return out, nil
}

// emptyTree is git's empty tree, what a root commit is compared with.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// Changed returns the paths that differ between before and after. With
// before empty or all zeros (a new branch) it compares after with its
// first parent, or with nothing for a root commit.
func (m *Mirrors) Changed(ctx context.Context, name, before, after string) ([]string, error) {
	dir, err := m.gitDir(name)
	if err != nil {
		return nil, err
	}
	if strings.Trim(before, "0") == "" || !m.have(ctx, dir, before) {
		before = emptyTree
		if _, err := m.git(ctx, Remote{}, dir, "rev-parse", "--verify", "-q", after+"^1"); err == nil {
			before = after + "^1"
		}
	}
	out, err := m.git(ctx, Remote{}, dir, "diff", "--name-only", "-z", "--no-renames", before, after, "--")
	if err != nil {
		return nil, fmt.Errorf("mirror %s: changed files of %s: %w", name, after, err)
	}
	files := []string{}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// Checkout makes dest a working tree at sha, with a .git of its own whose
// objects are borrowed from the mirror (git clone --shared), its HEAD
// detached at sha.
func (m *Mirrors) Checkout(ctx context.Context, name, sha, dest string) error {
	dir, err := m.gitDir(name)
	if err != nil {
		return err
	}
	if _, err := m.git(ctx, Remote{}, "", "clone", "-q", "--shared", "--no-checkout", dir, dest); err != nil {
		return fmt.Errorf("mirror %s: checkout: %w", name, err)
	}
	if _, err := m.git(ctx, Remote{}, dest, "checkout", "-q", "--detach", sha); err != nil {
		return fmt.Errorf("mirror %s: checkout %s: %w", name, sha, err)
	}
	return nil
}

// git runs git in dir with r's credentials in its environment, and
// returns its output; an error carries git's stderr, scrubbed of them.
func (m *Mirrors) git(ctx context.Context, r Remote, dir string, args ...string) ([]byte, error) {
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	cmd := osexec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "GIT_CONFIG_NOSYSTEM=1")
	cmd.Env = append(cmd.Env, credentialEnv(r)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if r.Password != "" {
			msg = strings.ReplaceAll(msg, r.Password, "***")
			msg = strings.ReplaceAll(msg, basicAuth(r), "***")
		}
		if msg == "" {
			return nil, err
		}
		return nil, errors.New(msg)
	}
	return out, nil
}

// credentialEnv passes r's credentials to git: an http.extraHeader with
// Basic auth, and for ssh the key, through GIT_CONFIG_COUNT and friends.
func credentialEnv(r Remote) []string {
	var env []string
	if r.Password != "" {
		env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+basicAuth(r))
	}
	if r.SSHKeyFile != "" {
		env = append(env, "GIT_SSH_COMMAND=ssh -i "+strconv.Quote(r.SSHKeyFile)+" -o IdentitiesOnly=yes -o BatchMode=yes")
	}
	return env
}

func basicAuth(r Remote) string {
	user := r.Username
	if user == "" {
		user = "x-access-token" // what GitHub takes with a token
	}
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + r.Password))
}

// absURL makes a local path absolute: git runs in the mirror, where a
// relative path would mean something else. URLs and scp-like ssh
// addresses (host:path) stay.
func absURL(u string) string {
	if strings.Contains(u, "://") || filepath.IsAbs(u) {
		return u
	}
	if i := strings.Index(u, ":"); i > 0 && !strings.ContainsAny(u[:i], "/\\") {
		return u
	}
	if a, err := filepath.Abs(u); err == nil {
		return a
	}
	return u
}
