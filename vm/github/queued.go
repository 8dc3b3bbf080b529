package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/vm"
)

// runStatuses are the workflow run statuses whose jobs may wait for a
// runner: a queued run, and an in-progress one whose other jobs (a matrix,
// jobs whose needs just finished) are still queued.
var runStatuses = [...]string{"queued", "in_progress"}

// QueuedJobs returns the jobs waiting for a runner: for a repository, the
// queued jobs of its queued and in-progress workflow runs; for an
// organization, the same over its most recently pushed repositories, up to
// WithMaxRepos. See the package documentation.
func (c *Client) QueuedJobs(ctx context.Context) ([]vm.QueuedJob, error) {
	if c.org == "" {
		return c.queuedInRepo(ctx, c.owner, c.repo)
	}
	repos, err := c.orgRepos(ctx)
	if err != nil {
		return nil, err
	}
	var out []vm.QueuedJob
	for _, r := range repos {
		jobs, err := c.queuedInRepo(ctx, r.GetOwner().GetLogin(), r.GetName())
		if err != nil {
			return nil, err
		}
		out = append(out, jobs...)
	}
	c.log.DebugContext(ctx, "queued jobs scanned", "scope", c.scope(), "repos", len(repos), "jobs", len(out))
	return out, nil
}

// orgRepos lists up to c.maxRepos unarchived repositories of the
// organization, most recently pushed first.
func (c *Client) orgRepos(ctx context.Context) ([]*gh.Repository, error) {
	opts := &gh.RepositoryListByOrgOptions{
		Sort:        "pushed",
		Direction:   "desc",
		ListOptions: gh.ListOptions{PerPage: min(perPage, c.maxRepos)},
	}
	var out []*gh.Repository
	for page := 0; page < maxPages; page++ {
		repos, resp, err := c.gh.Repositories.ListByOrg(ctx, c.org, opts)
		if err != nil {
			return nil, c.wrap("list repositories of "+c.scope(), err)
		}
		for _, r := range repos {
			if r.GetArchived() || r.GetDisabled() || r.GetName() == "" {
				continue
			}
			out = append(out, r)
			if len(out) == c.maxRepos {
				return out, nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// queuedInRepo returns the queued jobs of one repository.
func (c *Client) queuedInRepo(ctx context.Context, owner, repo string) ([]vm.QueuedJob, error) {
	full := owner + "/" + repo
	var runIDs []int64
	seen := map[int64]bool{}
	for _, status := range runStatuses {
		opts := &gh.ListWorkflowRunsOptions{Status: status, ListOptions: gh.ListOptions{PerPage: perPage}}
		for page := 0; page < maxPages; page++ {
			runs, resp, err := c.gh.Actions.ListRepositoryWorkflowRuns(ctx, owner, repo, opts)
			if err != nil {
				return nil, c.wrap(fmt.Sprintf("list %s workflow runs of %s", status, full), err)
			}
			for _, run := range runs.WorkflowRuns {
				// A run can change status between the two listings.
				if id := run.GetID(); !seen[id] {
					seen[id] = true
					runIDs = append(runIDs, id)
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
	}
	var out []vm.QueuedJob
	for _, runID := range runIDs {
		jobs, err := c.queuedInRun(ctx, owner, repo, runID)
		if err != nil {
			return nil, err
		}
		out = append(out, jobs...)
	}
	return out, nil
}

// queuedInRun returns the queued jobs of one workflow run's latest attempt.
func (c *Client) queuedInRun(ctx context.Context, owner, repo string, runID int64) ([]vm.QueuedJob, error) {
	full := owner + "/" + repo
	opts := &gh.ListWorkflowJobsOptions{Filter: "latest", ListOptions: gh.ListOptions{PerPage: perPage}}
	var out []vm.QueuedJob
	for page := 0; page < maxPages; page++ {
		jobs, resp, err := c.gh.Actions.ListWorkflowJobs(ctx, owner, repo, runID, opts)
		if err != nil {
			return nil, c.wrap(fmt.Sprintf("list jobs of workflow run %d in %s", runID, full), err)
		}
		for _, j := range jobs.Jobs {
			if j.GetStatus() != "queued" {
				continue
			}
			out = append(out, vm.QueuedJob{ID: j.GetID(), RunID: runID, Repo: full, Labels: j.Labels})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}
