package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/workflow"
)

// Control returns the run control the REST API drives.
func (s *Server) Control() api.Control { return control{s} }

type control struct{ s *Server }

var _ api.Control = control{}

// Cancel cancels a run. A running one stops as GitHub stops it: the
// current steps are interrupted and steps with always() or cancelled()
// still run; force stops those too. A queued one concludes at once.
func (c control) Cancel(ctx context.Context, run store.Run, force bool) error {
	s := c.s
	if s.cancelLocal(run.ID, force) {
		return nil
	}
	fresh, err := s.store.Run(ctx, run.ID)
	if err != nil {
		return err
	}
	switch fresh.Status {
	case store.Completed:
		return fmt.Errorf("run %d is completed: %w", run.ID, store.ErrConflict)
	case store.InProgress:
		// Held by another host sharing the database: it reads the request
		// within its poll interval and cancels the run there.
		if err := s.store.RequestCancel(ctx, run.ID, force); err != nil {
			return err
		}
		s.log.Info("run cancel requested from its host", "run_id", run.ID, "host", fresh.LeaseHost, "force", force)
		return nil
	}
	ok, err := s.store.CancelQueued(ctx, run.ID)
	if err != nil {
		return err
	}
	if !ok {
		// Claimed (here or by another host) since it was read.
		if s.cancelLocal(run.ID, force) {
			return nil
		}
		if err := s.store.RequestCancel(ctx, run.ID, force); err != nil {
			return err
		}
		return nil
	}
	s.metrics.runs.WithLabelValues(string(store.Cancelled)).Inc()
	s.report(ctx, fresh, store.Cancelled)
	return nil
}

// Rerun queues the run's next attempt; with failedOnly, the jobs that
// succeeded are carried over rather than run again.
func (c control) Rerun(ctx context.Context, run store.Run, actor string, failedOnly bool) error {
	if _, err := c.s.store.NewAttempt(ctx, run.ID, actor, failedOnly); err != nil {
		return err
	}
	c.s.signal()
	return nil
}

// Dispatch queues a workflow_dispatch run of d.Workflow at d.Ref, with
// inputs checked and typed as GitHub's API checks them.
func (c control) Dispatch(ctx context.Context, d api.Dispatch) (store.Run, error) {
	s := c.s
	repo, ok := s.repo(d.Repo.FullName())
	if !ok {
		return store.Run{}, unknownRepo(d.Repo.FullName())
	}
	name := repo.FullName()
	if err := s.mirrors.Fetch(ctx, name, repo.Remote); err != nil {
		return store.Run{}, err
	}
	ref := fullRef(d.Ref)
	sha, err := s.mirrors.Resolve(ctx, name, ref)
	if err != nil {
		// A bare name may be a tag.
		if !strings.HasPrefix(d.Ref, "refs/") {
			ref = "refs/tags/" + d.Ref
			sha, err = s.mirrors.Resolve(ctx, name, ref)
		}
		if err != nil {
			return store.Run{}, &api.InvalidError{Message: "No ref found for: " + d.Ref}
		}
	}
	data, err := s.mirrors.ReadFile(ctx, name, sha, d.Workflow.Path)
	if err != nil {
		return store.Run{}, &api.InvalidError{Message: "Workflow does not exist at " + d.Ref}
	}
	wf, err := workflow.NewParser().Parse(d.Workflow.Path, data)
	if wf == nil {
		return store.Run{}, &api.InvalidError{Message: err.Error()}
	}
	if wf.Event("workflow_dispatch") == nil {
		return store.Run{}, &api.InvalidError{Message: "Workflow does not have 'workflow_dispatch' trigger"}
	}
	inputs, err := api.ValidateInputs(wf, d.Inputs)
	if err != nil {
		return store.Run{}, err
	}
	rawInputs, _ := json.Marshal(inputs)
	dbRepo, err := s.store.Repository(ctx, repo.Owner, repo.Name)
	if err != nil {
		return store.Run{}, err
	}
	// The payload of a workflow_dispatch event
	// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_dispatch).
	payload, _ := json.Marshal(map[string]any{"inputs": json.RawMessage(rawInputs), "ref": ref,
		"repository": repoPayload(dbRepo), "sender": map[string]any{"login": d.Actor}, "workflow": d.Workflow.Path})
	ev := event{name: "workflow_dispatch", sha: sha, ref: ref, branch: shortRef(ref), actor: d.Actor,
		payload: payload, inputs: rawInputs}
	run, err := s.createRun(ctx, dbRepo, wf, d.Workflow.Path, ev, nil)
	if err != nil {
		return run, err
	}
	s.log.Info("run queued", "run_id", run.ID, "workflow", d.Workflow.Path, "event", "workflow_dispatch")
	s.signal()
	return run, nil
}

// RepositoryDispatch starts the default branch's workflows that listen
// for repository_dispatch of eventType.
func (c control) RepositoryDispatch(ctx context.Context, r store.Repository, eventType string, clientPayload json.RawMessage, actor string) error {
	s := c.s
	repo, ok := s.repo(r.FullName())
	if !ok {
		return unknownRepo(r.FullName())
	}
	if len(clientPayload) == 0 {
		clientPayload = json.RawMessage("{}")
	}
	branch, err := s.defaultBranch(ctx, repo)
	if err != nil {
		return err
	}
	// https://docs.github.com/en/webhooks/webhook-events-and-payloads#repository_dispatch
	payload, err := json.Marshal(map[string]any{"action": eventType, "branch": branch, "client_payload": clientPayload,
		"repository": repoPayload(r), "sender": map[string]any{"login": actor}})
	if err != nil {
		return err
	}
	ev := event{name: "repository_dispatch", ref: "refs/heads/" + branch, branch: branch, actor: actor,
		payload: payload, trigger: workflow.Trigger{Event: "repository_dispatch", Action: eventType}}
	_, err = s.queue(ctx, repo, ev, nil)
	var bad *invalidRefError
	if errors.As(err, &bad) {
		return &api.InvalidError{Message: bad.Error()}
	}
	return err
}

// repoPayload is the repository object of an event payload.
func repoPayload(r store.Repository) map[string]any {
	return map[string]any{"name": r.Name, "full_name": r.FullName(), "owner": map[string]any{"login": r.Owner},
		"default_branch": r.DefaultBranch, "clone_url": r.CloneURL}
}
