package workflow

import (
	"errors"
	"reflect"
	"testing"
)

// The checks of GitHub's "Create a workflow dispatch event" API
// (https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event):
// it answers 422 with these messages (cli/cli#5246 quotes the allowed-values
// one; peter-evans/slash-command-dispatch#115 the unexpected-inputs one).
func TestDispatchInputs(t *testing.T) {
	t.Parallel()
	const src = `on:
  workflow_dispatch:
    inputs:
      who: {required: true}
      greeting: {default: hello}
      loud: {type: boolean}
      shout: {type: boolean, default: true}
      times: {type: number, default: 2}
      level: {type: choice, options: [info, debug], default: info}
      env: {type: environment}
jobs:
  a: {runs-on: x, steps: [{run: echo}]}
`
	wf, err := Parse("dispatch.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	defaults := func(over map[string]any) map[string]any {
		m := map[string]any{"who": "me", "greeting": "hello", "loud": false, "shout": true, "times": 2.0, "level": "info", "env": ""}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		given   map[string]string
		want    map[string]any
		wantErr string
	}{
		{name: "defaults applied and typed", given: map[string]string{"who": "me"}, want: defaults(nil)},
		{name: "values typed", given: map[string]string{"who": "me", "loud": "true", "shout": "false", "times": "1.5", "level": "debug", "env": "prod"},
			want: defaults(map[string]any{"loud": true, "shout": false, "times": 1.5, "level": "debug", "env": "prod"})},
		{name: "undeclared", given: map[string]string{"who": "me", "nope": "1", "also": "2"}, wantErr: `Unexpected inputs provided: ["also","nope"]`},
		{name: "required missing", given: map[string]string{}, wantErr: "Required input 'who' not provided"},
		{name: "choice outside its options", given: map[string]string{"who": "me", "level": "trace"}, wantErr: "Provided value 'trace' for input 'level' not in the list of allowed values"},
		{name: "boolean that does not parse", given: map[string]string{"who": "me", "loud": "yes"}, wantErr: "Provided value 'yes' for input 'loud' not in the list of allowed values"},
		{name: "empty boolean", given: map[string]string{"who": "me", "loud": ""}, wantErr: "Provided value '' for input 'loud' not in the list of allowed values"},
		{name: "number that does not parse", given: map[string]string{"who": "me", "times": "two"}, wantErr: "Provided value 'two' for input 'times' is not a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := wf.DispatchInputs(tc.given)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidInputs) || err.Error() != ErrInvalidInputs.Error()+": "+tc.wantErr {
					t.Fatalf("DispatchInputs error = %v, want %q wrapping ErrInvalidInputs", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DispatchInputs = %#v\nwant %#v", got, tc.want)
			}
		})
	}
	t.Run("no workflow_dispatch accepts no inputs", func(t *testing.T) {
		t.Parallel()
		push, err := Parse("push.yml", []byte("on: push\njobs:\n  a: {runs-on: x, steps: [{run: echo}]}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := push.DispatchInputs(map[string]string{"x": "1"}); !errors.Is(err, ErrInvalidInputs) {
			t.Errorf("error = %v, want ErrInvalidInputs", err)
		}
	})
}
