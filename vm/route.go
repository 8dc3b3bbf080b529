package vm

import "strings"

// labelSelfHosted is implied on every pool: GitHub routes any job asking
// for self-hosted runners to them.
const labelSelfHosted = "self-hosted"

// normLabels lower-cases labels (GitHub compares runner labels
// case-insensitively), adds self-hosted and drops duplicates and blanks.
func normLabels(labels []string) []string {
	out := []string{labelSelfHosted}
	seen := map[string]bool{labelSelfHosted: true}
	for _, l := range labels {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return out
}

// route returns the index of the pool that serves a job asking for labels:
// one whose labels are a superset of the job's. Among several, the most
// specific (fewest labels) wins, then the first configured. It returns -1
// when no pool serves the job.
func route(pools []*poolState, labels []string) int {
	best := -1
	for i, ps := range pools {
		if !ps.serves(labels) {
			continue
		}
		if best < 0 || len(ps.labels) < len(pools[best].labels) {
			best = i
		}
	}
	return best
}

// serves reports whether the pool's labels include every job label.
func (ps *poolState) serves(labels []string) bool {
	for _, l := range labels {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" {
			continue
		}
		if !ps.labelSet[l] {
			return false
		}
	}
	return true
}
