package api

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
)

// maxDispatchInputs is GitHub's limit on a workflow_dispatch's inputs
// (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onworkflow_dispatchinputs).
const maxDispatchInputs = 25

// ValidateInputs checks a workflow_dispatch's inputs against wf's
// on.workflow_dispatch.inputs as GitHub does, and returns the inputs
// context: each declared input with its given value or default, typed
// (booleans as bool, numbers as float64, the rest as strings). A refusal is
// an *InvalidError with GitHub's message.
//
// This belongs in package workflow; it lives here until that package has
// one.
func ValidateInputs(wf *workflow.Workflow, given map[string]any) (map[string]any, error) {
	ev := wf.Event("workflow_dispatch")
	if ev == nil {
		return nil, &InvalidError{Message: "Workflow does not have 'workflow_dispatch' trigger"}
	}
	if len(given) > maxDispatchInputs {
		return nil, &InvalidError{Message: fmt.Sprintf("you may only define up to %d `inputs` for a `workflow_dispatch` event", maxDispatchInputs)}
	}
	declared := map[string]*workflow.Input{}
	for _, in := range ev.Inputs {
		declared[strings.ToLower(in.Name.Value)] = in
	}
	var unexpected []string
	for name := range given {
		if declared[strings.ToLower(name)] == nil {
			unexpected = append(unexpected, strconv.Quote(name))
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		return nil, &InvalidError{Message: "Unexpected inputs provided: [" + strings.Join(unexpected, ", ") + "]"}
	}
	out := map[string]any{}
	for _, in := range ev.Inputs {
		v, ok := lookupFold(given, in.Name.Value)
		if !ok {
			if in.Required != nil && in.Required.Value && in.Default == nil {
				return nil, &InvalidError{Message: fmt.Sprintf("Required input '%s' not provided", in.Name.Value)}
			}
			if in.Default != nil {
				v = in.Default.Value
			} else {
				v = ""
			}
		}
		typed, err := typeInput(in, v)
		if err != nil {
			return nil, err
		}
		out[in.Name.Value] = typed
	}
	return out, nil
}

// lookupFold finds name in m, case-insensitively as GitHub's input names are.
func lookupFold(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// typeInput converts v to in's type.
func typeInput(in *workflow.Input, v any) (any, error) {
	s, isString := v.(string)
	if !isString {
		switch v := v.(type) {
		case bool:
			s = strconv.FormatBool(v)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, &InvalidError{Message: fmt.Sprintf("Provided value for input '%s' must be a string, a number or a boolean", in.Name.Value)}
		}
	}
	typ := "string"
	if in.Type != nil {
		typ = in.Type.Value
	}
	switch typ {
	case "boolean":
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
		return nil, &InvalidError{Message: fmt.Sprintf("Provided value '%s' for input '%s' is not a valid boolean", s, in.Name.Value)}
	case "number":
		if s == "" {
			return "", nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, &InvalidError{Message: fmt.Sprintf("Provided value '%s' for input '%s' is not a valid number", s, in.Name.Value)}
		}
		return f, nil
	case "choice":
		for _, o := range in.Options {
			if o.Value == s {
				return s, nil
			}
		}
		return nil, &InvalidError{Message: fmt.Sprintf("Provided value '%s' for input '%s' not in the list of allowed values", s, in.Name.Value)}
	}
	return s, nil
}
