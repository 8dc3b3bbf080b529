package workflow

import (
	"gopkg.in/yaml.v3"
)

var workflowKeys = []string{"name", "run-name", "on", "permissions", "env", "defaults", "concurrency", "jobs"}

// workflow reads the top level of a workflow file.
func (w *walker) workflow(root *yaml.Node) *Workflow {
	wf := &Workflow{File: w.file, Pos: posOf(root)}
	var onSeen, jobsSeen bool
	w.inWorkflow = true
	ok := w.mapping(root, "workflow", workflowKeys, func(k *String, v *yaml.Node) {
		defer w.at(k.Value)()
		switch k.Value {
		case "name":
			wf.Name = w.str(v, "name")
		case "run-name":
			wf.RunName = w.str(v, "run-name")
		case "on":
			onSeen = true
			wf.OnPos = posOf(w.resolve(v))
			wf.On = w.events(v)
		case "permissions":
			wf.Permissions = w.permissions(v)
		case "env":
			wf.Env = w.stringMap(v, "env")
		case "defaults":
			wf.Defaults = w.defaults(v, "defaults")
		case "concurrency":
			wf.Concurrency = w.concurrency(v, "concurrency")
		case "jobs":
			jobsSeen = true
			wf.Jobs = w.jobs(v)
		}
	})
	if !ok || isNull(w.resolve(root)) {
		return wf
	}
	if !onSeen {
		w.errorf(wf.Pos, KindKey, `missing key "on": a workflow needs at least one event that triggers it`)
	}
	if !jobsSeen {
		w.errorf(wf.Pos, KindKey, `missing key "jobs": a workflow needs at least one job`)
	} else if len(wf.Jobs) == 0 {
		w.errorf(wf.Pos, KindKey, "jobs must define at least one job")
	}
	w.checkWorkflow(wf)
	return wf
}

var permissionScopes = []string{
	"actions", "artifact-metadata", "attestations", "checks", "contents", "deployments",
	"discussions", "id-token", "issues", "models", "packages", "pages", "pull-requests",
	"repository-projects", "security-events", "statuses",
}

// permissions reads permissions: read-all, write-all, {} or a scope mapping.
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#permissions
func (w *walker) permissions(n *yaml.Node) *Permissions {
	n = w.resolve(n)
	p := &Permissions{Pos: posOf(n)}
	if n.Kind == yaml.ScalarNode {
		p.All = w.str(n, "permissions")
		if p.All != nil && p.All.Value != "read-all" && p.All.Value != "write-all" {
			w.errorf(p.All.Pos, KindValue, `permissions must be "read-all", "write-all" or a mapping of scopes, found %q`, p.All.Value)
		}
		return p
	}
	w.mapping(n, "permissions", nil, func(k *String, v *yaml.Node) {
		if !contains(permissionScopes, k.Value) {
			// GitHub adds scopes (models, artifact-metadata): an unknown
			// one is shown, not refused.
			w.warnf(k.Pos, KindKey, "unknown permission scope %q%s", k.Value, suggest(k.Value, permissionScopes))
		}
		s := w.str(v, "permission "+k.Value)
		if s == nil {
			return
		}
		if s.Value != "read" && s.Value != "write" && s.Value != "none" {
			w.errorf(s.Pos, KindValue, `permission %q must be "read", "write" or "none", found %q`, k.Value, s.Value)
		}
		p.Scopes = append(p.Scopes, KeyValue{Key: *k, Value: *s})
	})
	return p
}

// defaults reads defaults: { run: { shell, working-directory } }.
func (w *walker) defaults(n *yaml.Node, what string) *Defaults {
	d := &Defaults{Pos: posOf(w.resolve(n))}
	w.mapping(n, what, []string{"run"}, func(_ *String, v *yaml.Node) {
		r := &RunDefaults{Pos: posOf(w.resolve(v))}
		w.mapping(v, what+".run", []string{"shell", "working-directory"}, func(k *String, v *yaml.Node) {
			if k.Value == "shell" {
				r.Shell = w.nonEmpty(v, what+".run.shell")
			} else {
				r.WorkingDirectory = w.nonEmpty(v, what+".run.working-directory")
			}
		})
		d.Run = r
	})
	return d
}

// concurrency reads concurrency: a group string, or group,
// cancel-in-progress and queue.
func (w *walker) concurrency(n *yaml.Node, what string) *Concurrency {
	n = w.resolve(n)
	c := &Concurrency{Pos: posOf(n)}
	if n.Kind == yaml.ScalarNode {
		c.Group = w.nonEmpty(n, what)
		return c
	}
	if w.mapping(n, what, []string{"group", "cancel-in-progress", "queue"}, func(k *String, v *yaml.Node) {
		switch k.Value {
		case "group":
			c.Group = w.nonEmpty(v, what+".group")
		case "cancel-in-progress":
			c.CancelInProgress = w.boolean(v, what+".cancel-in-progress")
		default:
			c.Queue = w.scalar(v, what+".queue")
		}
	}) && c.Group == nil {
		w.errorf(c.Pos, KindKey, `missing key "group" in %s`, what)
	}
	w.checkQueue(c, what)
	return c
}

// checkQueue checks concurrency.queue: single or max, and max only while
// cancel-in-progress is false or unset (GitHub, "Control the concurrency of
// workflows and jobs": the combination "is not allowed and results in a
// workflow validation error").
func (w *walker) checkQueue(c *Concurrency, what string) {
	if c.Queue == nil {
		return
	}
	switch c.Queue.Value {
	case "single":
	case "max":
		if ci := c.CancelInProgress; ci != nil && ci.Expr == "" && ci.Value {
			w.errorf(c.Queue.Pos, KindValue, "%s.queue: max cannot be combined with cancel-in-progress: true; a queue keeps pending runs that cancelling would discard", what)
		}
	default:
		w.errorf(c.Queue.Pos, KindValue, `%s.queue must be "single" or "max", found %q%s`, what, c.Queue.Value, suggest(c.Queue.Value, []string{"single", "max"}))
	}
}
