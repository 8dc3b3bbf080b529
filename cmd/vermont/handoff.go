package main

import "strings"

// needsContainers says whether what the planned workflows show before they
// run needs containerd: --containerd, container: and services:, docker://
// steps, and runs-on labels that -P maps to an image (any label with an
// expression, once -P maps one to an image). The host-only build hands
// such runs to vermont-full.
func (f *runFlags) needsContainers(plans []runPlan) bool {
	if f.backend.containerd {
		return true
	}
	images := map[string]bool{}
	for label, img := range platformMap(f.platforms) {
		if img != "host" && img != "-self-hosted" {
			images[label] = true
		}
	}
	for _, p := range plans {
		for _, id := range p.plan.JobIDs() {
			j := p.wf.Job(id)
			if j == nil {
				continue
			}
			if j.Container != nil || len(j.Services) > 0 {
				return true
			}
			if j.RunsOn != nil {
				for _, l := range j.RunsOn.Labels {
					if images[l.Value] || (len(images) > 0 && strings.Contains(l.Value, "${{")) {
						return true
					}
				}
			}
			for _, s := range j.Steps {
				if s.Uses != nil && strings.HasPrefix(s.Uses.Value, "docker://") {
					return true
				}
			}
		}
	}
	return false
}
