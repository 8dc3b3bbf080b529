package actions

import (
	"context"
	"errors"
	"fmt"

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
func (r *Resolver) Pull(ctx context.Context, workspace string, wfs ...*workflow.Workflow) ([]Pulled, error) {
	p := &puller{r: r, workspace: workspace, done: map[string]bool{}}
	for _, wf := range wfs {
		p.walkWorkflow(ctx, r, wf, 0)
	}
	return p.pulled, errors.Join(p.errs...)
}

// puller is the state of one Pull.
type puller struct {
	r         *Resolver
	workspace string
	done      map[string]bool // repo key@ref, action dirs and workflow files already walked
	pulled    []Pulled
	errs      []error
}

func (p *puller) fail(file string, pos workflow.Pos, uses string, err error) {
	p.errs = append(p.errs, fmt.Errorf("%s:%s: uses %s: %w", file, pos, uses, err))
}

// walkWorkflow pulls what a workflow's jobs and steps use; res resolves
// its `$/` references.
func (p *puller) walkWorkflow(ctx context.Context, res *Resolver, wf *workflow.Workflow, depth int) {
	for _, job := range wf.Jobs {
		if job.Uses != nil {
			p.workflowRef(ctx, res, wf.File, job.Uses, depth)
		}
		p.walkSteps(ctx, res, wf.File, job.Steps, depth)
	}
}

func (p *puller) walkSteps(ctx context.Context, res *Resolver, file string, steps []*workflow.Step, depth int) {
	for _, st := range steps {
		if st.Uses != nil && ctx.Err() == nil {
			p.actionRef(ctx, res, file, st.Uses, depth)
		}
	}
}

// actionRef pulls one step's action and walks a composite's steps.
func (p *puller) actionRef(ctx context.Context, res *Resolver, file string, uses *workflow.String, depth int) {
	ref, err := workflow.ParseReference(uses.Value)
	if err != nil {
		p.fail(file, uses.Pos, uses.Value, fmt.Errorf("%w: %v", ErrBadReference, err))
		return
	}
	if ref.Kind == workflow.DockerRef {
		return
	}
	if depth >= maxPullDepth {
		p.fail(file, uses.Pos, uses.Value, fmt.Errorf("actions nested more than %d deep", maxPullDepth))
		return
	}
	inner, ok := p.repo(ctx, res, file, uses, ref)
	if !ok {
		return
	}
	dir, _, err := res.dir(ctx, ref, p.workspace)
	if err != nil {
		p.fail(file, uses.Pos, uses.Value, err)
		return
	}
	if p.done[dir] {
		return
	}
	p.done[dir] = true
	meta, err := res.loadAction(dir)
	if err != nil {
		p.fail(file, uses.Pos, uses.Value, err)
		return
	}
	if meta.Runs.IsComposite() {
		p.walkSteps(ctx, inner, meta.File, meta.Runs.Steps, depth+1)
	}
}

// workflowRef pulls one job's reusable workflow and walks its jobs.
func (p *puller) workflowRef(ctx context.Context, res *Resolver, file string, uses *workflow.String, depth int) {
	ref, err := workflow.ParseWorkflowReference(uses.Value)
	if err != nil {
		p.fail(file, uses.Pos, uses.Value, fmt.Errorf("%w: %v", ErrBadReference, err))
		return
	}
	if depth >= maxPullDepth {
		p.fail(file, uses.Pos, uses.Value, fmt.Errorf("reusable workflows nested more than %d deep", maxPullDepth))
		return
	}
	inner, ok := p.repo(ctx, res, file, uses, ref)
	if !ok {
		return
	}
	path, _, err := res.dir(ctx, ref, p.workspace)
	if err != nil {
		p.fail(file, uses.Pos, uses.Value, err)
		return
	}
	if p.done[path] {
		return
	}
	p.done[path] = true
	wf, err := res.loadWorkflow(uses.Value, path)
	if err != nil {
		p.fail(file, uses.Pos, uses.Value, err)
		return
	}
	p.walkWorkflow(ctx, inner, wf, depth+1)
}

// repo refreshes a remote reference's repository in the cache and returns
// the resolver for `$/` references inside it: the remote repository for a
// remote reference, res itself otherwise.
func (p *puller) repo(ctx context.Context, res *Resolver, file string, uses *workflow.String, ref workflow.Reference) (*Resolver, bool) {
	if ref.Kind != workflow.RepoRef {
		return res, true
	}
	key := p.r.repoKey(ref.Owner, ref.Repo)
	memo := key + "@" + ref.Ref
	if !p.done[memo] {
		p.done[memo] = true
		pulled, err := p.r.refresh(ctx, ref, key, uses.Value)
		if err != nil {
			p.fail(file, uses.Pos, uses.Value, err)
			return nil, false
		}
		p.pulled = append(p.pulled, pulled)
	}
	sha := p.r.cached(key, ref.Ref)
	if sha == "" {
		return nil, false // failed above
	}
	return res.InRepo(p.r.entryDir(key, sha)), true
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
