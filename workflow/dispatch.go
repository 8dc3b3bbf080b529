package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// ErrInvalidInputs is wrapped by every error of [Workflow.DispatchInputs]:
// the inputs of a workflow_dispatch were refused, as GitHub's API refuses
// them with 422 Unprocessable Entity.
var ErrInvalidInputs = errors.New("invalid workflow_dispatch inputs")

// DispatchInputs checks the inputs given to a workflow_dispatch of w as
// GitHub's "Create a workflow dispatch event" API does
// (https://docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event)
// and returns the inputs context: every declared input, with its default
// when not given, typed (booleans as bool, numbers as float64, the others
// as strings).
//
// It refuses, with GitHub's messages, an input the workflow does not declare
// (`Unexpected inputs provided: ["nope"]`), a required input with neither a
// value nor a default (`Required input 'x' not provided`), and a choice or
// boolean outside its allowed values (`Provided value 'z' for input 'x' not
// in the list of allowed values`); a number that does not parse is refused
// too. The error wraps [ErrInvalidInputs]. A workflow without a
// workflow_dispatch trigger accepts no inputs.
func (w *Workflow) DispatchInputs(given map[string]string) (map[string]any, error) {
	var declared []*Input
	if e := w.Event("workflow_dispatch"); e != nil {
		declared = e.Inputs
	}
	byName := make(map[string]*Input, len(declared))
	for _, in := range declared {
		byName[in.Name.Value] = in
	}
	var unexpected []string
	for k := range given {
		if byName[k] == nil {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		list, _ := json.Marshal(unexpected)
		return nil, fmt.Errorf("%w: Unexpected inputs provided: %s", ErrInvalidInputs, list)
	}
	out := make(map[string]any, len(declared))
	for _, in := range declared {
		name := in.Name.Value
		v, ok := given[name]
		if !ok && in.Default != nil {
			v, ok = in.Default.Value, true
		}
		if !ok && in.Required != nil && in.Required.Value {
			return nil, fmt.Errorf("%w: Required input '%s' not provided", ErrInvalidInputs, name)
		}
		tv, err := in.typed(v, ok)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrInvalidInputs, err.Error())
		}
		out[name] = tv
	}
	return out, nil
}

// typed converts an input's value to its type; set is false when the input
// has neither a value nor a default. Values are quoted in the messages as
// GitHub does: they are inputs, never secrets.
func (in *Input) typed(v string, set bool) (any, error) {
	typ := "string"
	if in.Type != nil {
		typ = in.Type.Value
	}
	name := in.Name.Value
	notAllowed := fmt.Errorf("Provided value '%s' for input '%s' not in the list of allowed values", v, name)
	switch typ {
	case "boolean":
		switch {
		case !set:
			return false, nil
		case v == "true":
			return true, nil
		case v == "false":
			return false, nil
		}
		return nil, notAllowed
	case "number":
		if !set {
			return "", nil
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("Provided value '%s' for input '%s' is not a number", v, name)
		}
		return n, nil
	case "choice":
		if !set {
			return "", nil
		}
		if !containsString(in.Options, v) {
			return nil, notAllowed
		}
	}
	return v, nil
}
