package workflow

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vermont-ci/vermont/workflow/expr"
)

// availability is one row of GitHub's context-availability table: the
// contexts and the special functions an expression at a workflow key may
// use, lower case.
type availability struct {
	key       string
	contexts  []string
	functions []string
}

// The context sets the table repeats, named for where they apply.
var (
	ctxWorkflow = []string{"github", "inputs", "vars"}
	ctxJobIf    = []string{"github", "inputs", "needs", "vars"}
	ctxJob      = []string{"github", "inputs", "matrix", "needs", "strategy", "vars"}
	ctxJobCreds = []string{"env", "github", "inputs", "matrix", "needs", "secrets", "strategy", "vars"}
	ctxJobEnv   = []string{"github", "inputs", "matrix", "needs", "secrets", "strategy", "vars"}
	ctxCtrEnv   = []string{"env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "strategy", "vars"}
	ctxStepIf   = []string{"env", "github", "inputs", "job", "matrix", "needs", "runner", "steps", "strategy", "vars"}
	ctxStep     = []string{"env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "steps", "strategy", "vars"}

	fnStatus = []string{"always", "cancelled", "failure", "success"}
	fnStep   = []string{"hashfiles"}
	fnStepIf = []string{"always", "cancelled", "failure", "hashfiles", "success"}
)

// contextTable is GitHub's "Context availability" table, row for row:
// https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#context-availability
// An expression at one of these keys (or below it, unless a longer key has
// its own row) may name only the row's contexts and, of the special
// functions (always, cancelled, failure, success, hashFiles), only the
// row's; other functions are allowed anywhere. The docs spell one of them
// "canceled"; the function is cancelled(). Keys not in the table are
// checked for syntax only, so nothing GitHub accepts is refused.
var contextTable = []availability{
	{"run-name", ctxWorkflow, nil},
	{"concurrency", ctxWorkflow, nil},
	{"env", []string{"github", "inputs", "secrets", "vars"}, nil},
	{"jobs.<job_id>.concurrency", ctxJob, nil},
	{"jobs.<job_id>.container", ctxJob, nil},
	{"jobs.<job_id>.container.credentials", ctxJobCreds, nil},
	{"jobs.<job_id>.container.env.<env_id>", ctxCtrEnv, nil},
	{"jobs.<job_id>.container.image", ctxJob, nil},
	{"jobs.<job_id>.continue-on-error", ctxJob, nil},
	{"jobs.<job_id>.defaults.run", []string{"env", "github", "inputs", "matrix", "needs", "strategy", "vars"}, nil},
	{"jobs.<job_id>.env", ctxJobEnv, nil},
	{"jobs.<job_id>.environment", ctxJob, nil},
	{"jobs.<job_id>.environment.url", []string{"env", "github", "inputs", "job", "matrix", "needs", "runner", "steps", "strategy", "vars"}, nil},
	{"jobs.<job_id>.if", ctxJobIf, fnStatus},
	{"jobs.<job_id>.name", ctxJob, nil},
	{"jobs.<job_id>.outputs.<output_id>", ctxStep, nil},
	{"jobs.<job_id>.runs-on", ctxJob, nil},
	{"jobs.<job_id>.secrets.<secrets_id>", ctxJobEnv, nil},
	{"jobs.<job_id>.services", ctxJob, nil},
	{"jobs.<job_id>.services.<service_id>.credentials", ctxJobCreds, nil},
	{"jobs.<job_id>.services.<service_id>.env.<env_id>", ctxCtrEnv, nil},
	{"jobs.<job_id>.steps.continue-on-error", ctxStep, fnStep},
	{"jobs.<job_id>.steps.env", ctxStep, fnStep},
	{"jobs.<job_id>.steps.if", ctxStepIf, fnStepIf},
	{"jobs.<job_id>.steps.name", ctxStep, fnStep},
	{"jobs.<job_id>.steps.run", ctxStep, fnStep},
	{"jobs.<job_id>.steps.timeout-minutes", ctxStep, fnStep},
	{"jobs.<job_id>.steps.with", ctxStep, fnStep},
	{"jobs.<job_id>.steps.working-directory", ctxStep, fnStep},
	{"jobs.<job_id>.strategy", ctxJobIf, nil},
	{"jobs.<job_id>.timeout-minutes", ctxJob, nil},
	{"jobs.<job_id>.with.<with_id>", ctxJob, nil},
	{"on.workflow_call.inputs.<inputs_id>.default", ctxWorkflow, nil},
	{"on.workflow_call.outputs.<output_id>.value", []string{"github", "inputs", "jobs", "vars"}, nil},
}

// contextRows indexes contextTable by key, and also by a key without its
// last placeholder (jobs.<job_id>.env for jobs.<job_id>.env.<env_id>), the
// mapping whose values the row covers.
var contextRows = func() map[string]*availability {
	m := make(map[string]*availability, 2*len(contextTable))
	for i := range contextTable {
		a := &contextTable[i]
		m[a.key] = a
		if i := strings.LastIndex(a.key, ".<"); i > 0 && strings.HasSuffix(a.key, ">") {
			m[a.key[:i]] = a
		}
	}
	return m
}()

// specialFunctions are the functions the table restricts; any other known
// function is allowed everywhere.
var specialFunctions = []string{"always", "cancelled", "failure", "hashfiles", "success"}

// at makes key (a table key such as "jobs.<job_id>.if") the availability
// row for the expressions read until the returned function restores the
// previous one. A key without a row keeps the enclosing row: container
// ports are checked as jobs.<job_id>.container, and keys outside every row
// are not checked. It does nothing outside a workflow file.
func (w *walker) at(key string) (restore func()) {
	prev := w.avail
	if w.inWorkflow {
		if a := contextRows[key]; a != nil {
			w.avail = a
		}
	}
	return func() { w.avail = prev }
}

// checkAvailability reports each context and special function the
// expression n (parsed from the text at byte base of the scalar node yn)
// names that the current row does not allow, with GitHub's messages
// (actions/runner, src/Sdk/Expressions/Parser.cs: "Unrecognized
// named-value" and "Unrecognized function"). It reports whether n passed.
func (w *walker) checkAvailability(yn *yaml.Node, base int, n expr.Node) bool {
	a := w.avail
	if a == nil {
		return true
	}
	ok := true
	known := walkExpr(n, func(n expr.Node) {
		switch n := n.(type) {
		case *expr.ContextRef:
			if !contains(a.contexts, strings.ToLower(n.Name)) {
				ok = false
				w.errorf(w.posInScalar(yn, yn.Value, base+n.Pos), KindExpression,
					"Unrecognized named-value: '%s'; at %s the contexts are %s", n.Name, a.key, listNames(a.contexts))
			}
		case *expr.Call:
			lower := strings.ToLower(n.Name)
			if contains(specialFunctions, lower) && !contains(a.functions, lower) {
				ok = false
				w.errorf(w.posInScalar(yn, yn.Value, base+n.Pos), KindExpression,
					"Unrecognized function: '%s'; at %s the special functions are %s", n.Name, a.key, listNames(a.functions))
			}
		}
	})
	if !known {
		w.errorf(posOf(yn), KindExpression, "internal error: unknown expression node in %q", n.String())
	}
	return ok && known
}

// listNames joins names for a message, or says "none".
func listNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		if n == "hashfiles" {
			n = "hashFiles"
		}
		out[i] = n
	}
	return strings.Join(out, ", ")
}

// walkExpr calls f for n and every node below it. It returns false if it
// met a node it does not know, which is a bug in this package.
func walkExpr(n expr.Node, f func(expr.Node)) bool {
	f(n)
	switch n := n.(type) {
	case *expr.Literal, *expr.ContextRef:
		return true
	case *expr.Property:
		return walkExpr(n.X, f)
	case *expr.Index:
		return walkExpr(n.X, f) && walkExpr(n.Index, f)
	case *expr.Filter:
		return walkExpr(n.X, f)
	case *expr.Not:
		return walkExpr(n.X, f)
	case *expr.Binary:
		return walkExpr(n.L, f) && walkExpr(n.R, f)
	case *expr.Call:
		for _, a := range n.Args {
			if !walkExpr(a, f) {
				return false
			}
		}
		return true
	}
	return false
}
