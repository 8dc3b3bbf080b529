package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vermont-ci/vermont/internal/pgtest"
	"github.com/vermont-ci/vermont/server/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pg is the private PostgreSQL server the postgres subtests use.
var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// eachBackend runs f as a subtest per backend: "sqlite" and "postgres".
// open reads which one from the subtest's name.
func eachBackend(t *testing.T, f func(t *testing.T)) {
	t.Run("sqlite", f)
	t.Run("postgres", f)
}

// databases maps a test's data directory to its PostgreSQL URL, for
// reopen.
var databases sync.Map

// open opens a new store: SQLite in a temporary directory, or, in a
// "postgres" subtest of eachBackend, a new database on the private
// PostgreSQL server.
func open(t testing.TB, opts ...store.Option) (*store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	if strings.HasSuffix(t.Name(), "/postgres") || strings.Contains(t.Name(), "/postgres/") {
		url := pg.URL(t)
		databases.Store(dir, url)
		opts = append(opts, store.WithDatabase(url))
	}
	s, err := store.Open(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// reopen opens the store open made in dir again.
func reopen(t testing.TB, dir string) *store.Store {
	t.Helper()
	var opts []store.Option
	if url, ok := databases.Load(dir); ok {
		opts = append(opts, store.WithDatabase(url.(string)))
	}
	s, err := store.Open(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func repo(t testing.TB, s *store.Store) store.Repository {
	t.Helper()
	r, err := s.PutRepository(context.Background(), store.Repository{Owner: "octo", Name: "hello", CloneURL: "/srv/git/hello.git", DefaultBranch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMigrateOldSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A database as Vermont left it before migration 0002 existed.
	if err := store.OpenAt(ctx, dir, 1); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO repositories (owner, name, created_at, updated_at) VALUES ('octo', 'old', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT 1 FROM tokens`); err == nil {
		t.Fatal("version 1 has a tokens table; the test builds no old schema")
	}
	db.Close()

	s, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Repository(ctx, "octo", "old"); err != nil {
		t.Fatalf("the old schema's row is gone: %v", err)
	}
	if _, err := s.CreateToken(ctx, store.Token{Name: "ci", Hash: []byte("h"), Scope: "read"}); err != nil {
		t.Fatalf("migration 2 not applied: %v", err)
	}
	var versions int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != store.SQLiteMigrations {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", versions, err, store.SQLiteMigrations)
	}
	// Opening again applies nothing and fails nothing.
	s.Close()
	if s, err = store.Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
}

func TestMigrationNewerThanBinary(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	if _, err := s.DB().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := store.Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want an error saying it is newer", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		err   string
	}{
		{name: "ordered", files: []string{"0002_b.sql", "0001_a.sql"}},
		{name: "gap", files: []string{"0001_a.sql", "0003_c.sql"}, err: "want version 2"},
		{name: "no number", files: []string{"init.sql"}, err: "want NNNN_name.sql"},
		{name: "not sql", files: []string{"0001_a.txt"}, err: "want NNNN_name.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			_, err := store.LoadMigrations(fsys, "m")
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestRunNumbersPerWorkflow(t *testing.T) { eachBackend(t, testRunNumbersPerWorkflow) }

func testRunNumbersPerWorkflow(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r := repo(t, s)
	var got []int64
	for _, path := range []string{"ci.yml", "ci.yml", "lint.yml", "ci.yml"} {
		run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: path, Event: "push"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, run.RunNumber)
	}
	if want := []int64{1, 2, 1, 3}; !equal(got, want) {
		t.Fatalf("run numbers %v, want %v", got, want)
	}
	wfs, err := s.Workflows(ctx, r.ID)
	if err != nil || len(wfs) != 2 || wfs[0].Path != "ci.yml" || wfs[0].Name != "ci.yml" {
		t.Fatalf("workflows %+v, %v", wfs, err)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListRunsFilters(t *testing.T) { eachBackend(t, testListRunsFilters) }

func testListRunsFilters(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := open(t, store.WithClock(c.now))
	r := repo(t, s)
	other, err := s.PutRepository(ctx, store.Repository{Owner: "octo", Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(repoID int64, path, event, branch, actor, sha string) int64 {
		c.add(time.Minute)
		run, err := s.CreateRun(ctx, store.NewRun{RepoID: repoID, WorkflowPath: path, Event: event,
			HeadBranch: branch, Actor: actor, HeadSHA: sha, Payload: json.RawMessage(`{"ref":"x"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return run.ID
	}
	a := mk(r.ID, "ci.yml", "push", "main", "mona", "aaa")
	b := mk(r.ID, "ci.yml", "pull_request", "feature", "hubot", "bbb")
	cc := mk(r.ID, "lint.yml", "push", "main", "hubot", "ccc")
	mk(other.ID, "ci.yml", "push", "main", "mona", "ddd")
	if err := s.CompleteRun(ctx, b, store.Failure); err != nil {
		t.Fatal(err)
	}
	ci, err := s.WorkflowByPath(ctx, r.ID, "ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter store.RunFilter
		want   []int64
	}{
		{name: "repo, newest first", filter: store.RunFilter{RepoID: r.ID}, want: []int64{cc, b, a}},
		{name: "workflow", filter: store.RunFilter{RepoID: r.ID, WorkflowID: ci.ID}, want: []int64{b, a}},
		{name: "branch", filter: store.RunFilter{RepoID: r.ID, Branch: "main"}, want: []int64{cc, a}},
		{name: "event", filter: store.RunFilter{RepoID: r.ID, Event: "pull_request"}, want: []int64{b}},
		{name: "actor", filter: store.RunFilter{RepoID: r.ID, Actor: "hubot"}, want: []int64{cc, b}},
		{name: "head sha", filter: store.RunFilter{HeadSHA: "aaa"}, want: []int64{a}},
		{name: "status", filter: store.RunFilter{RepoID: r.ID, Status: "queued"}, want: []int64{cc, a}},
		{name: "status as conclusion", filter: store.RunFilter{RepoID: r.ID, Status: "failure"}, want: []int64{b}},
		{name: "created range", filter: store.RunFilter{RepoID: r.ID,
			CreatedAfter: time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC), CreatedBefore: time.Date(2026, 1, 1, 0, 3, 0, 0, time.UTC)}, want: []int64{b}},
		{name: "page", filter: store.RunFilter{RepoID: r.ID, Limit: 1, Offset: 1}, want: []int64{b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.ListRuns(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, run := range runs {
				got = append(got, run.ID)
			}
			if !equal(got, tt.want) {
				t.Fatalf("runs %v, want %v", got, tt.want)
			}
			n, err := s.CountRuns(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if tt.filter.Limit == 0 && n != len(tt.want) {
				t.Fatalf("count %d, want %d", n, len(tt.want))
			}
		})
	}
	run, err := s.Run(ctx, a)
	if err != nil || string(run.Payload) != `{"ref":"x"}` || string(run.Inputs) != "{}" || run.WorkflowPath != "ci.yml" {
		t.Fatalf("run %+v, %v", run, err)
	}
	if _, err := s.Run(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing run: %v, want ErrNotFound", err)
	}
}

func TestClaimRun(t *testing.T) { eachBackend(t, testClaimRun) }

func testClaimRun(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := open(t, store.WithClock(c.now))
	r := repo(t, s)
	mk := func(group string) int64 {
		run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push", Concurrency: group})
		if err != nil {
			t.Fatal(err)
		}
		return run.ID
	}
	g1 := mk("deploy")
	g2 := mk("deploy")
	free := mk("")

	claim := func() int64 {
		run, err := s.ClaimRun(ctx, "host-a", time.Minute)
		if errors.Is(err, store.ErrNoRun) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != store.InProgress || run.LeaseHost != "host-a" || !run.LeaseUntil.Equal(c.now().Add(time.Minute)) {
			t.Fatalf("claimed run %+v", run)
		}
		return run.ID
	}
	// The second run of group "deploy" waits while the first is in progress.
	if got := []int64{claim(), claim(), claim()}; !equal(got, []int64{g1, free, 0}) {
		t.Fatalf("claims %v, want %v", got, []int64{g1, free, 0})
	}
	if err := s.CompleteRun(ctx, g1, store.Success); err != nil {
		t.Fatal(err)
	}
	if got := claim(); got != g2 {
		t.Fatalf("after the group's run completed, claimed %d, want %d", got, g2)
	}
	a, err := s.Attempt(ctx, g2, 1)
	if err != nil || a.Status != store.InProgress || a.StartedAt.IsZero() {
		t.Fatalf("attempt %+v, %v", a, err)
	}
	if err := s.RenewLease(ctx, g2, "host-b", time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("renew by another host: %v, want ErrNotFound", err)
	}
	if err := s.RenewLease(ctx, g2, "host-a", time.Hour); err != nil {
		t.Fatal(err)
	}
}

func TestNewAttempt(t *testing.T) { eachBackend(t, testNewAttempt) }

func testNewAttempt(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r := repo(t, s)
	run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push", Actor: "mona"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewAttempt(ctx, run.ID, "hubot", false); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("re-run of a queued run: %v, want ErrConflict", err)
	}
	if _, err := s.NewAttempt(ctx, 999, "hubot", false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("re-run of a missing run: %v, want ErrNotFound", err)
	}
	if _, err := s.ClaimRun(ctx, "h", time.Minute); err != nil {
		t.Fatal(err)
	}
	job, err := s.CreateJob(ctx, store.Job{RunID: run.ID, Attempt: 1, Key: "build", Name: "build", Labels: []string{"ubuntu-latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishJob(ctx, job.ID, store.Failure, map[string]string{"v": "1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, run.ID, store.Failure); err != nil {
		t.Fatal(err)
	}
	a, err := s.NewAttempt(ctx, run.ID, "hubot", true)
	if err != nil {
		t.Fatal(err)
	}
	if a.Number != 2 || !a.FailedOnly || a.Status != store.Queued || a.Actor != "hubot" {
		t.Fatalf("attempt %+v", a)
	}
	got, err := s.Run(ctx, run.ID)
	if err != nil || got.Attempt != 2 || got.Status != store.Queued || got.Conclusion != "" || got.Actor != "hubot" {
		t.Fatalf("run after re-run %+v, %v", got, err)
	}
	if jobs, err := s.Jobs(ctx, run.ID, 0); err != nil || len(jobs) != 0 {
		t.Fatalf("latest attempt's jobs %+v, %v; want none yet", jobs, err)
	}
	jobs, err := s.Jobs(ctx, run.ID, 1)
	if err != nil || len(jobs) != 1 || jobs[0].Outputs["v"] != "1" || jobs[0].Labels[0] != "ubuntu-latest" {
		t.Fatalf("attempt 1's jobs %+v, %v", jobs, err)
	}
	atts, err := s.Attempts(ctx, run.ID)
	if err != nil || len(atts) != 2 || atts[0].Conclusion != store.Failure {
		t.Fatalf("attempts %+v, %v", atts, err)
	}
}

func TestAbandon(t *testing.T) { eachBackend(t, testAbandon) }

func testAbandon(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := open(t, store.WithClock(c.now))
	r := repo(t, s)
	var ids []int64
	for range 4 {
		run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	mine, err := s.ClaimRun(ctx, "me", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lapsed, err := s.ClaimRun(ctx, "dead", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	alive, err := s.ClaimRun(ctx, "alive", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.CreateJob(ctx, store.Job{RunID: mine.ID, Attempt: 1, Key: "a", Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishJob(ctx, done.ID, store.Success, nil, c.now()); err != nil {
		t.Fatal(err)
	}
	running, err := s.CreateJob(ctx, store.Job{RunID: mine.ID, Attempt: 1, Key: "b", Name: "b", Status: store.InProgress})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartStep(ctx, running.ID, 1, "Run make", c.now()); err != nil {
		t.Fatal(err)
	}
	c.add(2 * time.Minute)
	const msg = "The runner has received a shutdown signal."
	got, err := s.Abandon(ctx, "me", msg)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got, []int64{mine.ID, lapsed.ID}) {
		t.Fatalf("abandoned %v, want %v", got, []int64{mine.ID, lapsed.ID})
	}
	for _, tt := range []struct {
		id     int64
		status store.Status
		concl  store.Conclusion
	}{
		{id: mine.ID, status: store.Completed, concl: store.Failure},
		{id: lapsed.ID, status: store.Completed, concl: store.Failure},
		{id: alive.ID, status: store.InProgress},
		{id: ids[3], status: store.Queued},
	} {
		run, err := s.Run(ctx, tt.id)
		if err != nil || run.Status != tt.status || run.Conclusion != tt.concl {
			t.Errorf("run %d: %s/%s (%v), want %s/%s", tt.id, run.Status, run.Conclusion, err, tt.status, tt.concl)
		}
	}
	if j, _ := s.Job(ctx, done.ID); j.Conclusion != store.Success {
		t.Errorf("finished job became %s", j.Conclusion)
	}
	if j, _ := s.Job(ctx, running.ID); j.Conclusion != store.Failure || j.Status != store.Completed {
		t.Errorf("interrupted job %s/%s, want completed/failure", j.Status, j.Conclusion)
	}
	steps, _ := s.Steps(ctx, running.ID)
	if len(steps) != 1 || steps[0].Conclusion != store.Failure {
		t.Errorf("interrupted step %+v", steps)
	}
	anns, err := s.Annotations(ctx, running.ID)
	if err != nil || len(anns) != 1 || anns[0].Message != msg || anns[0].Level != "failure" {
		t.Errorf("annotations %+v, %v", anns, err)
	}
	if anns, _ := s.Annotations(ctx, done.ID); len(anns) != 0 {
		t.Errorf("finished job annotated: %+v", anns)
	}
}

func TestArtifacts(t *testing.T) { eachBackend(t, testArtifacts) }

func testArtifacts(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := open(t, store.WithClock(c.now), store.WithArtifactRetention(24*time.Hour))
	r := repo(t, s)
	run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AddArtifact(ctx, store.Artifact{RunID: run.ID, Name: "dist", Size: 3, Path: "artifacts/1/dist"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.ExpiresAt.Equal(c.now().Add(24 * time.Hour)) {
		t.Fatalf("expires %v, want a day from now", a.ExpiresAt)
	}
	if _, err := s.AddArtifact(ctx, store.Artifact{RunID: run.ID, Name: "dist"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	if exp, _ := s.ExpiredArtifacts(ctx); len(exp) != 0 {
		t.Fatalf("expired already: %+v", exp)
	}
	c.add(25 * time.Hour)
	exp, err := s.ExpiredArtifacts(ctx)
	if err != nil || len(exp) != 1 || exp[0].ID != a.ID {
		t.Fatalf("expired %+v, %v", exp, err)
	}
	if all, _ := s.RepoArtifacts(ctx, r.ID); len(all) != 1 {
		t.Fatalf("repo artifacts %+v", all)
	}
	if err := s.DeleteArtifact(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Artifact(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted artifact: %v", err)
	}
	if _, err := store.Open(ctx, t.TempDir(), store.WithArtifactRetention(0)); err == nil {
		t.Fatal("zero retention accepted")
	}
}

func TestSeeDeliveryAcrossRestart(t *testing.T) { eachBackend(t, testSeeDeliveryAcrossRestart) }

func testSeeDeliveryAcrossRestart(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	for _, tt := range []struct {
		id    string
		fresh bool
	}{{id: "d-1", fresh: true}, {id: "d-1", fresh: false}, {id: "d-2", fresh: true}} {
		fresh, err := s.SeeDelivery(ctx, tt.id)
		if err != nil || fresh != tt.fresh {
			t.Fatalf("SeeDelivery(%s) = %v, %v; want %v", tt.id, fresh, err, tt.fresh)
		}
	}
	s.Close()
	s2 := reopen(t, dir)
	if fresh, err := s2.SeeDelivery(ctx, "d-2"); err != nil || fresh {
		t.Fatalf("after restart, d-2 fresh=%v (%v): replay not caught", fresh, err)
	}
	if err := s2.PruneDeliveries(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if fresh, _ := s2.SeeDelivery(ctx, "d-2"); !fresh {
		t.Fatal("pruned delivery still seen")
	}
}

func TestAPITables(t *testing.T) { eachBackend(t, testAPITables) }

func testAPITables(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r := repo(t, s)
	tok, err := s.CreateToken(ctx, store.Token{Name: "ci", Hash: []byte{1, 2}, Scope: "write"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, store.Token{Name: "ci", Hash: []byte{3}, Scope: "read"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate token name: %v", err)
	}
	got, err := s.TokenByHash(ctx, []byte{1, 2})
	if err != nil || got.ID != tok.ID || got.Scope != "write" {
		t.Fatalf("token %+v, %v", got, err)
	}
	if err := s.TouchToken(ctx, tok.ID, time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenByHash(ctx, []byte{9}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	for _, repoID := range []int64{r.ID, store.Global} {
		if err := s.PutSecret(ctx, store.Secret{RepoID: repoID, Name: "TOKEN", Ciphertext: []byte("c1"), Nonce: []byte("n")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSecret(ctx, store.Secret{RepoID: r.ID, Name: "TOKEN", Ciphertext: []byte("c2"), Nonce: []byte("n")}); err != nil {
		t.Fatal(err)
	}
	if sec, err := s.Secret(ctx, r.ID, "TOKEN"); err != nil || string(sec.Ciphertext) != "c2" {
		t.Fatalf("secret %+v, %v", sec, err)
	}
	if secs, _ := s.Secrets(ctx, store.Global); len(secs) != 1 || string(secs[0].Ciphertext) != "c1" {
		t.Fatalf("global secrets %+v", secs)
	}
	if err := s.DeleteSecret(ctx, r.ID, "TOKEN"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSecret(ctx, r.ID, "TOKEN"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.CreateVariable(ctx, store.Variable{RepoID: r.ID, Name: "ENV", Value: "prod"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateVariable(ctx, store.Variable{RepoID: r.ID, Name: "ENV", Value: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate variable: %v", err)
	}
	if err := s.UpdateVariable(ctx, store.Variable{RepoID: r.ID, Name: "ENV", Value: "staging"}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Variable(ctx, r.ID, "ENV"); err != nil || v.Value != "staging" {
		t.Fatalf("variable %+v, %v", v, err)
	}
	if err := s.UpdateVariable(ctx, store.Variable{RepoID: r.ID, Name: "NOPE"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing variable: %v", err)
	}
	if err := s.DeleteVariable(ctx, r.ID, "ENV"); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.Variables(ctx, r.ID); len(vs) != 0 {
		t.Fatalf("variables after delete %+v", vs)
	}
}
