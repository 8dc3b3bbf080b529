package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/workflow"
)

// cron starts the default branches' on.schedule workflows at the minutes
// their cron expressions name, in UTC, as GitHub does. Ticks are read
// from the server's clock; a tick missed while the service was down is
// not caught up (GitHub does not either).
func (s *Server) cron(ctx context.Context) {
	for {
		now := s.now().UTC()
		next := now.Truncate(time.Minute).Add(time.Minute)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.tick(ctx, next)
	}
}

// tick starts the scheduled workflows due at minute m.
func (s *Server) tick(ctx context.Context, m time.Time) {
	for _, repo := range s.repos {
		claimed := map[string]bool{} // the crons of this repository started
		dbRepo, err := s.store.Repository(ctx, repo.Owner, repo.Name)
		if err != nil {
			s.log.Warn("schedule: repository", "repo", repo.FullName(), "error", err)
			continue
		}
		// Fetched each minute: a plain git upstream sends no webhook when
		// the default branch moves.
		err = s.mirrors.Fetch(ctx, repo.FullName(), repo.Remote)
		var wfs []scheduledWorkflow
		if err == nil {
			wfs, err = s.scheduled(ctx, repo)
		}
		if err != nil {
			s.log.Warn("schedule: read the default branch's workflows", "repo", repo.FullName(), "error", err)
			continue
		}
		for _, sw := range wfs {
			for _, c := range sw.crons {
				if !c.cron.Matches(m) || claimed[c.src] {
					continue
				}
				// One host of those sharing the database starts the tick;
				// queue starts every workflow with this cron, so the
				// claim is per repository, cron and minute.
				claimed[c.src] = true
				if ok, err := s.store.ClaimTick(ctx, dbRepo.ID, c.src, m, s.host); err != nil {
					s.log.Warn("schedule: claim the tick", "repo", repo.FullName(), "cron", c.src, "error", err)
					continue
				} else if !ok {
					s.log.Info("schedule tick taken by another host", "repo", repo.FullName(), "cron", c.src, "tick", m)
					continue
				}
				s.log.Info("schedule tick claimed", "repo", repo.FullName(), "cron", c.src, "tick", m)
				// https://docs.github.com/en/webhooks/webhook-events-and-payloads#schedule
				payload, _ := json.Marshal(map[string]any{"schedule": c.src})
				ev := event{name: "schedule", ref: "refs/heads/" + sw.branch, branch: sw.branch, sha: sw.sha,
					payload: payload, cron: c.src}
				if _, err := s.queue(ctx, repo, ev, s.log.With("cron", c.src)); err != nil {
					s.log.Warn("schedule: queue runs", "repo", repo.FullName(), "cron", c.src, "error", err)
				}
			}
		}
	}
}

type scheduledWorkflow struct {
	branch, sha string
	crons       []parsedCron
}

type parsedCron struct {
	src  string
	cron workflow.Cron
}

// scheduled reads the on.schedule crons of the default branch's
// workflows, as the mirror has the branch.
func (s *Server) scheduled(ctx context.Context, repo *Repo) ([]scheduledWorkflow, error) {
	branch, err := s.defaultBranch(ctx, repo)
	if err != nil {
		return nil, err
	}
	name := repo.FullName()
	sha, err := s.mirrors.Resolve(ctx, name, "refs/heads/"+branch)
	if err != nil {
		return nil, err
	}
	files, err := s.mirrors.Workflows(ctx, name, sha)
	if err != nil {
		return nil, err
	}
	var out []scheduledWorkflow
	for _, f := range files {
		wf, err := workflow.NewParser().Parse(f.Path, f.Data)
		if err != nil || wf.Event("schedule") == nil {
			continue
		}
		sw := scheduledWorkflow{branch: branch, sha: sha}
		for _, c := range wf.Event("schedule").Schedules {
			if pc, err := workflow.ParseCron(c.Value); err == nil {
				sw.crons = append(sw.crons, parsedCron{src: c.Value, cron: pc})
			}
		}
		out = append(out, sw)
	}
	return out, nil
}

// cronMissed logs the schedule ticks that passed while the service was
// down: they are not run, as on GitHub.
func (s *Server) cronMissed(ctx context.Context) {
	now := s.now().UTC()
	for _, repo := range s.repos {
		dbRepo, err := s.store.Repository(ctx, repo.Owner, repo.Name)
		if err != nil {
			continue
		}
		last, err := s.store.ListRuns(ctx, store.RunFilter{RepoID: dbRepo.ID, Event: "schedule", Limit: 1})
		if err != nil || len(last) == 0 {
			continue
		}
		wfs, err := s.scheduled(ctx, repo)
		if err != nil {
			continue
		}
		since := last[0].CreatedAt.UTC()
		for _, sw := range wfs {
			for _, c := range sw.crons {
				if n := c.cron.Next(since); !n.IsZero() && n.Before(now.Truncate(time.Minute)) {
					s.log.Warn("schedule ticks passed while the service was down are not run (GitHub does not catch up either)",
						"repo", repo.FullName(), "cron", c.src, "first_missed", n)
				}
			}
		}
	}
}
