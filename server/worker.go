package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/workflow"
)

// work claims queued runs and executes them, at most s.workers at once,
// until ctx ends.
func (s *Server) work(ctx context.Context) {
	slots := make(chan struct{}, s.workers)
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		run, err := s.store.ClaimRun(ctx, s.host, s.lease)
		if err != nil {
			<-slots
			if !errors.Is(err, store.ErrNoRun) && ctx.Err() == nil {
				s.log.Error("claim a queued run", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-tick.C:
			}
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-slots }()
			s.execute(ctx, run)
		}()
	}
}

// execute runs one claimed run to its conclusion.
func (s *Server) execute(parent context.Context, run store.Run) {
	log := s.log.With("run_id", run.ID, "attempt", run.Attempt)
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	active := &activeRun{cancel: cancel, force: make(chan struct{})}
	s.mu.Lock()
	s.running[run.ID] = active
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, run.ID)
		s.mu.Unlock()
	}()
	go s.keepLease(ctx, run.ID, log)

	start := s.now()
	repo, _ := s.store.RepositoryByID(ctx, run.RepoID)
	s.report(ctx, run, "")
	conclusion, err := s.runWorkflow(ctx, repo, run, active, log)
	if err != nil {
		log.Error("run failed to start", "error", err)
	}
	s.mu.Lock()
	if active.cancelled {
		conclusion = store.Cancelled
	}
	lost := active.lost
	s.mu.Unlock()
	if lost {
		log.Warn("run stopped; another host concluded it as lost")
		return
	}
	// Recorded even when the service is stopping: the run is over.
	done := context.WithoutCancel(ctx)
	if err := s.store.CompleteRun(done, run.ID, conclusion); err != nil {
		log.Error("record the run's conclusion", "error", err)
	}
	s.metrics.runs.WithLabelValues(string(conclusion)).Inc()
	s.metrics.runSeconds.Observe(s.now().Sub(start).Seconds())
	s.report(done, run, conclusion)
	log.Info("run completed", "conclusion", conclusion)
}

// keepLease renews the run's lease until ctx ends, so that another host
// (or this one after a restart) takes it as lost only when this process is
// gone.
func (s *Server) keepLease(ctx context.Context, id int64, log *slog.Logger) {
	t := time.NewTicker(s.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := s.store.RenewLease(ctx, id, s.host, s.lease)
			if errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
				// Another host concluded the run as lost (this host
				// missed renewals for a lease): it is over, stop it here.
				log.Warn("run was concluded as lost by another host; stopping it", "error", err)
				s.mu.Lock()
				if a := s.running[id]; a != nil {
					a.lost = true
				}
				s.mu.Unlock()
				s.cancelLocal(id, true)
				return
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("renew the run's lease", "error", err)
			}
		}
	}
}

// runWorkflow checks the run's commit out, plans its workflow and runs it.
func (s *Server) runWorkflow(ctx context.Context, repo store.Repository, run store.Run, active *activeRun, log *slog.Logger) (store.Conclusion, error) {
	cfg, ok := s.repo(repo.FullName())
	if !ok {
		return store.Failure, unknownRepo(repo.FullName())
	}
	name := repo.FullName()
	if err := s.mirrors.Fetch(ctx, name, cfg.Remote, run.HeadSHA); err != nil {
		return store.Failure, err
	}
	dir := filepath.Join(s.workDir, fmt.Sprintf("%d-%d", run.ID, run.Attempt))
	defer os.RemoveAll(dir)
	// Checked out only if a job reads the tree (actions/checkout): a run
	// whose jobs do not starts without waiting for git.
	src := filepath.Join(dir, "src")
	checkout := func(ctx context.Context) error {
		if err := s.mirrors.Checkout(ctx, name, run.HeadSHA, src); err != nil {
			return fmt.Errorf("check out %s: %w", run.HeadSHA, err)
		}
		return nil
	}
	data, err := s.workflowFile(ctx, name, run.HeadSHA, run.WorkflowPath)
	if err != nil {
		return store.Failure, err
	}
	wf, err := workflow.NewParser().Parse(run.WorkflowPath, data)
	if err != nil {
		s.failInvalid(ctx, run, err)
		return store.Failure, nil
	}
	vars, secretValues, err := s.runValues(ctx, repo)
	if err != nil {
		return store.Failure, err
	}
	contexts := s.contexts(repo, run, src, vars, secretValues)
	plan, err := schedule.NewPlan(wf, schedule.WithContexts(contexts))
	if err != nil {
		s.failInvalid(ctx, run, err)
		return store.Failure, nil
	}
	var masker exec.Masker
	for _, v := range secretValues {
		masker.Add(fmt.Sprint(v))
	}
	sink := newStoreSink(s, run, log)
	trace := s.tracer.StartRun(ctx, run)
	backend := s.backend
	if backend == nil {
		backend = host.New()
	}
	sinks := multiSink{sink, trace.Sink()}
	if s.events != nil {
		sinks = append(sinks, s.events)
	}
	runner, err := exec.New(backend, exec.WithSink(sinks), exec.WithMasker(&masker),
		exec.WithRepo(exec.Repo{Root: src, SHA: run.HeadSHA, Ref: run.Ref, Repository: name}), exec.WithRepoReady(checkout),
		exec.WithRunID(strconv.FormatInt(run.ID, 10)), exec.WithWorkDir(filepath.Join(dir, "jobs")),
		exec.WithForceStop(active.force), exec.WithLogger(log), exec.WithResults(s.results, false))
	if err != nil {
		trace.End(string(store.Failure))
		return store.Failure, err
	}
	jobs, err := s.carryOver(ctx, run)
	if err != nil {
		trace.End(string(store.Failure))
		return store.Failure, err
	}
	res := schedule.New(schedule.WithGroups(s.groups), schedule.WithForceStop(active.force)).
		Run(ctx, plan, &recordingRunner{inner: runner, sink: sink, done: jobs})
	sink.close()
	s.keepArtifacts(ctx, run, log)
	c := conclusionOf(res.Result)
	trace.End(string(c))
	return c, nil
}

// runValues are the repository's variables and its secrets, decrypted.
func (s *Server) runValues(ctx context.Context, repo store.Repository) (vars, secretValues map[string]any, err error) {
	vars, secretValues = map[string]any{}, map[string]any{}
	vs, err := s.store.Variables(ctx, repo.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range vs {
		vars[v.Name] = v.Value
	}
	list, err := s.store.Secrets(ctx, repo.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, sec := range list {
		full, err := s.store.Secret(ctx, repo.ID, sec.Name)
		if err != nil {
			return nil, nil, err
		}
		plain, err := s.box.Decrypt(secrets.RowContext(repo.ID, sec.Name), full.Nonce, full.Ciphertext)
		if err != nil {
			return nil, nil, fmt.Errorf("secret %s cannot be decrypted (was the service key changed?)", sec.Name)
		}
		secretValues[sec.Name] = string(plain)
	}
	return vars, secretValues, nil
}

// carryOver is, for a re-run of failed jobs, the jobs of the previous
// attempt that succeeded: they do not run again, and are recorded in the
// new attempt with their outputs, as GitHub shows them.
func (s *Server) carryOver(ctx context.Context, run store.Run) (map[string]store.Job, error) {
	if run.Attempt < 2 {
		return nil, nil
	}
	att, err := s.store.Attempt(ctx, run.ID, run.Attempt)
	if err != nil || !att.FailedOnly {
		return nil, err
	}
	prev, err := s.store.Jobs(ctx, run.ID, run.Attempt-1)
	if err != nil {
		return nil, err
	}
	done := map[string]store.Job{}
	for _, j := range prev {
		if j.Conclusion == store.Success {
			done[j.Name] = j
		}
	}
	return done, nil
}

func conclusionOf(r schedule.Result) store.Conclusion {
	switch r {
	case schedule.Success:
		return store.Success
	case schedule.Cancelled:
		return store.Cancelled
	case schedule.Skipped:
		return store.Skipped
	}
	return store.Failure
}

// recordingRunner tells the sink the workflow id of each job before it
// runs, and gives the jobs a re-run carries over their previous outcome.
type recordingRunner struct {
	inner schedule.JobRunner
	sink  *storeSink
	done  map[string]store.Job
}

func (r *recordingRunner) RunJob(ctx context.Context, job *schedule.Job) schedule.Outcome {
	if prev, ok := r.done[job.Name]; ok {
		r.sink.carried(job, prev)
		return schedule.Outcome{Result: schedule.Success, Outputs: prev.Outputs}
	}
	r.sink.expect(job)
	return r.inner.RunJob(ctx, job)
}

func (r *recordingRunner) SkipJob(job *schedule.Job, result schedule.Result, reason error) {
	r.sink.expect(job)
	r.inner.SkipJob(job, result, reason)
}

// multiSink emits to several sinks.
type multiSink []exec.Sink

func (m multiSink) Emit(e exec.Event) {
	for _, s := range m {
		s.Emit(e)
	}
}

// keepArtifacts records the artifacts the run uploaded, for the API; their
// content stays where the results service wrote it, under the data
// directory, until the retention removes it.
func (s *Server) keepArtifacts(ctx context.Context, run store.Run, log *slog.Logger) {
	list, err := s.results.RunArtifacts(strconv.FormatInt(run.ID, 10))
	if err != nil {
		log.Warn("list the run's artifacts", "error", err)
		return
	}
	for _, a := range list {
		_, err = s.store.AddArtifact(context.WithoutCancel(ctx), store.Artifact{RunID: run.ID, Name: a.Name, Size: a.Size,
			Path: s.artifactPath(a.Path), Digest: a.Digest, CreatedAt: a.Created})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			log.Warn("record an artifact", "artifact", a.Name, "error", err)
		}
	}
}
