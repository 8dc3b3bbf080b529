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
			if ids[strings.ToLower(n.Value)] == nil {
				w.errorf(n.Pos, KindNeeds, "job %q needs %q, which does not exist%s", j.ID.Value, n.Value, suggest(n.Value, names))
			}
		}
	}
	w.checkCycles(wf, ids)
}

// checkCycles reports, as GitHub does, every need of a job that can never
// start because its needs lead back into a cycle (a job needing itself
// included). Like actions/runner's WorkflowTemplateConverter.ConvertToJobs,
// it releases jobs whose needs are met, starting from those with none, and
// reports what is left with GitHub's words.
func (w *walker) checkCycles(wf *Workflow, ids map[string]*Job) {
	waiting := map[*Job]int{} // needs of existing jobs not yet met
	var ready []*Job
	for _, j := range wf.Jobs {
		if ids[strings.ToLower(j.ID.Value)] != j {
			continue // a duplicate id, reported already
		}
		for _, n := range j.Needs {
			if ids[strings.ToLower(n.Value)] != nil {
				waiting[j]++
			}
		}
		if waiting[j] == 0 {
			ready = append(ready, j)
		}
	}
	if len(ready) == 0 && len(waiting) > 0 {
		w.errorf(wf.Jobs[0].ID.Pos, KindNeeds, "the workflow must contain at least one job with no dependencies")
	}
	for len(ready) > 0 {
		done := strings.ToLower(ready[0].ID.Value)
		ready = ready[1:]
		for _, j := range wf.Jobs {
			if waiting[j] == 0 {
				continue
			}
			for _, n := range j.Needs {
				if strings.ToLower(n.Value) == done {
					if waiting[j]--; waiting[j] == 0 {
						ready = append(ready, j)
					}
				}
			}
		}
	}
	for _, j := range wf.Jobs {
		if waiting[j] == 0 {
			continue
		}
		for _, n := range j.Needs {
			if t := ids[strings.ToLower(n.Value)]; t != nil && waiting[t] > 0 {
				w.errorf(n.Pos, KindNeeds, "job '%s' depends on job '%s' which creates a cycle in the dependency graph", j.ID.Value, n.Value)
			}
		}
	}
}
