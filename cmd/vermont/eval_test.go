package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func evalCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runEval(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestEvalCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctxFile := filepath.Join(dir, "ctx.json")
	evalWriteFile(t, ctxFile, `{
  "github": {"event_name": "push", "ref": "refs/heads/main", "event": {"commits": [{"id": "a"}, {"id": "b"}]}},
  "matrix": {"os": "ubuntu-latest", "node": 18},
  "secrets": {"TOKEN": "s3cr3t-value"}
}`)
	badJSON := filepath.Join(dir, "bad.json")
	evalWriteFile(t, badJSON, `[1, 2]`)
	brokenJSON := filepath.Join(dir, "broken.json")
	evalWriteFile(t, brokenJSON, "{\n  \"github\": {\"ref\": s3cr3t-value}\n}")
	ws := filepath.Join(dir, "ws")
	evalWriteFile(t, filepath.Join(ws, "go.sum"), "sums")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string // substring of stderr
	}{
		{name: "literal", args: []string{"1 == 1"}, wantOut: "true\n"},
		{name: "string", args: []string{"'it''s'"}, wantOut: "\"it's\"\n"},
		{name: "null", args: []string{"null"}, wantOut: "null\n"},
		{name: "number", args: []string{"0xff"}, wantOut: "255\n"},
		{name: "typical if", args: []string{"--context", ctxFile, "github.event_name == 'push' && contains(github.ref, 'refs/heads/main') && matrix.os != 'windows'"}, wantOut: "true\n"},
		{name: "operand value", args: []string{"--context", ctxFile, "matrix.node > 16 && matrix.os"}, wantOut: "\"ubuntu-latest\"\n"},
		{name: "filter", args: []string{"--context", ctxFile, "--", "github.event.commits.*.id"}, wantOut: "[\n  \"a\",\n  \"b\"\n]\n"},
		// toJSON keeps fromJSON's key order, as GitHub does.
		{name: "object", args: []string{"--context", ctxFile, "fromJSON('{\"b\":1,\"a\":[true]}')"}, wantOut: "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}\n"},
		{name: "no context file", args: []string{"github.ref"}, wantOut: "null\n"},
		{name: "status flags", args: []string{"--failed", "failure() && !success()"}, wantOut: "true\n"},
		{name: "cancelled flag", args: []string{"--cancelled", "cancelled()"}, wantOut: "true\n"},
		{name: "hashFiles", args: []string{"--workspace", ws, "hashFiles('*.sum') != ''"}, wantOut: "true\n"},
		{name: "syntax error", args: []string{"github.ref == \"main\""}, wantCode: 1, wantErr: "eval:1:15: unexpected character '\"': strings use single quotes"},
		{name: "unexpected token", args: []string{"github.ref github.sha"}, wantCode: 1, wantErr: "eval:1:12: unexpected token \"github\""},
		{name: "second line", args: []string{"github.ref ==\n  = 1"}, wantCode: 1, wantErr: "eval:2:3: unexpected character '='"},
		{name: "column in characters", args: []string{"'é' == ☃"}, wantCode: 1, wantErr: "eval:1:8: unexpected character '☃'"},
		{name: "unknown function", args: []string{"lower('A')"}, wantCode: 1, wantErr: "eval:1:1: unknown function \"lower\""},
		{name: "arity", args: []string{"contains('a')"}, wantCode: 1, wantErr: "eval:1:1: contains takes 2 arguments, got 1"},
		{name: "eval error", args: []string{"--context", ctxFile, "format('{1}', secrets.TOKEN)"}, wantCode: 1, wantErr: "eval:1:1: format: the format string references argument {1}"},
		{name: "fromJSON error hides secret", args: []string{"--context", ctxFile, "fromJSON(secrets.TOKEN)"}, wantCode: 1, wantErr: "eval:1:1: fromJSON: invalid JSON"},
		{name: "missing context file", args: []string{"--context", filepath.Join(dir, "nope.json"), "1"}, wantCode: 1, wantErr: "vermont eval: --context:"},
		{name: "context file order kept", args: []string{"--context", ctxFile, "matrix"}, wantOut: "{\n  \"os\": \"ubuntu-latest\",\n  \"node\": 18\n}\n"},
		{name: "invalid context file", args: []string{"--context", brokenJSON, "1"}, wantCode: 1, wantErr: "broken.json:2:21: want a JSON object whose keys are context names: invalid JSON"},
		{name: "context not an object", args: []string{"--context", badJSON, "1"}, wantCode: 1, wantErr: "want a JSON object whose keys are context names"},
		{name: "no expression", args: nil, wantCode: 2, wantErr: "want exactly one expression, got 0"},
		{name: "two expressions", args: []string{"a", "b"}, wantCode: 2, wantErr: "got 2 argument(s)"},
		{name: "bad flag", args: []string{"--nope", "1"}, wantCode: 2, wantErr: "flag provided but not defined"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "usage: vermont eval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := evalCmd(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.wantCode, errOut)
			}
			if tc.wantCode == 0 && tc.name != "help" && out != tc.wantOut {
				t.Errorf("stdout %q, want %q", out, tc.wantOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tc.wantErr)
			}
			if strings.Contains(errOut, "s3cr3t-value") {
				t.Errorf("stderr reveals a secret: %q", errOut)
			}
		})
	}
}

// TestEvalDispatch runs eval through the command table.
func TestEvalDispatch(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"eval", "'a' == 'A'"}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 0 || out.String() != "true\n" {
		t.Errorf("vermont eval: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

func evalWriteFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
