// Package schedule plans and runs the jobs of a workflow: it expands
// matrices, orders jobs by needs, evaluates job-level if with GitHub's status
// functions, and starts each job the moment its needs are done, honouring
// fail-fast, max-parallel, concurrency groups and cancellation.
//
// How a job runs is not its business: that is the JobRunner's (package exec).
package schedule

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// Result is the result of a job or step, as GitHub names them in
// needs.<job>.result and steps.<id>.conclusion.
type Result string

// Results.
const (
	Success   Result = "success"
	Failure   Result = "failure"
	Cancelled Result = "cancelled"
	Skipped   Result = "skipped"
)

// Plan is a workflow's jobs as a graph, compiled and checked, ready to run
// any number of times. It is immutable.
type Plan struct {
	Workflow *workflow.Workflow
	// Contexts are the contexts known before any job runs (github, inputs,
	// vars, secrets); each job's scope adds needs, matrix and strategy.
	Contexts map[string]any
	jobs     []*planJob // topological order, source order among equals
	byID     map[string]*planJob
	matrix   map[string]string // --matrix filter
	tpl      *templates        // parsed once, evaluated by every run
}

// planJob is one job of the plan with its compiled condition.
type planJob struct {
	def       *workflow.Job
	id        string
	needs     []string
	deps      []*planJob // needs, resolved
	ancestors []string
	cond      *expr.Program // the if, with GitHub's implicit success() applied
	condSrc   string
}

// PlanOption configures NewPlan.
type PlanOption func(*planConfig) error

type planConfig struct {
	contexts map[string]any
	only     []string
	matrix   map[string]string
}

// WithContexts sets the contexts known before the run (github, inputs, vars,
// secrets).
func WithContexts(c map[string]any) PlanOption {
	return func(p *planConfig) error { p.contexts = c; return nil }
}

// WithJobs keeps only the named jobs and the jobs they need, as act's -j
// does.
func WithJobs(ids ...string) PlanOption {
	return func(p *planConfig) error { p.only = append(p.only, ids...); return nil }
}

// WithMatrix keeps only the matrix legs whose values match every key=value
// given (act's --matrix).
func WithMatrix(filter map[string]string) PlanOption {
	return func(p *planConfig) error { p.matrix = filter; return nil }
}

// NewPlan checks the job graph and compiles every job's if.
func NewPlan(w *workflow.Workflow, opts ...PlanOption) (*Plan, error) {
	var cfg planConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	p := &Plan{Workflow: w, Contexts: cfg.contexts, byID: map[string]*planJob{}, matrix: cfg.matrix, tpl: &templates{}}
	var all []*planJob
	for _, j := range w.Jobs {
		pj := &planJob{def: j, id: j.ID.Value}
		for _, n := range j.Needs {
			pj.needs = append(pj.needs, n.Value)
		}
		src := ""
		if j.If != nil {
			src = j.If.Value
		}
		prog, err := compileIf(src)
		if err != nil {
			pos := j.Pos
			if j.If != nil {
				pos = j.If.Pos
			}
			return nil, fmt.Errorf("%s:%s: jobs.%s.if: %w", w.File, pos, pj.id, err)
		}
		pj.cond, pj.condSrc = prog, src
		all = append(all, pj)
		p.byID[strings.ToLower(pj.id)] = pj
	}
	order, err := topoSort(all, p.byID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.File, err)
	}
	for _, pj := range order {
		pj.ancestors = ancestors(pj, p.byID)
		for _, n := range pj.needs {
			pj.deps = append(pj.deps, p.byID[strings.ToLower(n)])
		}
	}
	if len(cfg.only) > 0 {
		keep := map[*planJob]bool{}
		for _, id := range cfg.only {
			pj := p.byID[strings.ToLower(id)]
			if pj == nil {
				return nil, fmt.Errorf("%s: no job %q (jobs: %s)", w.File, id, strings.Join(jobIDs(all), ", "))
			}
			keep[pj] = true
			for _, a := range pj.ancestors {
				keep[p.byID[strings.ToLower(a)]] = true
			}
		}
		filtered := order[:0]
		for _, pj := range order {
			if keep[pj] {
				filtered = append(filtered, pj)
			}
		}
		order = filtered
	}
	p.jobs = order
	return p, nil
}

// JobIDs returns the planned job ids in the order they may start.
func (p *Plan) JobIDs() []string { return jobIDs(p.jobs) }

func jobIDs(js []*planJob) []string {
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.id
	}
	return ids
}

// Needs returns the ids job id needs directly.
func (p *Plan) Needs(id string) []string {
	if pj := p.byID[strings.ToLower(id)]; pj != nil {
		return pj.needs
	}
	return nil
}

// Legs expands the matrix of job id with the plan's contexts. It returns nil
// for a job without a matrix, and an error when the matrix depends on what
// is only known at run time (needs outputs).
func (p *Plan) Legs(id string) ([]Leg, error) {
	pj := p.byID[strings.ToLower(id)]
	if pj == nil {
		return nil, fmt.Errorf("no job %q", id)
	}
	return p.legs(pj, &expr.Scope{Contexts: p.Contexts})
}

func (p *Plan) legs(pj *planJob, scope *expr.Scope) ([]Leg, error) {
	s := pj.def.Strategy
	if s == nil || s.Matrix == nil {
		return nil, nil
	}
	legs, err := p.tpl.expandMatrix(s.Matrix, scope)
	if err != nil {
		return nil, err
	}
	if len(p.matrix) == 0 {
		return legs, nil
	}
	kept := legs[:0]
	for _, l := range legs {
		if matchesFilter(l, p.matrix) {
			kept = append(kept, l)
		}
	}
	return kept, nil
}

func matchesFilter(l Leg, filter map[string]string) bool {
	for k, want := range filter {
		v, ok := l.Values[k]
		if !ok || expr.ToString(v) != want {
			return false
		}
	}
	return true
}

// compileIf compiles a job or step condition as GitHub evaluates it: an
// empty condition is success(), and one that calls no status function is
// `success() && (cond)`. The ${{ }} around a condition is optional.
func compileIf(src string) (*expr.Program, error) {
	if strings.TrimSpace(src) == "" {
		return expr.Compile("success()")
	}
	return expr.CompileCondition(src)
}

// CompileIf is compileIf for other packages (steps use the same rule).
func CompileIf(src string) (*expr.Program, error) { return compileIf(src) }

// topoSort orders jobs so that needs come first, keeping source order among
// jobs that are ready together. It reports a missing need or a cycle.
func topoSort(all []*planJob, byID map[string]*planJob) ([]*planJob, error) {
	state := map[*planJob]int{} // 0 new, 1 visiting, 2 done
	var order []*planJob
	var stack []string
	var visit func(pj *planJob) error
	visit = func(pj *planJob) error {
		switch state[pj] {
		case 1:
			i := 0
			for stack[i] != pj.id {
				i++
			}
			return fmt.Errorf("jobs form a cycle: %s -> %s", strings.Join(stack[i:], " -> "), pj.id)
		case 2:
			return nil
		}
		state[pj] = 1
		stack = append(stack, pj.id)
		for _, n := range pj.needs {
			dep := byID[strings.ToLower(n)]
			if dep == nil {
				return fmt.Errorf("job %q needs %q, which does not exist", pj.id, n)
			}
			if err := visit(dep); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[pj] = 2
		order = append(order, pj)
		return nil
	}
	for _, pj := range all {
		if err := visit(pj); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// ancestors lists every job pj needs, directly or not, sorted.
func ancestors(pj *planJob, byID map[string]*planJob) []string {
	seen := map[string]bool{}
	var walk func(*planJob)
	walk = func(j *planJob) {
		for _, n := range j.needs {
			d := byID[strings.ToLower(n)]
			if d != nil && !seen[d.id] {
				seen[d.id] = true
				walk(d)
			}
		}
	}
	walk(pj)
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func sortStrings(s []string) { sort.Strings(s) }
