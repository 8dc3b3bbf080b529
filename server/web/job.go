package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

// linesPerPage is how many log lines a job page holds; the rest are
// behind a link (and fetched by the script as the reader scrolls).
const linesPerPage = 1000

// jobOf is the {job} of r, a job of run.
func (u *UI) jobOf(r *request, run store.Run) (store.Job, error) {
	id, err := strconv.ParseInt(r.PathValue("job"), 10, 64)
	if err != nil {
		return store.Job{}, errNotFound
	}
	j, err := u.store.Job(r.Context(), id)
	if err != nil {
		return j, err
	}
	if j.RunID != run.ID {
		return j, errNotFound
	}
	return j, nil
}

// jobContext reads the repository, run and job of a job page's path.
func (u *UI) jobContext(r *request) (store.Repository, store.Run, store.Job, error) {
	repo, err := u.repo(r)
	if err != nil {
		return repo, store.Run{}, store.Job{}, err
	}
	run, err := u.runOf(r, repo)
	if err != nil {
		return repo, run, store.Job{}, err
	}
	j, err := u.jobOf(r, run)
	return repo, run, j, err
}

// firstLines is the number of each step's first line (its line links
// count from there).
func (u *UI) firstLines(r *request, j store.Job, steps []store.Step) (map[int64]int64, error) {
	first := map[int64]int64{}
	for _, s := range append([]store.Step{{Number: 0}}, steps...) {
		ls, err := u.store.Logs(r.Context(), j.ID, store.LogQuery{Step: s.Number, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(ls) > 0 {
			first[s.Number] = ls[0].Number
		}
	}
	return first, nil
}

func (u *UI) job(w http.ResponseWriter, r *request) error {
	repo, run, j, err := u.jobContext(r)
	if err != nil {
		return err
	}
	steps, err := u.store.Steps(r.Context(), j.ID)
	if err != nil {
		return err
	}
	first, err := u.firstLines(r, j, steps)
	if err != nil {
		return err
	}
	from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	if from < 1 {
		from = 1
	}
	stored, err := u.store.Logs(r.Context(), j.ID, store.LogQuery{After: from - 1, Limit: linesPerPage + 1})
	if err != nil {
		return err
	}
	more := len(stored) > linesPerPage
	if more {
		stored = stored[:linesPerPage]
	}
	// Lines by step, in the steps' order; lines outside any step (step 0)
	// come first, as "Set up job".
	byStep := map[int64][]logLine{}
	var last int64
	for _, l := range stored {
		byStep[l.Step] = append(byStep[l.Step], toLine(l, first[l.Step]))
		last = l.Number
	}
	if last == 0 {
		last = from - 1
	}
	var logs []stepLog
	all := append([]store.Step{{Number: 0, Name: "Set up job", Status: j.Status, Conclusion: j.Conclusion,
		StartedAt: j.StartedAt}}, steps...)
	for _, s := range all {
		ls := byStep[s.Number]
		if s.Number == 0 && len(ls) == 0 {
			continue
		}
		logs = append(logs, stepLog{Step: s, First: first[s.Number], Items: groupLines(ls), Count: len(ls)})
	}
	anns, err := u.store.Annotations(r.Context(), j.ID)
	if err != nil {
		return err
	}
	// An annotation links to the first line on this page that says it (the
	// line shows its location and title before the message).
	type annotation struct {
		store.Annotation
		Anchor string
	}
	var annotations []annotation
	for _, a := range anns {
		an := annotation{Annotation: a}
		for _, ls := range byStep {
			for _, l := range ls {
				if an.Anchor == "" && (l.Level == "error" || l.Level == "warning" || l.Level == "notice") && strings.HasPrefix(l.Text(), prefixLabel(l.Level)) && strings.HasSuffix(l.Text(), a.Message) {
					an.Anchor = l.ID()
				}
			}
		}
		annotations = append(annotations, an)
	}
	data := map[string]any{"Title": j.Name + " · " + run.WorkflowName, "Repo": repo, "Run": run, "Job": j,
		"Steps": logs, "Annotations": annotations, "From": from, "Last": last,
		"Live": j.Status != store.Completed}
	if more {
		data["More"] = fmt.Sprintf("?from=%d", last+1)
	}
	if from > 1 {
		data["Earlier"] = fmt.Sprintf("?from=%d", max(1, from-linesPerPage))
	}
	return u.view(w, r, "job", data)
}

func prefixLabel(level string) string {
	for _, p := range prefixes {
		if p.level == level {
			return p.label
		}
	}
	return ""
}

// stepJSON is a step's state for the script.
type stepJSON struct {
	Number   int64  `json:"number"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Label    string `json:"label"`
	Duration string `json:"duration"`
	First    int64  `json:"first"`
}

func (u *UI) stepsJSON(r *request, j store.Job) ([]stepJSON, error) {
	steps, err := u.store.Steps(r.Context(), j.ID)
	if err != nil {
		return nil, err
	}
	first, err := u.firstLines(r, j, steps)
	if err != nil {
		return nil, err
	}
	out := []stepJSON{}
	for _, s := range steps {
		out = append(out, stepJSON{Number: s.Number, Name: s.Name, State: state(s.Status, s.Conclusion),
			Label: stateLabel(s.Status, s.Conclusion), Duration: duration(s.StartedAt, s.CompletedAt), First: first[s.Number]})
	}
	return out, nil
}

// jobLines answers the lines after ?after=N (at most a page), as JSON,
// for the script to append as the reader scrolls.
func (u *UI) jobLines(w http.ResponseWriter, r *request) error {
	_, _, j, err := u.jobContext(r)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	steps, err := u.store.Steps(r.Context(), j.ID)
	if err != nil {
		return err
	}
	first, err := u.firstLines(r, j, steps)
	if err != nil {
		return err
	}
	stored, err := u.store.Logs(r.Context(), j.ID, store.LogQuery{After: after, Limit: linesPerPage})
	if err != nil {
		return err
	}
	out := struct {
		Lines []logLine `json:"lines"`
	}{Lines: []logLine{}}
	for _, l := range stored {
		out.Lines = append(out.Lines, toLine(l, first[l.Step]))
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

// jobLive streams a job's new lines as server-sent events, each with the
// line's number as its id, so that a reconnecting EventSource resumes
// after the last line it had (Last-Event-ID); "steps" events carry the
// steps' states, and "done" ends the stream once the job is complete and
// every line was sent.
func (u *UI) jobLive(w http.ResponseWriter, r *request) error {
	_, _, j, err := u.jobContext(r)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if id, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && id > after {
		after = id
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("web: the response cannot stream")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	ctx := r.Context()
	t := time.NewTicker(u.poll)
	defer t.Stop()
	var lastSteps string
	for {
		job, err := u.store.Job(ctx, j.ID)
		if err != nil {
			return nil
		}
		steps, err := u.stepsJSON(r, job)
		if err != nil {
			return nil
		}
		first := map[int64]int64{}
		for _, s := range steps {
			first[s.Number] = s.First
		}
		if first[0] == 0 {
			if ls, err := u.store.Logs(ctx, j.ID, store.LogQuery{Step: 0, Limit: 1}); err == nil && len(ls) > 0 {
				first[0] = ls[0].Number
			}
		}
		if b, _ := json.Marshal(steps); string(b) != lastSteps {
			lastSteps = string(b)
			fmt.Fprintf(w, "event: steps\ndata: %s\n\n", b)
		}
		for {
			lines, err := u.store.Logs(ctx, j.ID, store.LogQuery{After: after, Limit: 500})
			if err != nil {
				return nil
			}
			for _, l := range lines {
				if first[l.Step] == 0 {
					first[l.Step] = l.Number
				}
				b, _ := json.Marshal(toLine(l, first[l.Step]))
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", l.Number, b)
				after = l.Number
			}
			if len(lines) < 500 {
				break
			}
		}
		if job.Status == store.Completed {
			fmt.Fprintf(w, "event: done\ndata: {\"state\":%q}\n\n", state(job.Status, job.Conclusion))
			flusher.Flush()
			return nil
		}
		flusher.Flush()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
