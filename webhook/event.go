package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	gh "github.com/google/go-github/v88/github"
)

// JobEvent is a workflow_job delivery, reduced to what the pool needs.
// See GitHub's "Webhook events and payloads" → workflow_job.
type JobEvent struct {
	// Action is what happened: "queued", "in_progress", "completed" or
	// "waiting".
	Action string
	// JobID and RunID identify the job and its workflow run.
	JobID, RunID int64
	// Labels are the job's runs-on labels.
	Labels []string
	// RunnerID and RunnerName name the runner that picked the job up; they
	// are zero while the job is queued.
	RunnerID   int64
	RunnerName string
	// Repo is the repository's "owner/name".
	Repo string
	// Org is the organization login, "" for repositories owned by a user.
	Org string
	// DeliveryID is the X-GitHub-Delivery header, "" if GitHub sent none.
	DeliveryID string
}

// JobHandler consumes workflow_job events; PoolHandler makes one for a pool.
// HandleJob runs within the webhook request and GitHub waits at most ten
// seconds for the response, so it should record the event and return. An
// error makes the delivery fail with 500, so GitHub's redelivery can retry
// it.
type JobHandler interface {
	HandleJob(ctx context.Context, ev JobEvent) error
}

// errPayload marks a workflow_job payload the handler refuses with 400.
var errPayload = errors.New("bad workflow_job payload")

// decodeJob turns a workflow_job payload into a JobEvent. Its errors wrap
// errPayload and say what is wrong, with the byte offset for JSON syntax
// errors.
func decodeJob(payload []byte, delivery string) (JobEvent, error) {
	var ev gh.WorkflowJobEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return JobEvent{}, fmt.Errorf("%w: malformed JSON at byte %d: %v", errPayload, syn.Offset, syn)
		case errors.As(err, &typ):
			return JobEvent{}, fmt.Errorf("%w: field %q at byte %d: want %s, got JSON %s", errPayload, typ.Field, typ.Offset, typ.Type, typ.Value)
		default:
			return JobEvent{}, fmt.Errorf("%w: malformed JSON: %v", errPayload, err)
		}
	}
	if ev.GetAction() == "" {
		return JobEvent{}, fmt.Errorf("%w: missing \"action\"", errPayload)
	}
	job := ev.GetWorkflowJob()
	if job == nil || job.ID == nil {
		return JobEvent{}, fmt.Errorf("%w: missing \"workflow_job.id\"", errPayload)
	}
	out := JobEvent{
		Action:     ev.GetAction(),
		JobID:      job.GetID(),
		RunID:      job.GetRunID(),
		Labels:     job.Labels,
		RunnerID:   job.GetRunnerID(),
		RunnerName: job.GetRunnerName(),
		Repo:       repoName(ev.GetRepo()),
		Org:        ev.GetOrg().GetLogin(),
		DeliveryID: delivery,
	}
	return out, nil
}

// repoName returns "owner/name", from full_name when GitHub sent it.
func repoName(r *gh.Repository) string {
	if r == nil {
		return ""
	}
	if full := r.GetFullName(); full != "" {
		return full
	}
	if r.GetName() == "" {
		return ""
	}
	return r.GetOwner().GetLogin() + "/" + r.GetName()
}

// JobHandlerFunc adapts a function to a JobHandler.
type JobHandlerFunc func(ctx context.Context, ev JobEvent) error

// HandleJob calls f.
func (f JobHandlerFunc) HandleJob(ctx context.Context, ev JobEvent) error { return f(ctx, ev) }
