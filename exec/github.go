package exec

import (
	"strconv"
	"strings"
)

// GitHubOptions are what the github context of a local run is made from.
type GitHubOptions struct {
	EventName    string
	Event        map[string]any // the webhook payload (--event-path), or empty
	EventPath    string
	Repo         Repo
	Workflow     string // the workflow's name, or its file path when unnamed
	WorkflowFile string // path relative to the repository, e.g. .github/workflows/ci.yml
	RunID        string
	RunNumber    int
	Actor        string
	ServerURL    string // default https://github.com
	APIURL       string // default https://api.github.com
	Token        string // github.token; secret
}

// GitHubContext returns the github context ("Contexts reference", github
// context) for a local run: ref and sha come from the event payload where it
// has them (push: ref/after; pull_request: refs/pull/N/merge), else from the
// local repository.
func GitHubContext(o GitHubOptions) map[string]any {
	if o.ServerURL == "" {
		o.ServerURL = "https://github.com"
	}
	if o.APIURL == "" {
		o.APIURL = "https://api.github.com"
	}
	if o.Actor == "" {
		o.Actor = "vermont"
	}
	if o.RunNumber == 0 {
		o.RunNumber = 1
	}
	event := o.Event
	if event == nil {
		event = map[string]any{}
	}
	repository := o.Repo.Repository
	if r, ok := dig(event, "repository", "full_name").(string); ok && r != "" {
		repository = r
	}
	if repository == "" {
		repository = "local/" + baseName(o.Repo.Root)
	}
	owner, _, _ := strings.Cut(repository, "/")
	ref, sha := o.Repo.Ref, o.Repo.SHA
	headRef, baseRef := "", ""
	if r, ok := event["ref"].(string); ok && r != "" {
		ref = r
	}
	if s, ok := event["after"].(string); ok && s != "" {
		sha = s
	}
	if pr, ok := event["pull_request"].(map[string]any); ok {
		if n, ok := event["number"].(float64); ok {
			ref = "refs/pull/" + strconv.Itoa(int(n)) + "/merge"
		}
		headRef, _ = dig(pr, "head", "ref").(string)
		baseRef, _ = dig(pr, "base", "ref").(string)
		if s, ok := dig(pr, "head", "sha").(string); ok && s != "" {
			sha = s
		}
	}
	refName, refType := ref, ""
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		refName, refType = strings.TrimPrefix(ref, "refs/heads/"), "branch"
	case strings.HasPrefix(ref, "refs/tags/"):
		refName, refType = strings.TrimPrefix(ref, "refs/tags/"), "tag"
	case strings.HasPrefix(ref, "refs/pull/"):
		refName, refType = strings.TrimPrefix(ref, "refs/pull/"), "branch"
	}
	workflowRef := repository + "/" + o.WorkflowFile + "@" + ref
	return map[string]any{
		"action": "", "action_path": "", "action_ref": "", "action_repository": "", "action_status": "",
		"actor": o.Actor, "actor_id": "0", "triggering_actor": o.Actor,
		"api_url": o.APIURL, "graphql_url": o.APIURL + "/graphql", "server_url": o.ServerURL,
		"base_ref": baseRef, "head_ref": headRef,
		"event": event, "event_name": o.EventName, "event_path": o.EventPath,
		"ref": ref, "ref_name": refName, "ref_protected": false, "ref_type": refType,
		"repository": repository, "repository_id": "0", "repository_owner": owner, "repository_owner_id": "0",
		"repositoryUrl":  "git://" + strings.TrimPrefix(strings.TrimPrefix(o.ServerURL, "https://"), "http://") + "/" + repository + ".git",
		"retention_days": "90", "run_id": o.RunID, "run_number": strconv.Itoa(o.RunNumber), "run_attempt": "1",
		"secret_source": "None", "sha": sha, "token": o.Token,
		"workflow": o.Workflow, "workflow_ref": workflowRef, "workflow_sha": sha,
		"workspace": o.Repo.Root, "path": "", "env": "",
	}
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func baseName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
