package workflow

import (
	"gopkg.in/yaml.v3"
)

var (
	jobKeys = []string{"name", "needs", "runs-on", "if", "env", "defaults", "outputs", "strategy",
		"continue-on-error", "timeout-minutes", "container", "services", "environment",
		"permissions", "concurrency", "steps", "uses", "with", "secrets", "snapshot"}
	// callerKeys are the keys a job calling a reusable workflow may use.
	// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_iduses
	callerKeys = []string{"name", "uses", "with", "secrets", "needs", "if", "permissions", "strategy", "concurrency"}
	stepKeys   = []string{"id", "name", "if", "uses", "run", "shell", "with", "env", "working-directory",
		"continue-on-error", "timeout-minutes"}
	containerKeys = []string{"image", "credentials", "env", "ports", "volumes", "options"}
)

// jobs reads jobs:.
func (w *walker) jobs(n *yaml.Node) []*Job {
	var out []*Job
	w.mapping(n, "jobs", nil, func(id *String, v *yaml.Node) {
		w.checkID(id, "job")
		out = append(out, w.job(id, v))
	})
	return out
}

// job reads jobs.<job_id>.
func (w *walker) job(id *String, n *yaml.Node) *Job {
	n = w.resolve(n)
	j := &Job{ID: *id, Pos: posOf(n)}
	what := "jobs." + id.Value
	var keys []*String
	w.mapping(n, what, jobKeys, func(k *String, v *yaml.Node) {
		keys = append(keys, k)
		w.jobKey(j, what, k, v)
	})
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			w.errorf(id.Pos, KindKey, "job %q is empty: it needs runs-on and steps, or uses", id.Value)
		}
		return j
	}
	if j.Uses != nil {
		for _, k := range keys {
			if !contains(callerKeys, k.Value) {
				w.errorf(k.Pos, KindKey, "key %q is not allowed in job %q, which calls a reusable workflow with uses", k.Value, id.Value)
			}
		}
		return j
	}
	for _, k := range keys {
		if k.Value == "with" || k.Value == "secrets" {
			w.errorf(k.Pos, KindKey, "key %q is only allowed in a job that calls a reusable workflow with uses", k.Value)
		}
	}
	if j.RunsOn == nil {
		w.errorf(id.Pos, KindKey, `missing key "runs-on" in job %q: a job needs runs-on (or uses, to call a reusable workflow)`, id.Value)
	}
	if j.Steps == nil {
		w.errorf(id.Pos, KindKey, `missing key "steps" in job %q`, id.Value)
	}
	return j
}

// jobKey reads one key of jobs.<job_id>.
func (w *walker) jobKey(j *Job, what string, k *String, v *yaml.Node) {
	kw := what + "." + k.Value
	key := "jobs.<job_id>." + k.Value
	if k.Value == "defaults" {
		key += ".run" // the table's row; defaults has only run
	}
	defer w.at(key)()
	switch k.Value {
	case "name":
		j.Name = w.str(v, kw)
	case "needs":
		j.Needs = w.stringList(v, kw)
	case "runs-on":
		j.RunsOn = w.runsOn(v, kw)
	case "if":
		j.If = w.cond(v, kw)
	case "env":
		j.Env = w.stringMap(v, kw)
	case "defaults":
		j.Defaults = w.defaults(v, kw)
	case "outputs":
		j.Outputs = w.stringMap(v, kw)
	case "strategy":
		j.Strategy = w.strategy(v, kw)
	case "continue-on-error":
		j.ContinueOnError = w.boolean(v, kw)
	case "timeout-minutes":
		j.TimeoutMinutes = w.number(v, kw)
	case "container":
		j.Container = w.container(v, kw, key)
	case "services":
		j.Services = w.services(v, kw)
	case "environment":
		j.Environment = w.environment(v, kw)
	case "permissions":
		j.Permissions = w.permissions(v)
	case "concurrency":
		j.Concurrency = w.concurrency(v, kw)
	case "steps":
		j.Steps = w.steps(v, kw)
	case "uses":
		j.Uses = w.scalar(v, kw)
	case "with":
		j.With = w.stringMap(v, kw)
	case "secrets":
		j.Secrets = w.workflowSecrets(v, kw)
	case "snapshot":
		w.value(v) // custom runner images; accepted, not modelled
	}
}

// runsOn reads runs-on: a label, a list of labels, or group/labels.
func (w *walker) runsOn(n *yaml.Node, what string) *RunsOn {
	n = w.resolve(n)
	r := &RunsOn{Pos: posOf(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		if s := w.nonEmpty(n, what); s != nil {
			r.Labels = []String{*s}
		}
	case yaml.SequenceNode:
		r.Labels = w.strings(n, what)
		if len(n.Content) == 0 {
			w.errorf(r.Pos, KindValue, "%s must name at least one label", what)
		}
	case yaml.MappingNode:
		w.mapping(n, what, []string{"group", "labels"}, func(k *String, v *yaml.Node) {
			if k.Value == "group" {
				r.Group = w.nonEmpty(v, what+".group")
			} else {
				r.Labels = w.stringList(v, what+".labels")
			}
		})
		if r.Group == nil && len(r.Labels) == 0 {
			w.errorf(r.Pos, KindValue, "%s needs a group or labels", what)
		}
	default:
		w.errorf(r.Pos, KindType, "%s must be a label, a list of labels or a mapping with group and labels", what)
	}
	return r
}

// strategy reads jobs.<job_id>.strategy.
func (w *walker) strategy(n *yaml.Node, what string) *Strategy {
	s := &Strategy{Pos: posOf(w.resolve(n))}
	w.mapping(n, what, []string{"matrix", "fail-fast", "max-parallel"}, func(k *String, v *yaml.Node) {
		switch k.Value {
		case "matrix":
			s.Matrix = w.matrix(v, what+".matrix")
		case "fail-fast":
			s.FailFast = w.boolean(v, what+".fail-fast")
		case "max-parallel":
			s.MaxParallel = w.integer(v, what+".max-parallel")
			if s.MaxParallel != nil && !s.MaxParallel.IsExpr() && s.MaxParallel.Value < 1 {
				w.errorf(s.MaxParallel.Pos, KindValue, "%s.max-parallel must be at least 1", what)
			}
		}
	})
	return s
}

// matrix reads strategy.matrix: an expression, or rows plus include and
// exclude.
func (w *walker) matrix(n *yaml.Node, what string) *Matrix {
	n = w.resolve(n)
	m := &Matrix{Pos: posOf(n)}
	vars := 0
	if e := w.exprScalar(n); e != "" {
		m.Expr = &String{Value: e, Pos: posOf(n), Quoted: isQuoted(n)}
		return m
	}
	if !w.mapping(n, what, nil, func(k *String, v *yaml.Node) {
		switch k.Value {
		case "include":
			m.Include = w.matrixList(v, what+".include", true)
		case "exclude":
			m.Exclude = w.matrixList(v, what+".exclude", true)
		default:
			vars++
			if r := w.matrixList(v, what+"."+k.Value, false); r != nil {
				m.Rows = append(m.Rows, &MatrixRow{Name: *k, Value: r})
			}
		}
	}) {
		return m
	}
	if vars == 0 && (m.Include == nil || m.Include.Kind == SeqValue && len(m.Include.Seq) == 0) {
		w.errorf(m.Pos, KindMatrix, "%s is empty: give it at least one variable with values, or include", what)
	}
	return m
}

// matrixList reads a matrix variable's values or include/exclude: a
// sequence (of mappings, for include/exclude) or an expression.
func (w *walker) matrixList(n *yaml.Node, what string, rows bool) *Value {
	n = w.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && isWholeExpr(n.Value) {
		return w.value(n)
	}
	if n.Kind != yaml.SequenceNode {
		w.errorf(posOf(n), KindMatrix, "%s must be a sequence or an expression, found %s", what, describe(n, what))
		return nil
	}
	v := w.value(n)
	if !rows && len(v.Seq) == 0 {
		w.errorf(v.Pos, KindMatrix, "%s has no values", what)
	}
	for _, e := range v.Seq {
		if rows && e.Kind != MapValue && !(e.Kind == StringValue && isWholeExpr(e.Scalar)) {
			w.errorf(e.Pos, KindMatrix, "elements of %s must be mappings, found a %s", what, e.Kind)
		}
	}
	return v
}

// container reads a job container or service: an image or a mapping.
// base is its context-availability key, jobs.<job_id>.container or
// jobs.<job_id>.services.<service_id>.
func (w *walker) container(n *yaml.Node, what, base string) *Container {
	n = w.resolve(n)
	c := &Container{Pos: posOf(n)}
	if n.Kind == yaml.ScalarNode {
		c.Image = w.str(n, what)
		return c
	}
	w.mapping(n, what, containerKeys, func(k *String, v *yaml.Node) {
		kw := what + "." + k.Value
		defer w.at(base + "." + k.Value)()
		switch k.Value {
		case "image":
			c.Image = w.str(v, kw)
		case "credentials":
			c.Credentials = w.credentials(v, kw)
		case "env":
			c.Env = w.stringMap(v, kw)
		case "ports":
			c.Ports = w.strings(v, kw)
		case "volumes":
			c.Volumes = w.strings(v, kw)
		case "options":
			c.Options = w.str(v, kw)
		}
	})
	if c.Image == nil && n.Kind == yaml.MappingNode {
		w.errorf(c.Pos, KindKey, `missing key "image" in %s`, what)
	}
	return c
}

func (w *walker) credentials(n *yaml.Node, what string) *Credentials {
	c := &Credentials{Pos: posOf(w.resolve(n))}
	w.mapping(n, what, []string{"username", "password"}, func(k *String, v *yaml.Node) {
		if k.Value == "username" {
			c.Username = w.str(v, what+".username")
		} else {
			c.Password = w.str(v, what+".password")
		}
	})
	return c
}

// services reads jobs.<job_id>.services.
func (w *walker) services(n *yaml.Node, what string) []*Service {
	var out []*Service
	w.mapping(n, what, nil, func(k *String, v *yaml.Node) {
		w.checkID(k, "service")
		out = append(out, &Service{Name: *k, Container: w.container(v, what+"."+k.Value, "jobs.<job_id>.services.<service_id>")})
	})
	return out
}

// environment reads jobs.<job_id>.environment: a name or name/url.
func (w *walker) environment(n *yaml.Node, what string) *Environment {
	n = w.resolve(n)
	e := &Environment{Pos: posOf(n)}
	if n.Kind == yaml.ScalarNode {
		e.Name = w.nonEmpty(n, what)
		return e
	}
	if w.mapping(n, what, []string{"name", "url", "deployment"}, func(k *String, v *yaml.Node) {
		switch k.Value {
		case "name":
			e.Name = w.nonEmpty(v, what+".name")
		case "url":
			defer w.at("jobs.<job_id>.environment.url")()
			e.URL = w.str(v, what+".url")
		case "deployment":
			e.Deployment = w.boolean(v, what+".deployment")
		}
	}) && e.Name == nil {
		w.errorf(e.Pos, KindKey, `missing key "name" in %s`, what)
	}
	return e
}

// workflowSecrets reads jobs.<job_id>.secrets: inherit or a mapping.
func (w *walker) workflowSecrets(n *yaml.Node, what string) *WorkflowSecrets {
	n = w.resolve(n)
	s := &WorkflowSecrets{Pos: posOf(n)}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		if n.Value != "inherit" {
			w.errorf(s.Pos, KindValue, `%s must be "inherit" or a mapping of secrets, found %q`, what, n.Value)
		}
		s.Inherit = n.Value == "inherit"
		return s
	}
	s.Values = w.stringMap(n, what)
	return s
}

// steps reads a list of steps.
func (w *walker) steps(n *yaml.Node, what string) []*Step {
	out := []*Step{}
	w.sequence(n, what, func(i int, e *yaml.Node) {
		out = append(out, w.step(e, what))
	})
	if len(out) == 0 && w.resolve(n).Kind == yaml.SequenceNode {
		w.errorf(posOf(w.resolve(n)), KindValue, "%s must have at least one step", what)
	}
	return out
}

// step reads one step.
func (w *walker) step(n *yaml.Node, what string) *Step {
	s := &Step{Pos: posOf(n)}
	var hasRun, hasUses bool
	if !w.mapping(n, what+" element", stepKeys, func(k *String, v *yaml.Node) {
		hasRun = hasRun || k.Value == "run"
		hasUses = hasUses || k.Value == "uses"
		w.stepKey(s, k, v)
	}) || isNull(n) {
		if isNull(n) {
			w.errorf(s.Pos, KindValue, "step is empty: it needs run or uses")
		}
		return s
	}
	switch {
	case s.Uses != nil && s.Run != nil:
		w.errorf(s.Run.Pos, KindKey, `a step cannot have both "uses" and "run"; split it into two steps`)
	case !hasUses && !hasRun:
		w.errorf(s.Pos, KindKey, `a step needs "run" (a command) or "uses" (an action)`)
	case s.Uses != nil:
		if s.Shell != nil {
			w.errorf(s.Shell.Pos, KindKey, `"shell" is only used with "run", not with "uses"`)
		}
		if s.WorkingDirectory != nil {
			w.errorf(s.WorkingDirectory.Pos, KindKey, `"working-directory" is only used with "run", not with "uses"`)
		}
	case s.With != nil:
		w.errorf(s.With.Pos, KindKey, `"with" passes inputs to an action and is only used with "uses", not with "run"`)
	}
	return s
}

// stepKey reads one key of a step.
func (w *walker) stepKey(s *Step, k *String, v *yaml.Node) {
	kw := "step " + k.Value
	defer w.at("jobs.<job_id>.steps." + k.Value)()
	switch k.Value {
	case "id":
		if s.ID = w.scalar(v, kw); s.ID != nil {
			w.checkID(s.ID, "step")
		}
	case "name":
		s.Name = w.str(v, kw)
	case "if":
		s.If = w.cond(v, kw)
	case "uses":
		if s.Uses = w.scalar(v, kw); s.Uses != nil {
			w.checkStepUses(s.Uses)
		}
	case "run":
		s.Run = w.nonEmpty(v, kw)
	case "shell":
		s.Shell = w.nonEmpty(v, kw)
	case "with":
		s.With = w.stringMap(v, kw)
	case "env":
		s.Env = w.stringMap(v, kw)
	case "working-directory":
		s.WorkingDirectory = w.nonEmpty(v, kw)
	case "continue-on-error":
		s.ContinueOnError = w.boolean(v, kw)
	case "timeout-minutes":
		s.TimeoutMinutes = w.number(v, kw)
	}
}
