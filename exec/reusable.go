package exec

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// maxWorkflowDepth is GitHub's limit on nested reusable workflows: "You can
// connect a maximum of ten levels of workflows", the caller included.
const maxWorkflowDepth = 10

// runReusable runs a job that calls a reusable workflow: its jobs run
// through a scheduler of their own, shown as "caller / called".
func (r *Runner) runReusable(ctx context.Context, job *schedule.Job) schedule.Outcome {
	name := r.prefix + job.Name
	fail := func(format string, args ...any) schedule.Outcome {
		r.emit(Event{Kind: JobStarted, Job: name})
		r.emit(Event{Kind: Log, Job: name, Level: "error", Line: fmt.Sprintf(format, args...)})
		r.emit(Event{Kind: JobFinished, Job: name, Result: Failure})
		return schedule.Outcome{Result: Failure}
	}
	uses := job.Def.Uses.Value
	if r.depth+1 >= maxWorkflowDepth {
		return fail("%s: reusable workflows are nested more than %d levels deep", uses, maxWorkflowDepth)
	}
	if r.resolver == nil {
		return fail("cannot call %s: no workflow resolver is configured", uses)
	}
	root := ""
	if r.hasRepo {
		var err error
		if root, err = r.repoTree(ctx); err != nil {
			return fail("%s: %v", uses, err)
		}
	}
	called, err := r.resolver.Workflow(ctx, uses, root)
	if err != nil {
		return fail("%v", err)
	}
	call := called.Event("workflow_call")
	if call == nil {
		return fail("%s is not a reusable workflow: it has no on.workflow_call", uses)
	}
	// The caller job's own scope, without steps (a calling job has none).
	caller := &jobRun{r: r, job: job, name: name, env: map[string]string{}, steps: expr.NewObject(0)}
	caller.github = caller.githubContext()
	scope := caller.scope(nil, "")
	inputs, err := callInputs(caller, call, job.Def.With, scope)
	if err != nil {
		return fail("%s: %v", uses, err)
	}
	secrets, err := callSecrets(caller, call, job.Def.Secrets, scope)
	if err != nil {
		return fail("%s: %v", uses, err)
	}
	contexts := map[string]any{"github": job.Contexts["github"], "vars": job.Contexts["vars"], "inputs": inputs, "secrets": secrets}
	plan, err := schedule.NewPlan(called, schedule.WithContexts(contexts))
	if err != nil {
		return fail("%v", err)
	}
	nested := *r
	nested.prefix = name + " / "
	nested.depth = r.depth + 1
	res := schedule.New(schedule.WithForceStop(r.force)).Run(ctx, plan, &nested)

	jobs := map[string]any{}
	for id, o := range res.Jobs {
		outs := map[string]any{}
		for k, v := range o.Outputs {
			outs[k] = v
		}
		jobs[id] = map[string]any{"result": string(o.Result), "outputs": outs}
	}
	outScope := &expr.Scope{Contexts: map[string]any{"jobs": jobs, "inputs": inputs, "github": job.Contexts["github"], "vars": job.Contexts["vars"]}}
	outputs := map[string]string{}
	for _, o := range call.Outputs {
		if o.Value == nil {
			continue
		}
		v, err := caller.evalString(o.Value.Value, outScope)
		if err != nil {
			r.emit(Event{Kind: Log, Job: name, Level: "warning", Line: fmt.Sprintf("outputs.%s: %v", o.Name.Value, err)})
			continue
		}
		outputs[o.Name.Value] = v
	}
	return schedule.Outcome{Result: res.Result, Outputs: outputs}
}

// callInputs checks with: against on.workflow_call.inputs (names, types,
// required) and applies defaults.
func callInputs(j *jobRun, call *workflow.Event, with *workflow.StringMap, scope *expr.Scope) (map[string]any, error) {
	given := map[string]any{}
	if with != nil {
		for _, kv := range with.Entries {
			src := kv.Value.Value
			var v any = src
			if strings.Contains(src, "${{") {
				t, err := j.r.template(src)
				if err != nil {
					return nil, fmt.Errorf("with.%s: %w", kv.Key.Value, err)
				}
				if v, err = t.EvalValue(scope); err != nil {
					return nil, fmt.Errorf("with.%s: %w", kv.Key.Value, err)
				}
			}
			given[strings.ToLower(kv.Key.Value)] = v
		}
	}
	inputs := map[string]any{}
	for _, in := range call.Inputs {
		key := strings.ToLower(in.Name.Value)
		typ := "string"
		if in.Type != nil {
			typ = in.Type.Value
		}
		v, ok := given[key]
		delete(given, key)
		if !ok {
			if in.Required != nil && in.Required.Value && in.Default == nil {
				return nil, fmt.Errorf("input %q is required", in.Name.Value)
			}
			if in.Default == nil {
				v = zeroOf(typ)
				inputs[in.Name.Value] = v
				continue
			}
			d, err := j.evalString(in.Default.Value, scope)
			if err != nil {
				return nil, fmt.Errorf("input %q default: %w", in.Name.Value, err)
			}
			v = d
		}
		cv, err := coerceInput(v, typ)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name.Value, err)
		}
		inputs[in.Name.Value] = cv
	}
	for k := range given {
		return nil, fmt.Errorf("input %q is not defined in the called workflow's on.workflow_call.inputs", k)
	}
	return inputs, nil
}

func zeroOf(typ string) any {
	switch typ {
	case "boolean":
		return false
	case "number":
		return float64(0)
	}
	return ""
}

// coerceInput converts a value to an input's declared type.
func coerceInput(v any, typ string) (any, error) {
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("want a boolean, got %q", expr.ToString(v))
	case "number":
		switch x := v.(type) {
		case float64:
			return x, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("want a number, got %q", expr.ToString(v))
	}
	return expr.ToString(v), nil
}

// callSecrets passes secrets to the called workflow: all of them with
// `secrets: inherit`, else the ones mapped, checked against what the called
// workflow declares as required.
func callSecrets(j *jobRun, call *workflow.Event, s *workflow.WorkflowSecrets, scope *expr.Scope) (map[string]any, error) {
	out := map[string]any{}
	callerSecrets, _ := j.job.Contexts["secrets"].(map[string]any)
	if s != nil && s.Inherit {
		for k, v := range callerSecrets {
			out[k] = v
		}
	} else if s != nil {
		vals, err := j.evalMap(s.Values, scope)
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		for k, v := range vals {
			out[k] = v
		}
	}
	for _, sec := range call.Secrets {
		if sec.Required == nil || !sec.Required.Value {
			continue
		}
		found := false
		for k := range out {
			if strings.EqualFold(k, sec.Name.Value) {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("secret %q is required by the called workflow", sec.Name.Value)
		}
	}
	if _, ok := out["GITHUB_TOKEN"]; !ok {
		if t, ok := callerSecrets["GITHUB_TOKEN"]; ok {
			out["GITHUB_TOKEN"] = t
		}
	}
	return out, nil
}
