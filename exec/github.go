package exec

import (
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/workflow/expr"
)

// GitHubOptions are what the github context of a local run is made from.
type GitHubOptions struct {
	EventName    string
	Event        any // the webhook payload (--event-path): an *expr.Object (expr.ParseJSON keeps its key order) or a map[string]any; nil for none
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
// local repository. Its keys are in the order of the contexts reference's
// example, the payload's in their own.
func GitHubContext(o GitHubOptions) *expr.Object {
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
	if _, isObject := expr.ObjectFields(event); !isObject {
		event = expr.NewObject(0)
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
	if r, ok := dig(event, "ref").(string); ok && r != "" {
		ref = r
	}
	if s, ok := dig(event, "after").(string); ok && s != "" {
		sha = s
	}
	if pr := dig(event, "pull_request"); pr != nil {
		if n, ok := dig(event, "number").(float64); ok {
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
	g := expr.NewObject(48)
	for _, kv := range []struct {
		k string
		v any
	}{
		{"token", o.Token}, {"job", ""}, {"ref", ref}, {"sha", sha},
		{"repository", repository}, {"repository_id", "0"}, {"repository_owner", owner}, {"repository_owner_id", "0"},
		{"repositoryUrl", "git://" + strings.TrimPrefix(strings.TrimPrefix(o.ServerURL, "https://"), "http://") + "/" + repository + ".git"},
		{"run_id", o.RunID}, {"run_number", strconv.Itoa(o.RunNumber)}, {"retention_days", "90"}, {"run_attempt", "1"},
		{"actor", o.Actor}, {"actor_id", "0"}, {"triggering_actor", o.Actor},
		{"workflow", o.Workflow}, {"workflow_ref", workflowRef}, {"workflow_sha", sha},
		{"head_ref", headRef}, {"base_ref", baseRef}, {"event_name", o.EventName}, {"event", event},
		{"server_url", o.ServerURL}, {"api_url", o.APIURL}, {"graphql_url", o.APIURL + "/graphql"},
		{"ref_name", refName}, {"ref_protected", false}, {"ref_type", refType}, {"secret_source", "None"},
		{"workspace", o.Repo.Root}, {"action", ""}, {"event_path", o.EventPath},
		{"action_repository", ""}, {"action_ref", ""}, {"action_path", ""}, {"action_status", ""},
		{"path", ""}, {"env", ""},
	} {
		g.Set(kv.k, kv.v)
	}
	return g
}

// dig follows keys through nested objects; anything missing is nil.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		v, _ = expr.Field(v, k)
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
