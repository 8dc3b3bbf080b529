package workflow

// Action is an action's metadata file, action.yml.
// https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax
type Action struct {
	File        string
	Name        *String
	Description *String
	Author      *String
	Inputs      []*ActionInput
	Outputs     []*Output // Value is set for composite actions
	Runs        *Runs
	Branding    *Branding
	Pos         Pos
	Warnings    ErrorList // what Vermont does not know but GitHub may accept
}

// ActionInput is inputs.<input_id> of an action.
type ActionInput struct {
	Name               String
	Description        *String
	Required           *Bool
	Default            *String
	DeprecationMessage *String
	Pos                Pos
}

// Runs is runs: of an action. Using is composite, docker, or nodeXX;
// JavaScript actions set Main/Pre/Post, composite actions Steps, docker
// actions Image and the rest.
type Runs struct {
	Using String
	// JavaScript actions.
	Main, Pre, Post *String
	PreIf, PostIf   *String
	// Composite actions.
	Steps []*Step
	// Docker actions.
	Image          *String
	Entrypoint     *String
	PreEntrypoint  *String
	PostEntrypoint *String
	Args           []String
	Env            *StringMap
	Pos            Pos
}

// IsComposite, IsDocker and IsNode tell the kinds of action apart.
func (r *Runs) IsComposite() bool { return r != nil && r.Using.Value == "composite" }

// IsDocker reports whether the action runs in a container.
func (r *Runs) IsDocker() bool { return r != nil && r.Using.Value == "docker" }

// IsNode reports whether the action is a JavaScript action.
func (r *Runs) IsNode() bool { return r != nil && nodeRuntimes[r.Using.Value] }

// nodeRuntimes are the runs.using values of JavaScript actions.
var nodeRuntimes = map[string]bool{"node12": true, "node16": true, "node20": true, "node24": true}

// Branding is branding: of an action.
type Branding struct {
	Icon  *String
	Color *String
	Pos   Pos
}
