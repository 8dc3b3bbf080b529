package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/workflow"
)

// dispatchInput is one input of a dispatch form.
type dispatchInput struct {
	Name, Description, Type, Default string
	Required                         bool
	Options                          []string
}

// dispatchForm is the form of a workflow with workflow_dispatch, read at
// the default branch, or nil for one without.
type dispatchForm struct {
	Ref    string
	Inputs []dispatchInput
}

func (u *UI) dispatchForm(ctx context.Context, repo store.Repository, wf store.Workflow) (*dispatchForm, error) {
	branch, err := u.source.DefaultBranch(ctx, repo.FullName())
	if err != nil {
		return nil, err
	}
	parsed, err := u.parseWorkflow(ctx, repo, branch, wf.Path)
	if err != nil {
		return nil, err
	}
	ev := parsed.Event("workflow_dispatch")
	if ev == nil {
		return nil, nil
	}
	form := &dispatchForm{Ref: branch}
	for _, in := range ev.Inputs {
		di := dispatchInput{Name: in.Name.Value, Type: "string"}
		if in.Description != nil {
			di.Description = in.Description.Value
		}
		if in.Type != nil {
			di.Type = in.Type.Value
		}
		if in.Default != nil {
			di.Default = in.Default.Value
		}
		if in.Required != nil {
			di.Required = in.Required.Value
		}
		for _, o := range in.Options {
			di.Options = append(di.Options, o.Value)
		}
		form.Inputs = append(form.Inputs, di)
	}
	return form, nil
}

func (u *UI) parseWorkflow(ctx context.Context, repo store.Repository, rev, path string) (*workflow.Workflow, error) {
	data, err := u.source.WorkflowFile(ctx, repo.FullName(), rev, path)
	if err != nil {
		return nil, err
	}
	wf, err := workflow.NewParser().Parse(path, data)
	if wf == nil {
		return nil, err
	}
	return wf, nil
}

// dispatch queues a workflow_dispatch run from the form: the values are
// checked by the run control as the API checks them (api.ValidateInputs).
// A checkbox sends "false" from a hidden field before it and "true" when
// checked; the last value given counts.
func (u *UI) dispatch(w http.ResponseWriter, r *request) error {
	repo, err := u.repo(r)
	if err != nil {
		return err
	}
	wf, err := u.workflowOf(r.Context(), repo, r.PathValue("file"))
	if err != nil {
		return err
	}
	ref := strings.TrimSpace(r.PostFormValue("ref"))
	if ref == "" {
		return badRequest("Choose the branch or tag to run the workflow from.")
	}
	inputs := map[string]any{}
	for k, vs := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "input."); ok && len(vs) > 0 {
			inputs[name] = vs[len(vs)-1]
		}
	}
	run, err := u.control.Dispatch(r.Context(), api.Dispatch{Repo: repo, Workflow: wf, Ref: ref, Inputs: inputs, Actor: r.s.login})
	if err != nil {
		return err
	}
	u.log.InfoContext(r.Context(), "web: workflow dispatched", "run_id", run.ID, "workflow", wf.Path, "by", r.s.login)
	return u.done(w, r, runPath(repo, run.ID))
}
