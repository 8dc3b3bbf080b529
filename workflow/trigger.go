package workflow

import (
	"strings"
)

// Trigger is what the filters of on.<event> are applied to: the event
// name, its activity type, and the ref and files it concerns.
type Trigger struct {
	Event  string // push, pull_request, workflow_run, …
	Action string // activity type (the payload's "action"), "" if none
	// Ref is the full ref the filters apply to: for push the pushed ref
	// (refs/heads/main, refs/tags/v1); for pull_request(_target) the base
	// branch; for workflow_run the head branch. A bare name is taken as a
	// branch.
	Ref string
	// Files are the changed paths for path filters; nil means unknown, and
	// path filters are then not applied.
	Files []string
	// Workflow is the name of the workflow that ran, for workflow_run.
	Workflow string
}

// defaultTypes are the activity types that trigger a workflow when on.<event>
// gives no types; other events run for every type.
var defaultTypes = map[string][]string{
	"pull_request":        {"opened", "synchronize", "reopened"},
	"pull_request_target": {"opened", "synchronize", "reopened"},
}

// Triggered reports whether the workflow runs for a webhook event with the
// given payload (as decoded from JSON). See [TriggerFromPayload] and
// [Workflow.Matches].
func (w *Workflow) Triggered(event string, payload map[string]any) bool {
	return w.Matches(TriggerFromPayload(event, payload))
}

// Matches reports whether the workflow runs for t, applying GitHub's
// filters: activity types, branches/tags with their -ignore forms, paths
// and workflows. https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onpushpull_requestpull_request_targetpathspaths-ignore
func (w *Workflow) Matches(t Trigger) bool {
	e := w.Event(t.Event)
	if e == nil {
		return false
	}
	if !typeMatches(e, t.Action) {
		return false
	}
	if e.Name.Value == "workflow_run" && len(e.Workflows) > 0 && !containsString(e.Workflows, t.Workflow) {
		return false
	}
	if !refMatches(e, t.Ref) {
		return false
	}
	if strings.HasPrefix(t.Ref, "refs/tags/") {
		return true // path filters are not evaluated for pushes of tags
	}
	return pathsMatch(e, t.Files)
}

func typeMatches(e *Event, action string) bool {
	if action == "" {
		return true
	}
	if len(e.Types) == 0 {
		def, ok := defaultTypes[e.Name.Value]
		return !ok || contains(def, action)
	}
	return containsString(e.Types, action)
}

// refMatches applies branch and tag filters. When only branch filters are
// given, tag pushes do not run the workflow, and the other way round.
func refMatches(e *Event, ref string) bool {
	hasBranch := e.Branches != nil || e.BranchesIgnore != nil
	hasTag := e.Tags != nil || e.TagsIgnore != nil
	if !hasBranch && !hasTag {
		return true
	}
	if ref == "" {
		return true // nothing to compare: filters cannot exclude
	}
	if name, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		if !hasTag {
			return false
		}
		return includes(e.Tags, e.TagsIgnore, name)
	}
	name := strings.TrimPrefix(ref, "refs/heads/")
	if !hasBranch {
		return false
	}
	return includes(e.Branches, e.BranchesIgnore, name)
}

// includes applies an include filter or an ignore filter to name.
func includes(inc, ignore *Filter, name string) bool {
	if inc != nil {
		return matchFilter(inc.Patterns, name)
	}
	if ignore != nil {
		return !matchFilter(ignore.Patterns, name)
	}
	return true
}

// pathsMatch applies paths (some file must be included) and paths-ignore
// (some file must not be ignored).
func pathsMatch(e *Event, files []string) bool {
	if files == nil || e.Paths == nil && e.PathsIgnore == nil {
		return true
	}
	for _, f := range files {
		if e.Paths != nil && matchFilter(e.Paths.Patterns, f) {
			return true
		}
		if e.Paths == nil && !matchFilter(e.PathsIgnore.Patterns, f) {
			return true
		}
	}
	return false
}

// TriggerFromPayload extracts what the filters need from a webhook payload:
// "action"; for push "ref" and the files added, modified and removed by
// "commits"; for pull_request(_target) "pull_request.base.ref"; for
// workflow_run "workflow_run.name" and "workflow_run.head_branch".
// Pull-request payloads do not list changed files, so path filters are not
// applied for them unless the caller fills in Files.
func TriggerFromPayload(event string, payload map[string]any) Trigger {
	t := Trigger{Event: event}
	t.Action, _ = payload["action"].(string)
	switch event {
	case "push":
		t.Ref, _ = payload["ref"].(string)
		t.Files = pushFiles(payload)
	case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment":
		if base, ok := dig(payload, "pull_request", "base", "ref").(string); ok {
			t.Ref = "refs/heads/" + strings.TrimPrefix(base, "refs/heads/")
		}
	case "workflow_run":
		t.Workflow, _ = dig(payload, "workflow_run", "name").(string)
		if b, ok := dig(payload, "workflow_run", "head_branch").(string); ok {
			t.Ref = "refs/heads/" + b
		}
	}
	return t
}

func pushFiles(payload map[string]any) []string {
	commits, ok := payload["commits"].([]any)
	if !ok {
		return nil
	}
	files := []string{}
	for _, c := range commits {
		cm, _ := c.(map[string]any)
		for _, k := range []string{"added", "modified", "removed"} {
			list, _ := cm[k].([]any)
			for _, f := range list {
				if s, ok := f.(string); ok {
					files = append(files, s)
				}
			}
		}
	}
	return files
}

// dig walks nested maps.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
