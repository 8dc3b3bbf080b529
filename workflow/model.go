package workflow

import "strings"

// Workflow is one parsed workflow file.
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
type Workflow struct {
	File        string
	Name        *String      // name
	RunName     *String      // run-name
	On          []*Event     // on, in source order
	OnPos       Pos          // position of the on: key's value
	Permissions *Permissions // permissions
	Env         *StringMap   // env
	Defaults    *Defaults    // defaults
	Concurrency *Concurrency // concurrency
	Jobs        []*Job       // jobs, in source order
	Pos         Pos
	Warnings    ErrorList // what Vermont does not know but GitHub may accept
}

// Job returns the job with the given id, compared case-insensitively as
// GitHub does, or nil.
func (w *Workflow) Job(id string) *Job {
	for _, j := range w.Jobs {
		if strings.EqualFold(j.ID.Value, id) {
			return j
		}
	}
	return nil
}

// Event returns the trigger for the named event, or nil.
func (w *Workflow) Event(name string) *Event {
	for _, e := range w.On {
		if e.Name.Value == name {
			return e
		}
	}
	return nil
}

// Event is one trigger of on:. Which fields apply depends on the event:
// filters on push/pull_request/pull_request_target/workflow_run, Schedules
// on schedule, Inputs on workflow_dispatch and workflow_call, Outputs and
// Secrets on workflow_call, Workflows on workflow_run.
// https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows
type Event struct {
	Name           String
	Types          []String  // on.<event>.types
	Branches       *Filter   // branches
	BranchesIgnore *Filter   // branches-ignore
	Tags           *Filter   // tags
	TagsIgnore     *Filter   // tags-ignore
	Paths          *Filter   // paths
	PathsIgnore    *Filter   // paths-ignore
	Workflows      []String  // on.workflow_run.workflows
	Schedules      []String  // on.schedule[*].cron
	Inputs         []*Input  // on.workflow_dispatch.inputs, on.workflow_call.inputs
	Outputs        []*Output // on.workflow_call.outputs
	Secrets        []*Secret // on.workflow_call.secrets
	Pos            Pos
}

// Filter is a list of glob patterns of on.<event>.branches, tags, paths and
// their -ignore forms. A pattern starting with `!` negates.
type Filter struct {
	Patterns []String
	Pos      Pos
}

// Input is an input of workflow_dispatch or workflow_call.
type Input struct {
	Name        String
	Description *String
	Required    *Bool
	Default     *String // source text of the default (booleans and numbers too)
	Type        *String // string, boolean, number, choice, environment
	Options     []String
	Pos         Pos
}

// Output is an output of workflow_call (on.workflow_call.outputs.<id>) or of
// an action.
type Output struct {
	Name        String
	Description *String
	Value       *String
	Pos         Pos
}

// Secret is a secret declared by workflow_call.
type Secret struct {
	Name        String
	Description *String
	Required    *Bool
	Pos         Pos
}

// Permissions is permissions: either All ("read-all", "write-all", or ""
// for `{}`) or per-scope levels.
type Permissions struct {
	All    *String
	Scopes []KeyValue // scope name -> read | write | none
	Pos    Pos
}

// Defaults is defaults:.
type Defaults struct {
	Run *RunDefaults
	Pos Pos
}

// RunDefaults is defaults.run.
type RunDefaults struct {
	Shell            *String
	WorkingDirectory *String
	Pos              Pos
}

// Concurrency is concurrency: as a group string or a mapping.
type Concurrency struct {
	Group            *String
	CancelInProgress *Bool
	// Queue is "single" (the default: one pending member, replaced by a
	// newer one) or "max" (up to 100 pending members, in order).
	// https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency
	Queue *String
	Pos   Pos
}

// QueueMax reports whether the group keeps up to 100 pending members in
// order (queue: max) instead of one.
func (c *Concurrency) QueueMax() bool { return c != nil && c.Queue != nil && c.Queue.Value == "max" }

// Job is jobs.<job_id>. A job either runs Steps on RunsOn, or calls a
// reusable workflow with Uses (then With and Secrets apply).
type Job struct {
	ID              String
	Name            *String
	Needs           []String
	RunsOn          *RunsOn
	If              *String
	Env             *StringMap
	Defaults        *Defaults
	Outputs         *StringMap
	Strategy        *Strategy
	ContinueOnError *Bool
	TimeoutMinutes  *Float
	Container       *Container
	Services        []*Service
	Environment     *Environment
	Permissions     *Permissions
	Concurrency     *Concurrency
	Steps           []*Step
	Uses            *String          // reusable workflow
	With            *StringMap       // inputs of the reusable workflow
	Secrets         *WorkflowSecrets // secrets for the reusable workflow
	Pos             Pos
}

// RunsOn is jobs.<job_id>.runs-on: labels (one string or a list, each may
// hold an expression), or a runner group with optional labels.
type RunsOn struct {
	Labels []String
	Group  *String
	Pos    Pos
}

// Strategy is jobs.<job_id>.strategy.
type Strategy struct {
	Matrix      *Matrix
	FailFast    *Bool
	MaxParallel *Int
	Pos         Pos
}

// Matrix is jobs.<job_id>.strategy.matrix. When the whole matrix is an
// expression, Expr is set and the rest is empty. Each row value is a
// sequence, or a string expression that yields one. Include and Exclude are
// sequences of mappings, or string expressions.
type Matrix struct {
	Expr    *String
	Rows    []*MatrixRow
	Include *Value
	Exclude *Value
	Pos     Pos
}

// MatrixRow is one variable of a matrix, with its values.
type MatrixRow struct {
	Name  String
	Value *Value
}

// Container is a job container or a service container. The short form
// `container: node:20` sets only Image.
type Container struct {
	Image       *String
	Credentials *Credentials
	Env         *StringMap
	Ports       []String
	Volumes     []String
	Options     *String
	Pos         Pos
}

// Credentials are a container registry's username and password.
type Credentials struct {
	Username *String
	Password *String
	Pos      Pos
}

// Service is jobs.<job_id>.services.<service_id>.
type Service struct {
	Name      String
	Container *Container
}

// Environment is jobs.<job_id>.environment: a name, an optional URL, and
// deployment: false to use the environment without creating a deployment.
type Environment struct {
	Name       *String
	URL        *String
	Deployment *Bool
	Pos        Pos
}

// WorkflowSecrets is jobs.<job_id>.secrets of a reusable-workflow call:
// `inherit`, or a mapping.
type WorkflowSecrets struct {
	Inherit bool
	Values  *StringMap
	Pos     Pos
}

// Step is jobs.<job_id>.steps[*] (and runs.steps[*] of a composite action).
// Exactly one of Uses and Run is set in a valid step.
type Step struct {
	ID               *String
	Name             *String
	If               *String
	Uses             *String
	Run              *String
	Shell            *String
	With             *StringMap
	Env              *StringMap
	WorkingDirectory *String
	ContinueOnError  *Bool
	TimeoutMinutes   *Float
	Pos              Pos
}
