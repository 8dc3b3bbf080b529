package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/vermont-ci/vermont/server/store"
)

// The functions here turn the store's rows into GitHub's JSON shapes,
// go-github's types, with GitHub's URLs under the API's base.

// ts is t as GitHub's timestamp, or nil (omitted) for the zero time.
func ts(t time.Time) *github.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &github.Timestamp{Time: t.UTC().Truncate(time.Second)}
}

// nonEmpty is s, or nil (omitted) for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// webURL is the web interface's address of path (GitHub's html_url).
func webURL(c *call, path string) string {
	return strings.TrimSuffix(c.base, Prefix) + path
}

// repoURL is the API URL of repository r.
func repoURL(c *call, r store.Repository) string {
	return c.base + "/repos/" + r.FullName()
}

// toRepo is r as GitHub's repository object.
func toRepo(c *call, r store.Repository) *github.Repository {
	return &github.Repository{
		ID:            github.Ptr(r.ID),
		NodeID:        github.Ptr(fmt.Sprintf("R_%d", r.ID)),
		Name:          github.Ptr(r.Name),
		FullName:      github.Ptr(r.FullName()),
		Owner:         &github.User{Login: github.Ptr(r.Owner), Type: github.Ptr("User")},
		Private:       github.Ptr(false),
		Visibility:    github.Ptr("public"),
		DefaultBranch: github.Ptr(r.DefaultBranch),
		URL:           github.Ptr(repoURL(c, r)),
		HTMLURL:       github.Ptr(webURL(c, "/"+r.FullName())),
		CloneURL:      nonEmpty(r.CloneURL),
		CreatedAt:     ts(r.CreatedAt),
		UpdatedAt:     ts(r.UpdatedAt),
	}
}

// toUser is the token's identity as GitHub's user object.
func toUser(c *call, login string, id int64) *github.User {
	return &github.User{
		Login:   github.Ptr(login),
		ID:      github.Ptr(id),
		NodeID:  github.Ptr(fmt.Sprintf("U_%d", id)),
		Type:    github.Ptr("User"),
		URL:     github.Ptr(c.base + "/users/" + login),
		HTMLURL: github.Ptr(webURL(c, "/"+login)),
	}
}

// actor is a run's actor as GitHub's user object (the store keeps the
// login only).
func actor(login string) *github.User {
	if login == "" {
		return nil
	}
	return &github.User{Login: github.Ptr(login), Type: github.Ptr("User")}
}

// toWorkflow is w as GitHub's workflow object.
func toWorkflow(c *call, r store.Repository, w store.Workflow) *github.Workflow {
	return &github.Workflow{
		ID:        github.Ptr(w.ID),
		NodeID:    github.Ptr(fmt.Sprintf("W_%d", w.ID)),
		Name:      github.Ptr(w.Name),
		Path:      github.Ptr(w.Path),
		State:     github.Ptr(or(w.State, "active")),
		CreatedAt: ts(w.CreatedAt),
		UpdatedAt: ts(w.UpdatedAt),
		URL:       github.Ptr(fmt.Sprintf("%s/actions/workflows/%d", repoURL(c, r), w.ID)),
		HTMLURL:   github.Ptr(webURL(c, "/"+r.FullName()+"/blob/"+r.DefaultBranch+"/"+w.Path)),
		BadgeURL:  github.Ptr(webURL(c, "/"+r.FullName()+"/workflows/"+w.Path+"/badge.svg")),
	}
}

// toRun is run as GitHub's workflow run object, for its attempt (the
// latest unless a is given).
func toRun(c *call, r store.Repository, run store.Run, a *store.Attempt) *github.WorkflowRun {
	u := fmt.Sprintf("%s/actions/runs/%d", repoURL(c, r), run.ID)
	out := &github.WorkflowRun{
		ID:              github.Ptr(run.ID),
		NodeID:          github.Ptr(fmt.Sprintf("WFR_%d", run.ID)),
		Name:            github.Ptr(run.WorkflowName),
		HeadBranch:      github.Ptr(run.HeadBranch),
		HeadSHA:         github.Ptr(run.HeadSHA),
		Path:            github.Ptr(run.WorkflowPath),
		DisplayTitle:    github.Ptr(or(run.DisplayTitle, run.WorkflowName)),
		RunNumber:       github.Ptr(int(run.RunNumber)),
		RunAttempt:      github.Ptr(int(run.Attempt)),
		Event:           github.Ptr(run.Event),
		Status:          github.Ptr(string(run.Status)),
		Conclusion:      nonEmpty(string(run.Conclusion)),
		WorkflowID:      github.Ptr(run.WorkflowID),
		URL:             github.Ptr(u),
		HTMLURL:         github.Ptr(webURL(c, fmt.Sprintf("/%s/actions/runs/%d", r.FullName(), run.ID))),
		PullRequests:    []*github.PullRequest{},
		CreatedAt:       ts(run.CreatedAt),
		UpdatedAt:       ts(run.UpdatedAt),
		RunStartedAt:    ts(run.StartedAt),
		JobsURL:         github.Ptr(u + "/jobs"),
		LogsURL:         github.Ptr(u + "/logs"),
		ArtifactsURL:    github.Ptr(u + "/artifacts"),
		CancelURL:       github.Ptr(u + "/cancel"),
		RerunURL:        github.Ptr(u + "/rerun"),
		WorkflowURL:     github.Ptr(fmt.Sprintf("%s/actions/workflows/%d", repoURL(c, r), run.WorkflowID)),
		Repository:      toRepo(c, r),
		HeadRepository:  toRepo(c, r),
		Actor:           actor(run.Actor),
		TriggeringActor: actor(run.Actor),
		HeadCommit:      &github.HeadCommit{ID: github.Ptr(run.HeadSHA)},
	}
	if run.StartedAt.IsZero() {
		out.RunStartedAt = ts(run.CreatedAt)
	}
	if a != nil {
		out.RunAttempt = github.Ptr(int(a.Number))
		out.Status = github.Ptr(string(a.Status))
		out.Conclusion = nonEmpty(string(a.Conclusion))
		out.TriggeringActor = actor(or(a.Actor, run.Actor))
		if !a.StartedAt.IsZero() {
			out.RunStartedAt = ts(a.StartedAt)
		}
		if a.Number > 1 {
			out.URL = github.Ptr(fmt.Sprintf("%s/attempts/%d", u, a.Number))
		}
	}
	if n := *out.RunAttempt; n > 1 {
		out.PreviousAttemptURL = github.Ptr(fmt.Sprintf("%s/attempts/%d", u, n-1))
	}
	return out
}

// toJob is j, with its steps, as GitHub's workflow job object.
func toJob(c *call, r store.Repository, run store.Run, j store.Job, steps []store.Step) *github.WorkflowJob {
	runURL := fmt.Sprintf("%s/actions/runs/%d", repoURL(c, r), run.ID)
	out := &github.WorkflowJob{
		ID:           github.Ptr(j.ID),
		RunID:        github.Ptr(run.ID),
		RunURL:       github.Ptr(runURL),
		NodeID:       github.Ptr(fmt.Sprintf("CR_%d", j.ID)),
		HeadBranch:   github.Ptr(run.HeadBranch),
		HeadSHA:      github.Ptr(run.HeadSHA),
		URL:          github.Ptr(fmt.Sprintf("%s/actions/jobs/%d", repoURL(c, r), j.ID)),
		HTMLURL:      github.Ptr(webURL(c, fmt.Sprintf("/%s/actions/runs/%d/job/%d", r.FullName(), run.ID, j.ID))),
		Status:       github.Ptr(string(j.Status)),
		Conclusion:   nonEmpty(string(j.Conclusion)),
		CreatedAt:    ts(j.CreatedAt),
		StartedAt:    ts(j.StartedAt),
		CompletedAt:  ts(j.CompletedAt),
		Name:         github.Ptr(or(j.Name, j.Key)),
		Steps:        []*github.TaskStep{},
		CheckRunURL:  github.Ptr(fmt.Sprintf("%s/check-runs/%d", repoURL(c, r), j.ID)),
		Labels:       append([]string{}, j.Labels...),
		RunnerName:   nonEmpty(j.RunnerName),
		RunAttempt:   github.Ptr(j.Attempt),
		WorkflowName: github.Ptr(run.WorkflowName),
	}
	if out.StartedAt == nil {
		// GitHub always sends started_at; a queued job's is its creation.
		out.StartedAt = ts(j.CreatedAt)
	}
	for _, s := range steps {
		out.Steps = append(out.Steps, &github.TaskStep{
			Name:        github.Ptr(s.Name),
			Status:      github.Ptr(string(s.Status)),
			Conclusion:  nonEmpty(string(s.Conclusion)),
			Number:      github.Ptr(s.Number),
			StartedAt:   ts(s.StartedAt),
			CompletedAt: ts(s.CompletedAt),
		})
	}
	return out
}

// toArtifact is a as GitHub's artifact object.
func toArtifact(c *call, r store.Repository, run store.Run, a store.Artifact, now time.Time) *github.Artifact {
	u := fmt.Sprintf("%s/actions/artifacts/%d", repoURL(c, r), a.ID)
	return &github.Artifact{
		ID:                 github.Ptr(a.ID),
		NodeID:             github.Ptr(fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", a.ID)),
		Name:               github.Ptr(a.Name),
		SizeInBytes:        github.Ptr(a.Size),
		URL:                github.Ptr(u),
		ArchiveDownloadURL: github.Ptr(u + "/zip"),
		Expired:            github.Ptr(!a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt)),
		CreatedAt:          ts(a.CreatedAt),
		UpdatedAt:          ts(a.CreatedAt),
		ExpiresAt:          ts(a.ExpiresAt),
		Digest:             nonEmpty(a.Digest),
		WorkflowRun: &github.ArtifactWorkflowRun{
			ID:               github.Ptr(run.ID),
			RepositoryID:     github.Ptr(r.ID),
			HeadRepositoryID: github.Ptr(r.ID),
			HeadBranch:       github.Ptr(run.HeadBranch),
			HeadSHA:          github.Ptr(run.HeadSHA),
		},
	}
}
