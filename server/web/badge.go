package web

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/vermont-ci/vermont/server/store"
)

// badge serves a workflow's status badge, as GitHub's
// /{owner}/{repo}/actions/workflows/{file}/badge.svg does: the state of
// the last run (of ?branch= or ?event= when given), "passing", "failing"
// or "no status". Like GitHub's, it needs no sign-in, and says nothing
// but that state.
func (u *UI) badge(w http.ResponseWriter, r *http.Request) {
	label, status := "", "no status"
	repo, err := u.store.Repository(r.Context(), r.PathValue("owner"), r.PathValue("repo"))
	if err == nil {
		var wf store.Workflow
		wf, err = u.workflowOf(r.Context(), repo, r.PathValue("file"))
		if err == nil {
			label = wf.Name
			runs, err := u.store.ListRuns(r.Context(), store.RunFilter{RepoID: repo.ID, WorkflowID: wf.ID,
				Branch: r.URL.Query().Get("branch"), Event: r.URL.Query().Get("event"), Limit: 1})
			if err == nil && len(runs) > 0 {
				status = badgeStatus(runs[0])
			}
		}
	}
	if label == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = fmt.Fprint(w, badgeSVG(label, status))
}

func badgeStatus(run store.Run) string {
	if run.Status != store.Completed {
		return "in progress"
	}
	switch run.Conclusion {
	case store.Success:
		return "passing"
	case store.Failure:
		return "failing"
	case store.Cancelled:
		return "cancelled"
	case store.Skipped:
		return "skipped"
	}
	return "no status"
}

// badgeSVG draws a badge of label and status, widths estimated from
// the text (about 7 px a character at 11 px Verdana, as shields do).
func badgeSVG(label, status string) string {
	colour := map[string]string{"passing": "#2ea043", "failing": "#cf222e", "in progress": "#dbab09"}[status]
	if colour == "" {
		colour = "#6e7681"
	}
	lw, sw := 10+7*len([]rune(label)), 10+7*len([]rune(status))
	e := template.HTMLEscapeString
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`+
		`<title>%s - %s</title>`+
		`<rect width="%d" height="20" rx="3" fill="#555"/><rect x="%d" width="%d" height="20" rx="3" fill="%s"/>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`,
		lw+sw, e(label), e(status), e(label), e(status), lw, lw, sw, colour, lw/2, e(label), lw+sw/2, e(status))
}
