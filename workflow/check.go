package workflow

import (
	"regexp"
	"strings"
)

// This file holds the checks that need more than one node: ids, needs and
// their cycles, and references.

var idRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// checkID reports an id that GitHub would reject.
func (w *walker) checkID(id *String, what string) {
	if !idRE.MatchString(id.Value) {
		w.errorf(id.Pos, KindID, "invalid %s id %q: it must start with a letter or _ and contain only letters, digits, - and _", what, id.Value)
	}
}

func (w *walker) checkStepUses(u *String) {
	if _, err := ParseReference(u.Value); err != nil {
		w.errorf(u.Pos, KindUses, "%s", err.Error())
	}
}

// checkWorkflow runs the checks across jobs.
func (w *walker) checkWorkflow(wf *Workflow) {
	ids := make(map[string]*Job, len(wf.Jobs))
	for _, j := range wf.Jobs {
		lid := strings.ToLower(j.ID.Value)
		if prev := ids[lid]; prev != nil {
			w.errorf(j.ID.Pos, KindID, "job id %q duplicates %q at line %d (job ids are case-insensitive)", j.ID.Value, prev.ID.Value, prev.ID.Pos.Line)
			continue
		}
		ids[lid] = j
		if j.Uses != nil {
			if _, err := ParseWorkflowReference(j.Uses.Value); err != nil {
				w.errorf(j.Uses.Pos, KindUses, "%s", err.Error())
			}
		}
		w.checkStepIDs(j.Steps)
	}
	w.checkNeeds(wf, ids)
}

// checkStepIDs reports duplicate step ids in one job.
func (w *walker) checkStepIDs(steps []*Step) {
	seen := map[string]*String{}
	for _, s := range steps {
		if s.ID == nil {
			continue
		}
		lid := strings.ToLower(s.ID.Value)
		if prev := seen[lid]; prev != nil {
			w.errorf(s.ID.Pos, KindID, "step id %q duplicates the step id at line %d; step ids must be unique in a job", s.ID.Value, prev.Pos.Line)
			continue
		}
		seen[lid] = s.ID
	}
}

// checkNeeds reports needs that name missing jobs, and dependency cycles.
func (w *walker) checkNeeds(wf *Workflow, ids map[string]*Job) {
	names := make([]string, 0, len(wf.Jobs))
	for _, j := range wf.Jobs {
		names = append(names, j.ID.Value)
	}
	for _, j := range wf.Jobs {
		for _, n := range j.Needs {
			switch target := ids[strings.ToLower(n.Value)]; {
			case target == nil:
				w.errorf(n.Pos, KindNeeds, "job %q needs %q, which does not exist%s", j.ID.Value, n.Value, suggest(n.Value, names))
			case target == j:
				w.errorf(n.Pos, KindNeeds, "job %q needs itself", j.ID.Value)
			}
		}
	}
	w.checkCycles(wf, ids)
}

// checkCycles finds dependency cycles by depth-first search and reports
// each once, at the needs entry that closes it.
func (w *walker) checkCycles(wf *Workflow, ids map[string]*Job) {
	const (
		unvisited = iota
		active
		done
	)
	state := make(map[*Job]int, len(wf.Jobs))
	var stack []*Job
	var visit func(j *Job)
	visit = func(j *Job) {
		state[j] = active
		stack = append(stack, j)
		for _, n := range j.Needs {
			t := ids[strings.ToLower(n.Value)]
			if t == nil || t == j {
				continue
			}
			switch state[t] {
			case unvisited:
				visit(t)
			case active:
				w.errorf(n.Pos, KindNeeds, "dependency cycle: %s", cyclePath(stack, t))
			}
		}
		stack = stack[:len(stack)-1]
		state[j] = done
	}
	for _, j := range wf.Jobs {
		if state[j] == unvisited && ids[strings.ToLower(j.ID.Value)] == j {
			visit(j)
		}
	}
}

// cyclePath renders the cycle that starts at t on the stack: "a -> b -> a".
func cyclePath(stack []*Job, t *Job) string {
	var parts []string
	for i, j := range stack {
		if j == t {
			for _, k := range stack[i:] {
				parts = append(parts, k.ID.Value)
			}
			break
		}
	}
	return strings.Join(append(parts, t.ID.Value), " -> ")
}
