package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
)

// maxDispatchInputs is GitHub's limit on a workflow_dispatch's inputs
// (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onworkflow_dispatchinputs).
const maxDispatchInputs = 25

// ValidateInputs checks a workflow_dispatch's inputs against wf's
// on.workflow_dispatch.inputs as GitHub's API does, and returns the inputs
// context (typed, defaults applied; see [workflow.Workflow.DispatchInputs],
// which holds the rules that vermont run --input shares). The API's own
// part is what JSON adds: its limit of inputs, and values given as JSON
// booleans or numbers. A refusal is an *InvalidError with GitHub's message.
func ValidateInputs(wf *workflow.Workflow, given map[string]any) (map[string]any, error) {
	if wf.Event("workflow_dispatch") == nil {
		return nil, &InvalidError{Message: "Workflow does not have 'workflow_dispatch' trigger"}
	}
	if len(given) > maxDispatchInputs {
		return nil, &InvalidError{Message: fmt.Sprintf("you may only define up to %d `inputs` for a `workflow_dispatch` event", maxDispatchInputs)}
	}
	strs := make(map[string]string, len(given))
	for name, v := range given {
		switch v := v.(type) {
		case string:
			strs[name] = v
		case bool:
			strs[name] = strconv.FormatBool(v)
		case float64:
			strs[name] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, &InvalidError{Message: fmt.Sprintf("Provided value for input '%s' must be a string, a number or a boolean", name)}
		}
	}
	inputs, err := wf.DispatchInputs(strs)
	if err != nil {
		return nil, &InvalidError{Message: strings.TrimPrefix(err.Error(), workflow.ErrInvalidInputs.Error()+": ")}
	}
	return inputs, nil
}
