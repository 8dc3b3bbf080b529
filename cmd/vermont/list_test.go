package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	t.Parallel()
	okDir := filepath.Join(workflowTestdata, "ok")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantRows []string // each row's fields, compared after splitting on runs of spaces
		wantErr  string
	}{
		{
			name: "reusable", args: []string{filepath.Join(okDir, "reusable.yml")},
			wantRows: []string{
				"WORKFLOW JOB NAME EVENTS FILE",
				"Reusable example_job - workflow_call " + filepath.Join(okDir, "reusable.yml"),
				"Reusable call-local - workflow_call " + filepath.Join(okDir, "reusable.yml"),
				"Reusable call-self - workflow_call " + filepath.Join(okDir, "reusable.yml"),
				"Reusable call-remote - workflow_call " + filepath.Join(okDir, "reusable.yml"),
			},
		},
		{
			name: "unnamed workflow, list of events", args: []string{filepath.Join(okDir, "triggers.yml")},
			wantRows: []string{
				"WORKFLOW JOB NAME EVENTS FILE",
				filepath.Join(okDir, "triggers.yml") + " one - push,pull_request,workflow_dispatch " + filepath.Join(okDir, "triggers.yml"),
			},
		},
		{
			name: "problems still list what was read", args: []string{filepath.Join(workflowTestdata, "err", "needs.yml")},
			wantCode: 1, wantErr: "which creates a cycle in the dependency graph",
		},
		{name: "actions are skipped", args: []string{filepath.Join(okDir, "action-node.yml")}, wantRows: []string{"WORKFLOW JOB NAME EVENTS FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(t, append([]string{"list"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
			if tt.wantRows == nil {
				return
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(tt.wantRows) {
				t.Fatalf("got %d rows, want %d:\n%s", len(lines), len(tt.wantRows), out)
			}
			for i, l := range lines {
				if got := strings.Join(strings.Fields(l), " "); got != tt.wantRows[i] {
					t.Errorf("row %d = %q, want %q", i, got, tt.wantRows[i])
				}
			}
			// Aligned: every row starts its JOB column at the same offset.
			col := strings.Index(lines[0], "JOB")
			for _, l := range lines[1:] {
				if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
					t.Errorf("row %q is not aligned at column %d", l, col)
				}
			}
		})
	}
}
