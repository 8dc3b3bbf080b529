package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/server/store"
)

// storeSink records a run's events in the store: jobs and steps with
// their timings and conclusions, log lines (masked by exec before they
// are emitted) and annotations. It is the server's exec.Sink.
type storeSink struct {
	s   *Server
	run store.Run
	log *slog.Logger
	ctx context.Context

	mu   sync.Mutex
	keys map[string]*schedule.Job // planned jobs by display name
	jobs map[string]*jobRecord    // recorded jobs by display name
}

type jobRecord struct {
	id    int64
	step  int64
	start time.Time
	w     *store.LogWriter
}

func newStoreSink(s *Server, run store.Run, log *slog.Logger) *storeSink {
	// Records outlive a cancelled run: its conclusion is part of it.
	return &storeSink{s: s, run: run, log: log, ctx: context.Background(),
		keys: map[string]*schedule.Job{}, jobs: map[string]*jobRecord{}}
}

// expect notes the workflow job id and matrix of the job about to be run
// or skipped under its display name.
func (k *storeSink) expect(job *schedule.Job) {
	k.mu.Lock()
	k.keys[job.Name] = job
	k.mu.Unlock()
}

// carried records a job a re-run of failed jobs does not run again.
func (k *storeSink) carried(job *schedule.Job, prev store.Job) {
	_, err := k.s.store.CreateJob(k.ctx, store.Job{RunID: k.run.ID, Attempt: k.run.Attempt, Key: job.ID, Name: job.Name,
		Status: store.Completed, Conclusion: prev.Conclusion, Labels: prev.Labels, Matrix: prev.Matrix,
		Outputs: prev.Outputs, CreatedAt: prev.CreatedAt, StartedAt: prev.StartedAt, CompletedAt: prev.CompletedAt})
	k.check("record a carried-over job", err)
}

// Emit implements exec.Sink.
func (k *storeSink) Emit(e exec.Event) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch e.Kind {
	case exec.JobStarted:
		rec := k.record(e, store.InProgress)
		k.check("start job", k.s.store.StartJob(k.ctx, rec.id, k.s.host, e.Time))
	case exec.StepStarted:
		if rec := k.jobs[e.Job]; rec != nil {
			rec.step++
			k.check("start step", k.s.store.StartStep(k.ctx, rec.id, rec.step, e.Step, e.Time))
		}
	case exec.Log:
		rec := k.jobs[e.Job]
		if rec == nil {
			rec = k.record(e, store.Queued) // a job that failed before it started
		}
		k.writeLine(rec, e)
	case exec.StepFinished:
		if rec := k.jobs[e.Job]; rec != nil {
			k.check("finish step", k.s.store.FinishStep(k.ctx, rec.id, rec.step, storeConclusion(e.Result), e.Time))
		}
	case exec.JobFinished:
		rec := k.jobs[e.Job]
		if rec == nil {
			rec = k.record(e, store.Queued)
		}
		if rec.w != nil {
			k.check("write log", rec.w.Close(k.ctx))
		}
		c := storeConclusion(e.Result)
		k.check("finish job", k.s.store.FinishJob(k.ctx, rec.id, c, e.Outputs, e.Time))
		if e.Summary != "" {
			k.check("record step summary", k.s.store.PutSummary(k.ctx, rec.id, e.Summary))
		}
		k.s.metrics.jobs.WithLabelValues(string(c)).Inc()
		if !rec.start.IsZero() {
			k.s.metrics.jobSeconds.Observe(e.Time.Sub(rec.start).Seconds())
		}
		delete(k.jobs, e.Job)
	}
}

// record creates the job row of e's job.
func (k *storeSink) record(e exec.Event, st store.Status) *jobRecord {
	if rec := k.jobs[e.Job]; rec != nil {
		return rec
	}
	j := store.Job{RunID: k.run.ID, Attempt: k.run.Attempt, Key: e.Job, Name: e.Job, Status: st}
	if planned := k.keys[e.Job]; planned != nil {
		j.Key = planned.ID
		if planned.Matrix != nil && planned.Matrix.Len() > 0 {
			j.Matrix, _ = json.Marshal(planned.Matrix)
		}
		j.Labels = runsOn(planned)
	}
	rec := &jobRecord{start: e.Time}
	created, err := k.s.store.CreateJob(k.ctx, j)
	k.check("create job", err)
	rec.id = created.ID
	if err == nil {
		rec.w, err = k.s.store.NewLogWriter(k.ctx, rec.id)
		k.check("open job log", err)
	}
	k.jobs[e.Job] = rec
	k.log.Info("job started", "job_id", rec.id, "job", e.Job)
	return rec
}

// writeLine stores a log line as GitHub's raw logs show it: commands and
// annotations with their ##[…] prefixes.
func (k *storeSink) writeLine(rec *jobRecord, e exec.Event) {
	text := e.Line
	switch e.Level {
	case "group", "endgroup", "error", "warning", "notice", "debug":
		text = "##[" + e.Level + "]" + text
	case "command":
		text = "[command]" + text
	}
	if rec.w != nil {
		k.check("write log", rec.w.Write(k.ctx, rec.step, e.Time, text))
	}
	level := map[string]string{"error": "failure", "warning": "warning", "notice": "notice"}[e.Level]
	if level != "" && rec.id != 0 {
		a := store.Annotation{JobID: rec.id, Level: level, Message: e.Line}
		if e.Annotation != nil {
			a.Message, a.Title, a.Path, a.StartLine = e.Annotation.Message, e.Annotation.Title, e.Annotation.File, int64(e.Annotation.Line)
		}
		k.check("add annotation", k.s.store.AddAnnotation(k.ctx, a))
	}
}

// close flushes the logs of jobs that never finished (a forced stop).
func (k *storeSink) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for name, rec := range k.jobs {
		if rec.w != nil {
			k.check("write log", rec.w.Close(k.ctx))
		}
		k.check("finish job", k.s.store.FinishJob(k.ctx, rec.id, store.Cancelled, nil, time.Now()))
		delete(k.jobs, name)
	}
}

func (k *storeSink) check(what string, err error) {
	if err != nil {
		k.log.Error("store: "+what, "error", err)
	}
}

func storeConclusion(r exec.Result) store.Conclusion {
	if r == "" {
		return store.Success
	}
	return conclusionOf(r)
}

// runsOn is a job's runs-on labels, as far as they are literal.
func runsOn(job *schedule.Job) []string {
	if job.Def == nil || job.Def.RunsOn == nil {
		return nil
	}
	var labels []string
	for _, l := range job.Def.RunsOn.Labels {
		labels = append(labels, l.Value)
	}
	return labels
}
