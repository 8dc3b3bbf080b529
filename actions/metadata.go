package actions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vermont-ci/vermont/workflow"
)

// metadataFiles are looked for in an action's directory, in GitHub's order.
var metadataFiles = []string{"action.yml", "action.yaml"}

// loadAction reads and parses the metadata of the action in dir. A
// directory with only a Dockerfile is a Docker action, as GitHub's runner
// accepts it: runs.using docker, runs.image Dockerfile.
func (r *Resolver) loadAction(dir string) (*workflow.Action, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: directory %s does not exist", ErrNotFound, dir)
		}
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file; uses: names the directory that holds action.yml", ErrNoMetadata, dir)
	}
	for _, name := range metadataFiles {
		file := filepath.Join(dir, name)
		src, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return r.parser.ParseAction(file, src)
	}
	docker := filepath.Join(dir, "Dockerfile")
	if fi, err := os.Stat(docker); err == nil && !fi.IsDir() {
		return dockerfileAction(docker), nil
	}
	return nil, fmt.Errorf("%w: %s holds no action.yml, action.yaml or Dockerfile", ErrNoMetadata, dir)
}

// dockerfileAction is the metadata GitHub assumes for a Dockerfile-only
// action. Its positions are zero: nothing in it was written by the user.
func dockerfileAction(file string) *workflow.Action {
	return &workflow.Action{
		File: file,
		Runs: &workflow.Runs{
			Using: workflow.String{Value: "docker"},
			Image: &workflow.String{Value: "Dockerfile"},
		},
	}
}

// loadWorkflow reads, parses and validates a reusable workflow file, which
// must be triggered by workflow_call.
func (r *Resolver) loadWorkflow(uses, file string) (*workflow.Workflow, error) {
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reusable workflow %s: %w: %s does not exist", uses, ErrNotFound, file)
	}
	if err != nil {
		return nil, fmt.Errorf("reusable workflow %s: %w", uses, err)
	}
	wf, err := r.parser.Parse(file, src)
	if err != nil {
		return nil, fmt.Errorf("reusable workflow %s: %w", uses, err)
	}
	if wf.Event("workflow_call") == nil {
		var l workflow.ErrorList
		l.Add(file, wf.OnPos, workflow.KindEvent, "this workflow is called by "+uses+
			" but has no workflow_call trigger; add `on: workflow_call` to make it reusable")
		return nil, fmt.Errorf("reusable workflow %s: %w", uses, l.Err())
	}
	return wf, nil
}
