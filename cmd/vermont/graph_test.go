package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGraph(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, "g.yml")
	src := `on: push
jobs:
  setup:
    runs-on: x
    steps: [{run: echo}]
  test:
    needs: setup
    runs-on: x
    strategy:
      matrix:
        os: [linux, mac]
        exclude: [{os: mac}]
        include: [{os: bsd, v: 2}]
    steps: [{run: echo}]
  dyn:
    needs: setup
    runs-on: x
    strategy:
      matrix:
        v: ${{ fromJSON(needs.setup.outputs.list) }}
    steps: [{run: echo}]
`
	if err := os.WriteFile(wf, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "text", args: []string{wf}, want: wf + `
  setup
  test (linux) <- setup
  test (bsd, 2) <- setup
  dyn (matrix known at run time) <- setup
`},
		{name: "dot", args: []string{"--dot", wf}, want: `digraph "` + wf + `" {
  rankdir=LR;
  n1 [label="setup"];
  n2 [label="test (linux)"];
  n3 [label="test (bsd, 2)"];
  n4 [label="dyn (matrix known at run time)"];
  n1 -> n2;
  n1 -> n3;
  n1 -> n4;
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"graph"}, tt.args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != 0 || out.String() != tt.want {
				t.Errorf("exit %d\ngot:\n%s\nwant:\n%s\nstderr: %s", code, out.String(), tt.want, errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"graph", filepath.Join("..", "..", "testdata", "cli", "bad.yml")}, stdio{out: &out, err: &errb}); code != 1 || !strings.Contains(errb.String(), "bad.yml:6:") {
		t.Errorf("bad workflow: exit %d, stderr %q", code, errb.String())
	}
}
