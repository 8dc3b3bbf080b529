package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

// Migration N creates the same tables on both databases: a migration
// added to one directory and not the other fails here.
func TestMigrationsParity(t *testing.T) {
	if !slices.Equal(store.SQLiteNames, store.PostgresNames) {
		t.Fatalf("migrations/sqlite %v and migrations/postgres %v differ", store.SQLiteNames, store.PostgresNames)
	}
}

func TestPlaceholders(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"x = '?' AND y = ?", "x = '?' AND y = $1"},
		{`"we?rd" = ? -- a ? comment` + "\n, ?", `"we?rd" = $1 -- a ? comment` + "\n, $2"},
		{"/* ? */ ? 'it''s ?' ?", "/* ? */ $1 'it''s ?' $2"},
		{"unterminated '?", "unterminated '?"},
		{"? /* open", "$1 /* open"},
	} {
		if got := store.Placeholders(tt.in); got != tt.want {
			t.Errorf("placeholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWithDatabaseRejectsOtherURLs(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "/var/lib/vermont", "sqlite://x"} {
		if _, err := store.Open(context.Background(), t.TempDir(), store.WithDatabase(u)); err == nil {
			t.Errorf("WithDatabase(%q) accepted", u)
		}
	}
}

// A password in the URL never reaches the error of a failed open.
func TestPostgresOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := store.Open(ctx, t.TempDir(), store.WithDatabase("postgres://ci:s3cr3t-pw@127.0.0.1:1/vermont?connect_timeout=2"))
	if err == nil {
		t.Fatal("open of a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t-pw") {
		t.Fatalf("error shows the password: %s", msg)
	}
	_, err = store.Open(ctx, t.TempDir(), store.WithDatabase("postgres://ci:s3cr3t-pw@[::1/x"))
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("bad URL: %v", err)
	}
}

func TestHostsAndLostRuns(t *testing.T) { eachBackend(t, testHostsAndLostRuns) }

func testHostsAndLostRuns(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := open(t, store.WithClock(c.now))
	r := repo(t, s)
	start := c.now()
	for _, h := range []string{"a", "b"} {
		if err := s.Heartbeat(ctx, h, start); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for range 3 {
		run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	// a holds the first with a long lease; b the second; the third stays queued.
	ra, err := s.ClaimRun(ctx, "a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	job, err := s.CreateJob(ctx, store.Job{RunID: ra.ID, Attempt: 1, Key: "build", Name: "build", Status: store.InProgress})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := s.ClaimRun(ctx, "b", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// b keeps beating; a stops.
	c.add(30 * time.Second)
	if err := s.Heartbeat(ctx, "b", start); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AbandonLost(ctx, time.Minute, "lost"); err != nil || len(got) != 0 {
		t.Fatalf("within the bound, AbandonLost = %v, %v; want none", got, err)
	}
	c.add(45 * time.Second)
	if err := s.Heartbeat(ctx, "b", start); err != nil {
		t.Fatal(err)
	}
	got, err := s.AbandonLost(ctx, time.Minute, "The self-hosted runner lost communication with the server.")
	if err != nil || !slices.Equal(got, []int64{ra.ID}) {
		t.Fatalf("AbandonLost = %v, %v; want [%d]", got, err, ra.ID)
	}
	if again, err := s.AbandonLost(ctx, time.Minute, "lost"); err != nil || len(again) != 0 {
		t.Fatalf("second AbandonLost = %v, %v; want none", again, err)
	}
	run, _ := s.Run(ctx, ra.ID)
	if run.Status != store.Completed || run.Conclusion != store.Failure {
		t.Fatalf("lost run %+v", run)
	}
	j, _ := s.Job(ctx, job.ID)
	anns, _ := s.Annotations(ctx, job.ID)
	if j.Conclusion != store.Failure || len(anns) != 1 || anns[0].Message != "The self-hosted runner lost communication with the server." {
		t.Fatalf("lost job %+v, annotations %+v", j, anns)
	}
	if run, _ := s.Run(ctx, rb.ID); run.Status != store.InProgress {
		t.Fatalf("live host's run %+v", run)
	}
	hosts, err := s.Hosts(ctx)
	if err != nil || len(hosts) != 1 || hosts[0].Name != "b" {
		t.Fatalf("hosts %+v, %v; want only b", hosts, err)
	}
	// The queued run is anyone's.
	if rc, err := s.ClaimRun(ctx, "b", time.Hour); err != nil || rc.ID != ids[2] {
		t.Fatalf("claim of the queued run: %+v, %v", rc, err)
	}
}

func TestCancelRequests(t *testing.T) { eachBackend(t, testCancelRequests) }

func testCancelRequests(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r := repo(t, s)
	queued, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestCancel(ctx, queued.ID, false); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancel request of a queued run: %v, want ErrConflict", err)
	}
	run, err := s.ClaimRun(ctx, "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.CancelRequests(ctx, "a"); err != nil || len(got) != 0 {
		t.Fatalf("requests before any: %v, %v", got, err)
	}
	if err := s.RequestCancel(ctx, run.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestCancel(ctx, run.ID, false); err != nil { // does not undo the force
		t.Fatal(err)
	}
	if got, err := s.CancelRequests(ctx, "a"); err != nil || len(got) != 1 || !got[run.ID] {
		t.Fatalf("requests of a: %v, %v; want run %d forced", got, err, run.ID)
	}
	if got, _ := s.CancelRequests(ctx, "b"); len(got) != 0 {
		t.Fatalf("requests of b: %v", got)
	}
	if err := s.CompleteRun(ctx, run.ID, store.Cancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewAttempt(ctx, run.ID, "", false); err != nil {
		t.Fatal(err)
	}
	again, err := s.ClaimRun(ctx, "a", time.Minute)
	if err != nil || again.ID != run.ID {
		t.Fatalf("claim of the re-run: %+v, %v", again, err)
	}
	if got, _ := s.CancelRequests(ctx, "a"); len(got) != 0 {
		t.Fatalf("a re-run inherited the cancel request: %v", got)
	}
}

func TestClaimTick(t *testing.T) { eachBackend(t, testClaimTick) }

func testClaimTick(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r := repo(t, s)
	m := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{}
	for h := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := fmt.Sprint("host-", h)
			for _, tick := range []time.Time{m, m.Add(time.Minute)} {
				ok, err := s.ClaimTick(ctx, r.ID, "0 3 * * *", tick, host)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					won[tick.String()]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(won) != 2 || won[m.String()] != 1 || won[m.Add(time.Minute).String()] != 1 {
		t.Fatalf("tick winners %v, want one per tick", won)
	}
	if ok, err := s.ClaimTick(ctx, r.ID, "*/5 * * * *", m, "host-0"); err != nil || !ok {
		t.Fatalf("another cron's tick: %v, %v", ok, err)
	}
	if err := s.PruneTicks(ctx, m.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ClaimTick(ctx, r.ID, "0 3 * * *", m, "host-0"); !ok {
		t.Fatal("a pruned tick is still claimed")
	}
}

// Hosts with their own connections claim 300 runs concurrently: each run
// is claimed once, and runs of one concurrency group never run together.
func TestClaimAcrossStores(t *testing.T) { eachBackend(t, testClaimAcrossStores) }

func testClaimAcrossStores(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	r := repo(t, s)
	const runs = 300
	for i := range runs {
		group := ""
		if i%10 == 0 {
			group = "deploy"
		}
		if _, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push", Concurrency: group}); err != nil {
			t.Fatal(err)
		}
	}
	hosts := []*store.Store{s, reopen(t, dir), reopen(t, dir)}
	var mu sync.Mutex
	claimed := map[int64]string{}
	deployRunning := 0
	var wg sync.WaitGroup
	for h, st := range hosts {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("host-%d", h)
				idle := 0
				for idle < 20 {
					run, err := st.ClaimRun(ctx, name, time.Minute)
					if errors.Is(err, store.ErrNoRun) {
						idle++
						time.Sleep(5 * time.Millisecond)
						continue
					}
					if err != nil {
						t.Errorf("%s/%d: %v", name, w, err)
						return
					}
					idle = 0
					mu.Lock()
					if prev, ok := claimed[run.ID]; ok {
						t.Errorf("run %d claimed by %s and %s", run.ID, prev, name)
					}
					claimed[run.ID] = name
					if run.Concurrency != "" {
						deployRunning++
						if deployRunning > 1 {
							t.Errorf("two runs of group deploy in progress")
						}
					}
					mu.Unlock()
					if run.Concurrency != "" {
						mu.Lock()
						deployRunning--
						mu.Unlock()
					}
					if err := st.CompleteRun(ctx, run.ID, store.Success); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(claimed) != runs {
		t.Fatalf("%d runs claimed, want %d", len(claimed), runs)
	}
	n, err := s.CountRuns(ctx, store.RunFilter{Status: string(store.Success)})
	if err != nil || n != runs {
		t.Fatalf("%d runs succeeded (%v), want %d", n, err, runs)
	}
}

func TestCancelQueued(t *testing.T) { eachBackend(t, testCancelQueued) }

func testCancelQueued(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	r := repo(t, s)
	a, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CancelQueued(ctx, a.ID); err != nil || !ok {
		t.Fatalf("cancel of a queued run: %v, %v", ok, err)
	}
	got, _ := s.Run(ctx, a.ID)
	att, _ := s.Attempt(ctx, a.ID, 1)
	if got.Status != store.Completed || got.Conclusion != store.Cancelled || att.Conclusion != store.Cancelled {
		t.Fatalf("cancelled run %+v, attempt %+v", got, att)
	}
	// Claimed in between: the cancel is the host's to do.
	if claimed, err := s.ClaimRun(ctx, "a", time.Minute); err != nil || claimed.ID != b.ID {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	if ok, err := s.CancelQueued(ctx, b.ID); err != nil || ok {
		t.Fatalf("cancel of a claimed run as queued: %v, %v", ok, err)
	}
	if got, _ := s.Run(ctx, b.ID); got.Status != store.InProgress {
		t.Fatalf("claimed run changed: %+v", got)
	}
}

// BenchmarkClaimComplete measures queued runs claimed and completed per
// second on PostgreSQL by 1 and by 3 stores (hosts' connection pools),
// 2 claimers each, without running anything: what the queue itself costs.
//
//	go test ./server/store -run '^$' -bench ClaimComplete -benchtime 2000x
func BenchmarkClaimComplete(b *testing.B) {
	for _, hosts := range []int{1, 3} {
		b.Run(fmt.Sprintf("postgres/hosts=%d", hosts), func(b *testing.B) {
			ctx := context.Background()
			url := pg.URL(b)
			first, err := store.Open(ctx, b.TempDir(), store.WithDatabase(url))
			if err != nil {
				b.Fatal(err)
			}
			defer first.Close()
			r := repo(b, first)
			for range b.N {
				if _, err := first.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"}); err != nil {
					b.Fatal(err)
				}
			}
			stores := []*store.Store{first}
			for range hosts - 1 {
				s, err := store.Open(ctx, b.TempDir(), store.WithDatabase(url))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				stores = append(stores, s)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for h, s := range stores {
				for range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							run, err := s.ClaimRun(ctx, fmt.Sprint("host-", h), time.Minute)
							if errors.Is(err, store.ErrNoRun) {
								return
							}
							if err != nil {
								b.Error(err)
								return
							}
							if err := s.CompleteRun(ctx, run.ID, store.Success); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
			if n, _ := first.CountRuns(ctx, store.RunFilter{Status: string(store.Success)}); n != b.N {
				b.Fatalf("%d runs completed, want %d", n, b.N)
			}
		})
	}
}

// FuzzPlaceholders: the rewrite never panics, changes nothing without a
// ?, and turns each ? it rewrites into the next $n, keeping the rest.
func FuzzPlaceholders(f *testing.F) {
	for _, seed := range []string{"SELECT ?", "a = '?' AND b = ?", `"q?" -- ?` + "\n?", "/* ? */ ?", "'", "/*", "--", "??"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out := store.Placeholders(q)
		if !strings.Contains(q, "?") {
			if out != q {
				t.Fatalf("%q rewritten to %q", q, out)
			}
			return
		}
		// Undo: each $n, n = 1, 2, …, back to ? restores the input when
		// the input had no $ of its own.
		if strings.Contains(q, "$") {
			return
		}
		back, n := out, 0
		for {
			n++
			p := "$" + strconv.Itoa(n)
			i := strings.Index(back, p)
			if i < 0 {
				break
			}
			back = back[:i] + "?" + back[i+len(p):]
		}
		if back != q {
			t.Fatalf("%q → %q → %q", q, out, back)
		}
	})
}
