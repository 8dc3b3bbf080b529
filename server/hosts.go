package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

// Several hosts share the work when their stores are one PostgreSQL
// database: each claims queued runs (store.ClaimRun), and the loops below
// keep a host's heartbeat, conclude the runs of hosts that are gone, and
// carry out cancels asked for through another host's API.
//
// The rule for a lost host: it renews its runs' leases and its heartbeat
// every lease/3 (WithLease, default one minute). Once a run's lease has
// lapsed, or its host's heartbeat is older than the lease, the next
// host's sweep (every lease/3) concludes the run as failed, with the
// annotation GitHub gives a job whose runner lost communication; it is
// not re-run by itself (a re-run is the user's call, as on GitHub).
// Queued runs belong to no host: the others claim them at once. So a dead
// host's runs are concluded within lease + lease/3 of its last renewal
// (80 s by default), and its queued work is taken within the poll interval.

// lostMessage is GitHub's annotation of a job whose runner went away
// (https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/monitoring-and-troubleshooting-self-hosted-runners).
const lostMessage = "The self-hosted runner lost communication with the server. Verify the machine is running and has a healthy network connection. Anything in your workflow that terminates the runner process, starves it for CPU/Memory, or blocks its network access can cause this error."

// WithLease sets how long a run's lease (and a host's heartbeat) lasts
// without renewal before other hosts conclude the run as lost (default one
// minute). Renewals happen every lease/3.
func WithLease(d time.Duration) Option {
	return func(s *Server) error {
		if d < 3*time.Millisecond {
			return errors.New("server: lease too short")
		}
		s.lease = d
		return nil
	}
}

// WithArtifactDir keeps run artifacts in dir instead of the data
// directory's artifacts/: a directory every host mounts (NFS, a shared
// volume), so any host's API serves any run's artifacts.
func WithArtifactDir(dir string) Option {
	return func(s *Server) error {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		s.artifactDir = abs
		return nil
	}
}

// hosts beats this host's heartbeat and sweeps for lost hosts' runs
// every lease/3, and applies cancel requests every poll interval, until
// ctx ends.
func (s *Server) hosts(ctx context.Context) {
	started := s.now()
	beat := time.NewTicker(s.lease / 3)
	defer beat.Stop()
	poll := time.NewTicker(s.poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if err := s.store.Heartbeat(ctx, s.host, started); err != nil && ctx.Err() == nil {
				s.log.Warn("heartbeat", "error", err)
			}
			s.sweepLost(ctx)
		case <-poll.C:
			s.applyCancels(ctx)
		}
	}
}

// sweepLost concludes the runs of hosts that stopped renewing.
func (s *Server) sweepLost(ctx context.Context) {
	ids, err := s.store.AbandonLost(ctx, s.lease, lostMessage)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("conclude the runs of lost hosts", "error", err)
		}
		return
	}
	for _, id := range ids {
		run, err := s.store.Run(ctx, id)
		if err != nil {
			continue
		}
		s.log.Warn("run's host stopped renewing its lease; concluded as failed", "run_id", id, "host", run.LeaseHost)
		s.metrics.runs.WithLabelValues(string(store.Failure)).Inc()
		s.report(ctx, run, store.Failure)
	}
}

// applyCancels cancels the runs executing here that a cancel through
// another host's API asked for.
func (s *Server) applyCancels(ctx context.Context) {
	s.mu.Lock()
	n := len(s.running)
	s.mu.Unlock()
	if n == 0 {
		return
	}
	reqs, err := s.store.CancelRequests(ctx, s.host)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("read cancel requests", "error", err)
		}
		return
	}
	for id, force := range reqs {
		s.cancelLocal(id, force)
	}
}

// cancelLocal cancels run id if it executes here, reporting whether it
// does.
func (s *Server) cancelLocal(id int64, force bool) bool {
	s.mu.Lock()
	active := s.running[id]
	already := false
	if active != nil {
		already = active.cancelled
		active.cancelled = true
	}
	s.mu.Unlock()
	if active == nil {
		return false
	}
	active.cancel()
	if force {
		active.forceOnce.Do(func() { close(active.force) })
	}
	if !already || force {
		s.log.Info("run cancelled", "run_id", id, "force", force)
	}
	return true
}

// artifactPath is where an artifact the results service wrote at p is
// recorded: relative to the data directory when under it, else absolute
// (a shared directory, the same path on every host).
func (s *Server) artifactPath(p string) string {
	if rel, err := filepath.Rel(s.store.Dir(), p); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return p
}

// removeArtifact removes an artifact's content, at a path artifactPath
// recorded.
func (s *Server) removeArtifact(p string) {
	if p == "" {
		return
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.store.Dir(), filepath.FromSlash(p))
	}
	_ = os.RemoveAll(p)
}
