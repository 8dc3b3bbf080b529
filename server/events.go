package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

const zeroSHA = "0000000000000000000000000000000000000000"

// event is what an event starts runs of: the commit and ref the runs get
// (GITHUB_SHA, GITHUB_REF, as GitHub's "Events that trigger workflows"
// gives them per event), what the on: filters are applied to, and the
// payload that becomes github.event.
type event struct {
	name    string
	sha     string // "" resolves ref
	ref     string // full ref
	branch  string // head_branch: the branch, or the tag
	actor   string
	title   string
	trigger workflow.Trigger
	before  string   // for the changed files of push and pull_request
	payload []byte   // github.event, the delivery's JSON as sent
	inputs  []byte   // workflow_dispatch inputs, typed
	only    string   // a workflow_dispatch starts this workflow path only
	cron    string   // a schedule tick starts the workflows with this cron
	files   []string // changed files, when known
}

// handleEvent turns a verified delivery into queued runs.
func (s *Server) handleEvent(ctx context.Context, repo *Repo, name string, payload map[string]any, body []byte, log *slog.Logger) ([]store.Run, error) {
	ev, ok, err := s.eventOf(ctx, repo, name, payload, body)
	if err != nil || !ok {
		return nil, err
	}
	return s.queue(ctx, repo, ev, log)
}

// eventOf reads what the runs of a delivery get. ok is false for an event
// that starts nothing (a branch deletion pushed).
func (s *Server) eventOf(ctx context.Context, repo *Repo, name string, p map[string]any, body []byte) (event, bool, error) {
	str := func(keys ...string) string { v, _ := dig(p, keys...).(string); return v }
	ev := event{name: name, payload: body, actor: str("sender", "login")}
	ev.trigger = workflow.TriggerFromPayload(name, p)
	switch name {
	case "push":
		if deleted, _ := p["deleted"].(bool); deleted || str("after") == zeroSHA {
			return ev, false, nil // GitHub starts no workflow for a deletion
		}
		ev.sha, ev.ref, ev.before = str("after"), str("ref"), str("before")
		ev.trigger.Files = nil // from the mirror: the payload lists at most 20 commits
		if ev.actor == "" {
			ev.actor = str("pusher", "name")
		}
		ev.title, _ = dig(p, "head_commit", "message").(string)
	case "pull_request", "pull_request_target":
		num, _ := dig(p, "pull_request", "number").(float64)
		if num == 0 {
			num, _ = p["number"].(float64)
		}
		ev.sha, ev.before = str("pull_request", "head", "sha"), str("pull_request", "base", "sha")
		ev.branch = str("pull_request", "head", "ref")
		ev.ref = "refs/pull/" + strconv.Itoa(int(num)) + "/merge"
		ev.title = str("pull_request", "title")
		if name == "pull_request_target" {
			ev.sha, ev.ref, ev.before = "", "refs/heads/"+str("pull_request", "base", "ref"), ""
		}
	case "workflow_dispatch":
		ev.ref, ev.only = fullRef(str("ref")), str("workflow")
		ev.inputs, _ = json.Marshal(p["inputs"])
	case "release":
		ev.ref = "refs/tags/" + str("release", "tag_name")
		ev.title = str("release", "name")
	case "create":
		if str("ref_type") == "tag" {
			ev.ref = "refs/tags/" + str("ref")
		} else {
			ev.ref = "refs/heads/" + str("ref")
		}
	default:
		// delete, issues, issue_comment, repository_dispatch and the rest
		// run the default branch's last commit.
	}
	if ev.ref == "" {
		branch, err := s.defaultBranch(ctx, repo)
		if err != nil {
			return ev, false, err
		}
		ev.ref = "refs/heads/" + branch
	}
	if ev.branch == "" {
		ev.branch = shortRef(ev.ref)
	}
	if ev.title == "" {
		ev.title = str("issue", "title")
	}
	ev.title, _, _ = strings.Cut(ev.title, "\n")
	return ev, true, nil
}

func (s *Server) defaultBranch(ctx context.Context, repo *Repo) (string, error) {
	if repo.DefaultBranch != "" {
		return repo.DefaultBranch, nil
	}
	if b, err := s.mirrors.DefaultBranch(ctx, repo.FullName()); err == nil {
		return b, nil
	}
	if err := s.mirrors.Fetch(ctx, repo.FullName(), repo.Remote); err != nil {
		return "", err
	}
	return s.mirrors.DefaultBranch(ctx, repo.FullName())
}

// queue fetches the event's commit once, reads the workflows at it, and
// queues a run of each workflow whose on: the event matches.
func (s *Server) queue(ctx context.Context, repo *Repo, ev event, log *slog.Logger) ([]store.Run, error) {
	log = s.logWith(log)
	name := repo.FullName()
	var want []string
	if ev.sha != "" {
		want = append(want, ev.sha)
	}
	if err := s.mirrors.Fetch(ctx, name, repo.Remote, want...); err != nil {
		return nil, err
	}
	if ev.sha == "" {
		sha, err := s.mirrors.Resolve(ctx, name, ev.ref)
		if err != nil {
			return nil, &invalidRefError{ref: ev.ref}
		}
		ev.sha = sha
	}
	files, err := s.mirrors.Workflows(ctx, name, ev.sha)
	if err != nil {
		return nil, err
	}
	dbRepo, err := s.store.Repository(ctx, repo.Owner, repo.Name)
	if err != nil {
		return nil, err
	}
	if branch, err := s.defaultBranch(ctx, repo); err == nil && ev.ref == "refs/heads/"+branch {
		s.syncWorkflows(ctx, dbRepo, files)
	}
	type parsed struct {
		wf   *workflow.Workflow
		path string
		err  error
	}
	var wfs []parsed
	pathFilters := false
	for _, f := range files {
		if ev.only != "" && path.Clean(ev.only) != f.Path && path.Base(ev.only) != path.Base(f.Path) {
			continue
		}
		wf, perr := workflow.NewParser().Parse(f.Path, f.Data)
		if wf == nil {
			log.Warn("workflow unreadable", "workflow", f.Path, "error", perr)
			continue
		}
		wfs = append(wfs, parsed{wf, f.Path, perr})
		s.remember(name, ev.sha, f.Path, f.Data)
		if e := wf.Event(ev.name); e != nil && (e.Paths != nil || e.PathsIgnore != nil) {
			pathFilters = true
		}
	}
	// The changed files, only when a path filter needs them.
	if pathFilters && (ev.name == "push" || strings.HasPrefix(ev.name, "pull_request") && ev.before != "") {
		changed, err := s.mirrors.Changed(ctx, name, ev.before, ev.sha)
		if err != nil {
			log.Warn("changed files unknown; path filters not applied", "error", err)
		} else {
			ev.trigger.Files = changed
		}
	}
	var runs []store.Run
	for _, p := range wfs {
		wf, perr, f := p.wf, p.err, mirror.File{Path: p.path}
		if !s.starts(wf, ev) {
			continue
		}
		run, err := s.createRun(ctx, dbRepo, wf, f.Path, ev, perr)
		if err != nil {
			return runs, err
		}
		log.Info("run queued", "run_id", run.ID, "workflow", f.Path, "sha", ev.sha)
		runs = append(runs, run)
	}
	if len(runs) > 0 {
		s.signal()
	}
	return runs, nil
}

// starts reports whether wf runs for ev.
func (s *Server) starts(wf *workflow.Workflow, ev event) bool {
	switch {
	case ev.cron != "":
		e := wf.Event("schedule")
		if e == nil {
			return false
		}
		for _, c := range e.Schedules {
			if c.Value == ev.cron {
				return true
			}
		}
		return false
	case ev.only != "":
		return wf.Event("workflow_dispatch") != nil
	}
	return wf.Matches(ev.trigger)
}

// createRun queues a run of wf for ev. A workflow GitHub would refuse
// (perr) gets a run that fails at once, as GitHub shows one.
func (s *Server) createRun(ctx context.Context, repo store.Repository, wf *workflow.Workflow, file string, ev event, perr error) (store.Run, error) {
	title := ev.title
	if title == "" {
		title = wfName(wf, file)
	}
	n := store.NewRun{RepoID: repo.ID, WorkflowPath: file, WorkflowName: wfName(wf, file), Event: ev.name,
		HeadSHA: ev.sha, HeadBranch: ev.branch, Ref: ev.ref, Actor: ev.actor, DisplayTitle: title,
		Payload: ev.payload, Inputs: ev.inputs}
	var cancelInProgress bool
	if perr == nil && wf.Concurrency != nil && wf.Concurrency.Group != nil {
		scope := &expr.Scope{Contexts: s.contexts(repo, store.Run{Event: ev.name, HeadSHA: ev.sha, Ref: ev.ref,
			Actor: ev.actor, Payload: ev.payload, Inputs: ev.inputs, WorkflowPath: file, WorkflowName: n.WorkflowName}, "", nil, nil)}
		if t, err := expr.ParseTemplate(wf.Concurrency.Group.Value); err == nil {
			if g, err := t.Eval(scope); err == nil {
				n.Concurrency = g
			}
		}
		if c := wf.Concurrency.CancelInProgress; c != nil {
			cancelInProgress = c.Value
			if c.IsExpr() {
				if p, err := expr.Compile(c.Expr); err == nil {
					v, _ := p.Eval(scope)
					cancelInProgress = expr.Truthy(v)
				}
			}
		}
	}
	if n.Concurrency != "" {
		s.supersede(ctx, repo.ID, n.Concurrency, cancelInProgress)
	}
	run, err := s.store.CreateRun(ctx, n)
	if err != nil {
		return run, err
	}
	if perr != nil {
		s.failInvalid(ctx, run, perr)
	}
	return run, nil
}

// supersede applies a new run's concurrency group to the runs already in
// it: a pending run is cancelled (a group holds one running and one
// pending), and with cancel-in-progress the running one too
// (https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency).
func (s *Server) supersede(ctx context.Context, repoID int64, group string, cancelInProgress bool) {
	runs, err := s.store.ListRuns(ctx, store.RunFilter{RepoID: repoID, Concurrency: group})
	if err != nil {
		return
	}
	for _, r := range runs {
		if r.Status == store.Queued || r.Status == store.InProgress && cancelInProgress {
			s.log.Info("run cancelled by a newer run in its concurrency group", "run_id", r.ID, "group", group)
			_ = s.Control().Cancel(ctx, r, false)
		}
	}
}

// failInvalid concludes a run of a workflow GitHub would refuse.
func (s *Server) failInvalid(ctx context.Context, run store.Run, perr error) {
	job, err := s.store.CreateJob(ctx, store.Job{RunID: run.ID, Attempt: run.Attempt, Key: "workflow", Name: "Invalid workflow file",
		Status: store.Completed, Conclusion: store.Failure, StartedAt: s.now(), CompletedAt: s.now()})
	if err == nil {
		_ = s.store.AddAnnotation(ctx, store.Annotation{JobID: job.ID, Level: "failure", Message: perr.Error(), Path: run.WorkflowPath})
	}
	_ = s.store.CompleteRun(ctx, run.ID, store.Failure)
}

func wfName(wf *workflow.Workflow, file string) string {
	if wf != nil && wf.Name != nil && wf.Name.Value != "" {
		return wf.Name.Value
	}
	return file
}

// contexts are the contexts a run starts with: github (with the run's
// event), inputs, vars and secrets. root is the run's checkout.
func (s *Server) contexts(repo store.Repository, run store.Run, root string, vars, secrets map[string]any) map[string]any {
	var payload any = expr.NewObject(0)
	if len(run.Payload) > 0 {
		if v, err := expr.ParseJSON(string(run.Payload)); err == nil {
			payload = v
		}
	}
	inputs := expr.NewObject(0)
	if len(run.Inputs) > 0 {
		if v, err := expr.ParseJSON(string(run.Inputs)); err == nil {
			if o, ok := v.(*expr.Object); ok {
				inputs = o
			}
		}
	}
	ref := run.Ref
	gh := exec.GitHubContext(exec.GitHubOptions{EventName: run.Event, Event: payload,
		Repo:     exec.Repo{Root: root, SHA: run.HeadSHA, Ref: ref, Repository: repo.FullName()},
		Workflow: run.WorkflowName, WorkflowFile: run.WorkflowPath, RunID: strconv.FormatInt(run.ID, 10),
		RunNumber: int(run.RunNumber), Actor: run.Actor, ServerURL: s.baseURL, APIURL: s.apiURL()})
	gh.Set("ref", ref)
	gh.Set("sha", run.HeadSHA)
	gh.Set("ref_name", shortRef(ref))
	gh.Set("run_attempt", strconv.FormatInt(max(run.Attempt, 1), 10))
	if vars == nil {
		vars = map[string]any{}
	}
	if secrets == nil {
		secrets = map[string]any{}
	}
	return map[string]any{"github": gh, "inputs": inputs, "vars": vars, "secrets": secrets}
}

func (s *Server) apiURL() string {
	if s.baseURL == "" {
		return ""
	}
	return s.baseURL + "/api/v3"
}

// fullRef makes a branch name a full ref; full refs stay.
func fullRef(ref string) string {
	if ref == "" || strings.HasPrefix(ref, "refs/") {
		return ref
	}
	return "refs/heads/" + ref
}

// shortRef is a ref's branch or tag name.
func shortRef(ref string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if n, ok := strings.CutPrefix(ref, p); ok {
			return n
		}
	}
	return ref
}

// invalidRefError is a ref the repository does not have.
type invalidRefError struct{ ref string }

func (e *invalidRefError) Error() string { return "No ref found for: " + shortRef(e.ref) }

var errUnknownRepo = errors.New("repository not served")

func unknownRepo(name string) error { return fmt.Errorf("%w: %s", errUnknownRepo, name) }

// syncWorkflows records the default branch's workflows, which the API
// lists and dispatches (gh workflow list, gh workflow run).
func (s *Server) syncWorkflows(ctx context.Context, repo store.Repository, files []mirror.File) {
	for _, f := range files {
		wf, _ := workflow.NewParser().Parse(f.Path, f.Data)
		if _, err := s.store.PutWorkflow(ctx, repo.ID, f.Path, wfName(wf, f.Path)); err != nil {
			s.log.Warn("record a workflow", "workflow", f.Path, "error", err)
		}
	}
}

// syncRepo fetches a repository and records its default branch's
// workflows, at start.
func (s *Server) syncRepo(ctx context.Context, repo *Repo) error {
	if err := s.mirrors.Fetch(ctx, repo.FullName(), repo.Remote); err != nil {
		return err
	}
	branch, err := s.defaultBranch(ctx, repo)
	if err != nil {
		return err
	}
	name := repo.FullName()
	sha, err := s.mirrors.Resolve(ctx, name, "refs/heads/"+branch)
	if err != nil {
		return err
	}
	files, err := s.mirrors.Workflows(ctx, name, sha)
	if err != nil {
		return err
	}
	dbRepo, err := s.store.Repository(ctx, repo.Owner, repo.Name)
	if err != nil {
		return err
	}
	if dbRepo.DefaultBranch != branch {
		dbRepo.DefaultBranch = branch
		if dbRepo, err = s.store.PutRepository(ctx, dbRepo); err != nil {
			return err
		}
	}
	s.syncWorkflows(ctx, dbRepo, files)
	return nil
}
