package actions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/vermont-ci/vermont/workflow"
)

// maxPullDepth bounds how deep Pull follows composite actions and called
// workflows. GitHub allows 10 levels of composite actions and 10 of
// reusable workflows; the executor enforces the exact limits.
const maxPullDepth = 10

// Pulled is one repository at one ref that Pull put into the cache.
type Pulled struct {
	Uses    string // the first uses: that named it, e.g. actions/checkout@v4
	Repo    string // owner/repo
	Ref     string // as written
	SHA     string // the commit it resolved to
	Dir     string // the cache entry (the repository root)
	Fetched bool   // false when it was a full SHA already in the cache
}

// Pull fills the cache for every remote action and reusable workflow the
// workflows use, in steps and in jobs, and recursively for the uses: inside
// composite actions and called workflows (local ones too, read from
// workspace). Branch and tag refs are fetched again even when cached, so
// Pull also brings moving refs up to date; full SHAs already cached are
// not. docker:// steps are skipped: images are the container backend's.
// Pull carries on past failures and returns what it cached and every
// failure, each prefixed with the file:line:col of the uses: at fault.
//
// The references are pulled a level at a time (those the workflows name,
// then those inside what that level fetched, ...), each level at most
// WithPullLimit fetches at once.
func (r *Resolver) Pull(ctx context.Context, workspace string, wfs ...*workflow.Workflow) ([]Pulled, error) {
	p := &puller{r: r, workspace: workspace, walked: map[string]bool{}, refs: map[string]*refPull{}}
	var level []pullItem
	for _, wf := range wfs {
		level = appendWorkflow(level, r, wf, 0)
	}
	for len(level) > 0 && ctx.Err() == nil {
		var (
			mu   sync.Mutex
			next []pullItem
			g    errgroup.Group
		)
		g.SetLimit(r.pullLimit)
		for _, it := range level {
			g.Go(func() error {
				more := p.pull(ctx, it)
				mu.Lock()
				next = append(next, more...)
				mu.Unlock()
				return nil
			})
		}
		g.Wait()
		level = next
	}
	// Concurrent pulls finish in any order; report in a fixed one.
	sort.Slice(p.pulled, func(i, j int) bool { return p.pulled[i].Uses < p.pulled[j].Uses })
	sort.Slice(p.errs, func(i, j int) bool { return p.errs[i].Error() < p.errs[j].Error() })
	return p.pulled, errors.Join(p.errs...)
}

// pullItem is one uses: to pull: a step's action, or a job's reusable
// workflow; res resolves its `$/` references.
type pullItem struct {
	res      *Resolver
	file     string
	uses     *workflow.String
	workflow bool
	depth    int
}

// appendWorkflow appends the uses: of a workflow's jobs and steps.
func appendWorkflow(items []pullItem, res *Resolver, wf *workflow.Workflow, depth int) []pullItem {
	for _, job := range wf.Jobs {
		if job.Uses != nil {
			items = append(items, pullItem{res: res, file: wf.File, uses: job.Uses, workflow: true, depth: depth})
		}
		items = appendSteps(items, res, wf.File, job.Steps, depth)
	}
	return items
}

func appendSteps(items []pullItem, res *Resolver, file string, steps []*workflow.Step, depth int) []pullItem {
	for _, st := range steps {
		if st.Uses != nil {
			items = append(items, pullItem{res: res, file: file, uses: st.Uses, depth: depth})
		}
	}
	return items
}

// puller is the state of one Pull, shared by its goroutines under mu.
type puller struct {
	r         *Resolver
	workspace string

	mu     sync.Mutex
	walked map[string]bool     // action dirs and workflow files already walked
	refs   map[string]*refPull // repo key@ref → its refresh
	pulled []Pulled
	errs   []error
}

// refPull is one repository ref's refresh; done closes when it has ended.
type refPull struct {
	done chan struct{}
}

func (p *puller) fail(file string, pos workflow.Pos, uses string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Errorf("%s:%s: uses %s: %w", file, pos, uses, err))
}

// firstWalk reports whether key is walked for the first time.
func (p *puller) firstWalk(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.walked[key] {
		return false
	}
	p.walked[key] = true
	return true
}

// pull pulls one item and returns the uses: inside it to pull next.
func (p *puller) pull(ctx context.Context, it pullItem) []pullItem {
	if ctx.Err() != nil {
		return nil
	}
	if it.workflow {
		return p.workflowRef(ctx, it)
	}
	return p.actionRef(ctx, it)
}

// actionRef pulls one step's action and returns a composite's steps.
func (p *puller) actionRef(ctx context.Context, it pullItem) []pullItem {
	uses := it.uses
	ref, err := workflow.ParseReference(uses.Value)
	if err != nil {
		p.fail(it.file, uses.Pos, uses.Value, fmt.Errorf("%w: %v", ErrBadReference, err))
		return nil
	}
	if ref.Kind == workflow.DockerRef {
		return nil
	}
	if it.depth >= maxPullDepth {
		p.fail(it.file, uses.Pos, uses.Value, fmt.Errorf("actions nested more than %d deep", maxPullDepth))
		return nil
	}
	inner, ok := p.repo(ctx, it, ref)
	if !ok {
		return nil
	}
	dir, _, err := it.res.dir(ctx, ref, p.workspace)
	if err != nil {
		p.fail(it.file, uses.Pos, uses.Value, err)
		return nil
	}
	if !p.firstWalk(dir) {
		return nil
	}
	meta, err := it.res.loadAction(dir)
	if err != nil {
		p.fail(it.file, uses.Pos, uses.Value, err)
		return nil
	}
	if meta.Runs.IsComposite() {
		return appendSteps(nil, inner, meta.File, meta.Runs.Steps, it.depth+1)
	}
	return nil
}

// workflowRef pulls one job's reusable workflow and returns its jobs' uses:.
func (p *puller) workflowRef(ctx context.Context, it pullItem) []pullItem {
	uses := it.uses
	ref, err := workflow.ParseWorkflowReference(uses.Value)
	if err != nil {
		p.fail(it.file, uses.Pos, uses.Value, fmt.Errorf("%w: %v", ErrBadReference, err))
		return nil
	}
	if it.depth >= maxPullDepth {
		p.fail(it.file, uses.Pos, uses.Value, fmt.Errorf("reusable workflows nested more than %d deep", maxPullDepth))
		return nil
	}
	inner, ok := p.repo(ctx, it, ref)
	if !ok {
		return nil
	}
	path, _, err := it.res.dir(ctx, ref, p.workspace)
	if err != nil {
		p.fail(it.file, uses.Pos, uses.Value, err)
		return nil
	}
	if !p.firstWalk(path) {
		return nil
	}
	wf, err := it.res.loadWorkflow(uses.Value, path)
	if err != nil {
		p.fail(it.file, uses.Pos, uses.Value, err)
		return nil
	}
	return appendWorkflow(nil, inner, wf, it.depth+1)
}

// repo refreshes a remote reference's repository in the cache, once per
// ref however many items name it, and returns the resolver for `$/`
// references inside it: the remote repository for a remote reference,
// it.res itself otherwise.
func (p *puller) repo(ctx context.Context, it pullItem, ref workflow.Reference) (*Resolver, bool) {
	if ref.Kind != workflow.RepoRef {
		return it.res, true
	}
	key := p.r.repoKey(ref.Owner, ref.Repo)
	memo := key + "@" + ref.Ref
	p.mu.Lock()
	call, seen := p.refs[memo]
	if !seen {
		call = &refPull{done: make(chan struct{})}
		p.refs[memo] = call
	}
	p.mu.Unlock()
	if !seen {
		pulled, err := p.r.refresh(ctx, ref, key, it.uses.Value)
		if err != nil {
			p.fail(it.file, it.uses.Pos, it.uses.Value, err)
		} else {
			p.mu.Lock()
			p.pulled = append(p.pulled, pulled)
			p.mu.Unlock()
		}
		close(call.done)
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, false
	}
	sha := p.r.cached(key, ref.Ref)
	if sha == "" {
		return nil, false // failed, and reported once
	}
	return it.res.InRepo(p.r.entryDir(key, sha)), true
}

// refresh fetches ref unless it is a full SHA already cached (or the
// resolver is offline, when it only checks the cache).
func (r *Resolver) refresh(ctx context.Context, ref workflow.Reference, key, uses string) (Pulled, error) {
	out := Pulled{Uses: uses, Repo: ref.Owner + "/" + ref.Repo, Ref: ref.Ref}
	var err error
	if r.offline || isSHA(ref.Ref) {
		if out.SHA = r.cached(key, ref.Ref); out.SHA != "" {
			out.Dir = r.entryDir(key, out.SHA)
			return out, nil
		}
	}
	if r.offline {
		_, _, err = r.entry(ctx, ref, uses) // for its error
		return out, err
	}
	if out.SHA, err = r.fetchShared(ctx, ref, key, uses); err != nil {
		return out, err
	}
	r.shared.mu.Lock()
	r.shared.shas[key+"@"+ref.Ref] = out.SHA
	r.shared.mu.Unlock()
	out.Dir, out.Fetched = r.entryDir(key, out.SHA), true
	return out, nil
}
