package api

import (
	"context"
	"encoding/json"

	"github.com/vermont-ci/vermont/server/store"
)

// Control changes runs on behalf of the API: the server's queue and the
// hosts running its runs.
type Control interface {
	// Cancel cancels run as GitHub does (always() steps still run), or at
	// once with force (GitHub's force-cancel). A completed run is
	// store.ErrConflict.
	Cancel(ctx context.Context, run store.Run, force bool) error
	// Rerun queues a new attempt of run, of its failed jobs only with
	// failedOnly. A run not completed is store.ErrConflict.
	Rerun(ctx context.Context, run store.Run, actor string, failedOnly bool) error
	// Dispatch queues a workflow_dispatch run and returns it.
	Dispatch(ctx context.Context, d Dispatch) (store.Run, error)
	// RepositoryDispatch delivers a repository_dispatch event.
	RepositoryDispatch(ctx context.Context, repo store.Repository, eventType string, clientPayload json.RawMessage, actor string) error
}

// Dispatch is a workflow_dispatch request
// (https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event).
type Dispatch struct {
	Repo     store.Repository
	Workflow store.Workflow
	Ref      string         // as given: a branch, a tag or a full ref
	Inputs   map[string]any // as given; the Control validates them against the workflow at Ref (ValidateInputs)
	Actor    string
}

// InvalidError is a request GitHub answers with 422 Unprocessable Entity,
// with Message as the body's message. A Control returns it for a dispatch
// that GitHub would refuse (an unknown ref, a workflow without
// workflow_dispatch, inputs that do not fit).
type InvalidError struct {
	Message string
}

func (e *InvalidError) Error() string { return e.Message }
