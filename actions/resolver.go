package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vermont-ci/vermont/workflow"
)

// Resolver finds actions and reusable workflows named by `uses:` and
// fetches remote ones into its cache. It is safe for concurrent use.
type Resolver struct {
	cacheDir string
	baseURL  *url.URL
	token    string
	offline  bool
	repoDir  string
	git      string
	log      *slog.Logger
	// pullLimit bounds Pull's concurrent fetches (WithPullLimit).
	pullLimit int
	parser    *workflow.YAMLParser

	// shared is common to a Resolver and the copies InRepo makes.
	shared *shared
}

// shared is the in-process state of a cache: fetches in flight and what
// has been resolved already. Cache entries are immutable (one per commit),
// so what is remembered here never goes stale within a process except for
// branch refs, which the disk index pins the same way.
type shared struct {
	mu      sync.Mutex
	fetches map[string]*fetchCall       // repo key@ref → fetch in flight
	shas    map[string]string           // repo key@ref → commit SHA
	meta    map[string]*workflow.Action // action dir inside an entry → metadata
}

// defaultPullLimit is how many fetches Pull runs at once by default.
const defaultPullLimit = 8

// NewResolver returns a Resolver configured by opts. It does no I/O.
func NewResolver(opts ...Option) (*Resolver, error) {
	r := &Resolver{}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	if r.cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("actions: no user cache directory (%w); set one with WithCacheDir or --action-cache", err)
		}
		r.cacheDir = filepath.Join(base, "vermont", "actions")
	}
	if r.baseURL == nil {
		r.baseURL = &url.URL{Scheme: "https", Host: "github.com"}
	}
	if r.git == "" {
		r.git = "git"
	}
	if r.pullLimit == 0 {
		r.pullLimit = defaultPullLimit
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.parser = workflow.NewParser()
	r.shared = &shared{fetches: map[string]*fetchCall{}, shas: map[string]string{}, meta: map[string]*workflow.Action{}}
	return r, nil
}

// CacheDir returns the directory of the content cache.
func (r *Resolver) CacheDir() string { return r.cacheDir }

// InRepo returns a resolver that shares r's cache and settings but
// resolves `$/path` against dir, for actions and workflows that live in
// another repository (a called workflow's own `$/` references).
func (r *Resolver) InRepo(dir string) *Resolver {
	c := *r
	c.repoDir = dir
	return &c
}

// Action returns the directory holding the action named by uses (a step's
// uses: other than docker://) and its parsed metadata. Local `./path` is
// relative to workspace, `$/path` to the repository set by WithRepoDir, and
// `owner/repo[/path]@ref` is taken from the cache or fetched. Bad metadata
// is returned as the workflow.ErrorList of its diagnostics, wrapped.
func (r *Resolver) Action(ctx context.Context, uses, workspace string) (dir string, meta *workflow.Action, err error) {
	ref, err := workflow.ParseReference(uses)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	dir, immutable, err := r.dir(ctx, ref, workspace)
	if err != nil {
		return "", nil, err
	}
	if immutable {
		r.shared.mu.Lock()
		meta = r.shared.meta[dir]
		r.shared.mu.Unlock()
		if meta != nil {
			return dir, meta, nil
		}
	}
	meta, err = r.loadAction(dir)
	if err != nil {
		return "", nil, fmt.Errorf("action %s: %w", uses, err)
	}
	if immutable {
		r.shared.mu.Lock()
		r.shared.meta[dir] = meta
		r.shared.mu.Unlock()
	}
	return dir, meta, nil
}

// Workflow returns the reusable workflow named by a job's uses:
// (`./.github/workflows/x.yml`, `$/.github/workflows/x.yml` or
// `owner/repo/.github/workflows/x.yml@ref`), parsed and validated. A file
// without an on.workflow_call trigger is reported as a diagnostic.
func (r *Resolver) Workflow(ctx context.Context, uses, workspace string) (*workflow.Workflow, error) {
	ref, err := workflow.ParseWorkflowReference(uses)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	file, _, err := r.dir(ctx, ref, workspace)
	if err != nil {
		return nil, err
	}
	return r.loadWorkflow(uses, file)
}

// Checkout puts repository owner/repo at ref (empty: the default branch)
// into dest as a git working tree with a detached HEAD, as actions/checkout
// with repository: does. The commit comes from the cache (fetched first
// unless offline). dest must be missing or empty: Checkout never deletes
// files it did not create.
func (r *Resolver) Checkout(ctx context.Context, repo, ref, dest string) error {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%w: repository %q must be owner/repo", ErrBadReference, repo)
	}
	uses := repo
	if ref != "" {
		uses += "@" + ref
	}
	// Reuse the one reference parser for the name checks.
	if _, err := workflow.ParseReference(owner + "/" + name + "@x"); err != nil {
		return fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	if ref == "" {
		ref = "HEAD"
	}
	rr := workflow.Reference{Kind: workflow.RepoRef, Owner: owner, Repo: name, Ref: ref}
	entry, sha, err := r.entry(ctx, rr, uses)
	if err != nil {
		return err
	}
	if err := emptyDir(dest); err != nil {
		return fmt.Errorf("checkout of %s: %w", uses, err)
	}
	return r.checkoutEntry(ctx, entry, sha, r.repoURL(owner, name), dest)
}

// dir returns the directory (or, for a workflow reference, the file) that
// ref names, and whether it lies in an immutable cache entry.
func (r *Resolver) dir(ctx context.Context, ref workflow.Reference, workspace string) (string, bool, error) {
	switch ref.Kind {
	case workflow.LocalRef:
		if workspace == "" {
			return "", false, fmt.Errorf("%w: %s is relative to the workspace, but no workspace was given", ErrBadReference, ref)
		}
		return filepath.Join(workspace, filepath.FromSlash(ref.Path)), false, nil
	case workflow.SelfRef:
		if r.repoDir == "" {
			return "", false, fmt.Errorf("%w: %s names the workflow's own repository, but the resolver has none (WithRepoDir)", ErrBadReference, ref)
		}
		p, err := inside(r.repoDir, ref.Path)
		if err != nil {
			return "", false, fmt.Errorf("%w: %s: %v", ErrBadReference, ref, err)
		}
		return p, false, nil
	case workflow.RepoRef:
		entry, _, err := r.entry(ctx, ref, ref.String())
		if err != nil {
			return "", false, err
		}
		p, err := inside(entry, ref.Path)
		if err != nil {
			return "", false, fmt.Errorf("%w: %s: %v", ErrBadReference, ref, err)
		}
		return p, true, nil
	case workflow.DockerRef:
		return "", false, fmt.Errorf("%w: %s is a container image, run by the container backend, not an action directory", ErrBadReference, ref)
	}
	return "", false, fmt.Errorf("%w: internal error: unknown reference kind %d", ErrBadReference, ref.Kind)
}

// inside joins a slash path onto root and refuses results outside root.
func inside(root, rel string) (string, error) {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if p != root && !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", errors.New("the path leaves the repository")
	}
	return p, nil
}

// emptyDir creates dir or checks that it is empty.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("destination %s is not empty", dir)
	}
	return nil
}
