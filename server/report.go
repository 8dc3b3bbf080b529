package server

import (
	"context"
	"fmt"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/server/status"
	"github.com/vermont-ci/vermont/server/store"
)

// Tracer traces runs; package telemetry's OTLP tracing implements it
// through TracerOf.
type Tracer interface {
	StartRun(ctx context.Context, run store.Run) RunTrace
}

// RunTrace is one run's trace: its sink opens job and step spans.
type RunTrace interface {
	Sink() exec.Sink
	End(conclusion string)
}

type noTracer struct{}

func (noTracer) StartRun(context.Context, store.Run) RunTrace { return noTrace{} }

type noTrace struct{}

func (noTrace) Sink() exec.Sink { return exec.SinkFunc(func(exec.Event) {}) }
func (noTrace) End(string)      {}

// report posts the run's commit status upstream: pending while it runs
// (conclusion ""), then its conclusion. A failure to report is logged,
// never the run's failure.
func (s *Server) report(ctx context.Context, run store.Run, c store.Conclusion) {
	repo, err := s.store.RepositoryByID(ctx, run.RepoID)
	if err != nil {
		return
	}
	cfg, ok := s.repo(repo.FullName())
	if !ok || cfg.Statuses == nil {
		return
	}
	desc := "Running"
	switch c {
	case store.Success:
		desc = "Successful"
	case store.Failure:
		desc = "Failed"
	case store.Cancelled:
		desc = "Cancelled"
	case store.Skipped:
		desc = "Skipped"
	}
	st := status.Status{Owner: repo.Owner, Repo: repo.Name, SHA: run.HeadSHA, State: status.StateOf(string(c)),
		TargetURL: fmt.Sprintf("%s/%s/actions/runs/%d", s.baseURL, repo.FullName(), run.ID), Description: desc,
		Context: fmt.Sprintf("vermont / %s (%s)", run.WorkflowName, run.Event)}
	if err := cfg.Statuses.Report(ctx, st); err != nil {
		s.log.Warn("post the commit status", "run_id", run.ID, "error", err)
	}
}
