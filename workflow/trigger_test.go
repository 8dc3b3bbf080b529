package workflow

import (
	"testing"
)

func mustParse(t *testing.T, src string) *Workflow {
	t.Helper()
	wf, err := Parse("t.yml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return wf
}

const triggerJobs = "\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n"

func TestMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		on   string
		t    Trigger
		want bool
	}{
		{"event not listed", "on: push", Trigger{Event: "pull_request"}, false},
		{"string form", "on: push", Trigger{Event: "push", Ref: "refs/heads/x"}, true},
		{"list form", "on: [push, fork]", Trigger{Event: "fork"}, true},
		{"branch glob", "on: {push: {branches: ['releases/**']}}", Trigger{Event: "push", Ref: "refs/heads/releases/1/2"}, true},
		{"star stops at slash", "on: {push: {branches: ['releases/*']}}", Trigger{Event: "push", Ref: "refs/heads/releases/1/2"}, false},
		{"star within segment", "on: {push: {branches: ['releases/*']}}", Trigger{Event: "push", Ref: "refs/heads/releases/v1"}, true},
		{"negation after include", "on: {push: {branches: ['releases/**', '!releases/**-alpha']}}", Trigger{Event: "push", Ref: "refs/heads/releases/2-alpha"}, false},
		{"re-include after negation", "on: {push: {branches: ['releases/**', '!releases/**-alpha', 'releases/1-alpha']}}", Trigger{Event: "push", Ref: "refs/heads/releases/1-alpha"}, true},
		{"branches-ignore", "on: {push: {branches-ignore: ['mona/octocat', 'dev-*']}}", Trigger{Event: "push", Ref: "refs/heads/dev-1"}, false},
		{"branches-ignore other", "on: {push: {branches-ignore: ['dev-*']}}", Trigger{Event: "push", Ref: "refs/heads/main"}, true},
		{"only branches: tags do not run", "on: {push: {branches: [main]}}", Trigger{Event: "push", Ref: "refs/tags/v1"}, false},
		{"only tags: branches do not run", "on: {push: {tags: ['v*']}}", Trigger{Event: "push", Ref: "refs/heads/main"}, false},
		{"tag glob", "on: {push: {tags: ['v[12].[0-9]+.*']}}", Trigger{Event: "push", Ref: "refs/tags/v1.10.3"}, true},
		{"tag class miss", "on: {push: {tags: ['v[12].*']}}", Trigger{Event: "push", Ref: "refs/tags/v3.0"}, false},
		{"tags-ignore", "on: {push: {tags-ignore: ['v1.*']}}", Trigger{Event: "push", Ref: "refs/tags/v1.2"}, false},
		{"question mark: zero or one", "on: {push: {branches: ['feature-?1']}}", Trigger{Event: "push", Ref: "refs/heads/feature1"}, true},
		{"plus: one or more", "on: {push: {branches: ['ab+c']}}", Trigger{Event: "push", Ref: "refs/heads/abbbc"}, true},
		{"plus: not zero", "on: {push: {branches: ['ab+c']}}", Trigger{Event: "push", Ref: "refs/heads/ac"}, false},
		{"paths match", "on: {push: {paths: ['**.go']}}", Trigger{Event: "push", Ref: "refs/heads/main", Files: []string{"README.md", "cmd/x/main.go"}}, true},
		{"paths miss", "on: {push: {paths: ['**.go']}}", Trigger{Event: "push", Ref: "refs/heads/main", Files: []string{"README.md"}}, false},
		{"paths negated", "on: {push: {paths: ['sub/**', '!sub/docs/**']}}", Trigger{Event: "push", Files: []string{"sub/docs/a.md"}}, false},
		{"double star slash matches root", "on: {push: {paths: ['**/README.md']}}", Trigger{Event: "push", Files: []string{"README.md"}}, true},
		{"paths-ignore all ignored", "on: {push: {paths-ignore: ['docs/**']}}", Trigger{Event: "push", Files: []string{"docs/a.md", "docs/b/c.md"}}, false},
		{"paths-ignore one not ignored", "on: {push: {paths-ignore: ['docs/**']}}", Trigger{Event: "push", Files: []string{"docs/a.md", "main.go"}}, true},
		{"paths unknown files", "on: {push: {paths: ['**.go']}}", Trigger{Event: "push", Ref: "refs/heads/main"}, true},
		{"paths not applied to tags", "on: {push: {tags: ['v*'], paths: ['**.go']}}", Trigger{Event: "push", Ref: "refs/tags/v1", Files: []string{"README.md"}}, true},
		{"pr default types", "on: pull_request", Trigger{Event: "pull_request", Action: "labeled"}, false},
		{"pr default types synchronize", "on: pull_request", Trigger{Event: "pull_request", Action: "synchronize"}, true},
		{"pr types", "on: {pull_request: {types: [labeled]}}", Trigger{Event: "pull_request", Action: "labeled"}, true},
		{"pr base branch", "on: {pull_request: {branches: [main]}}", Trigger{Event: "pull_request", Action: "opened", Ref: "refs/heads/dev"}, false},
		{"issues all types by default", "on: issues", Trigger{Event: "issues", Action: "labeled"}, true},
		{"workflow_run name", "on: {workflow_run: {workflows: [Build], types: [completed]}}", Trigger{Event: "workflow_run", Action: "completed", Workflow: "Build"}, true},
		{"workflow_run other", "on: {workflow_run: {workflows: [Build]}}", Trigger{Event: "workflow_run", Action: "completed", Workflow: "Test"}, false},
		{"schedule", "on: {schedule: [{cron: '0 0 * * *'}]}", Trigger{Event: "schedule"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wf := mustParse(t, tt.on+triggerJobs)
			if got := wf.Matches(tt.t); got != tt.want {
				t.Errorf("Matches(%+v) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestTriggered(t *testing.T) {
	t.Parallel()
	wf := mustParse(t, "on:\n  push:\n    branches: [main]\n    paths: ['src/**']\n  pull_request:\n    branches: [main]\n"+triggerJobs)
	tests := []struct {
		name    string
		event   string
		payload map[string]any
		want    bool
	}{
		{"push with matching file", "push", map[string]any{"ref": "refs/heads/main", "commits": []any{
			map[string]any{"added": []any{"README.md"}, "modified": []any{"src/a.go"}}}}, true},
		{"push without matching file", "push", map[string]any{"ref": "refs/heads/main", "commits": []any{
			map[string]any{"modified": []any{"README.md"}}}}, false},
		{"push other branch", "push", map[string]any{"ref": "refs/heads/dev"}, false},
		{"pull request to main", "pull_request", map[string]any{"action": "opened", "pull_request": map[string]any{"base": map[string]any{"ref": "main"}}}, true},
		{"pull request closed", "pull_request", map[string]any{"action": "closed", "pull_request": map[string]any{"base": map[string]any{"ref": "main"}}}, false},
		{"other event", "issues", map[string]any{"action": "opened"}, false},
		{"malformed payload", "push", map[string]any{"ref": 3, "commits": "x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := wf.Triggered(tt.event, tt.payload); got != tt.want {
				t.Errorf("Triggered = %v, want %v", got, tt.want)
			}
		})
	}
}
