package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vermont-ci/vermont/server/store"
)

// bigYML is a workflow of 200 jobs: 20 workflow jobs in a needs chain,
// each a matrix of 10 legs.
func bigYML() string {
	var b strings.Builder
	b.WriteString("name: Big\non: workflow_dispatch\njobs:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "  j%02d:\n    runs-on: ubuntu-latest\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "    needs: j%02d\n", i-1)
		}
		b.WriteString("    strategy:\n      matrix:\n        n: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n    steps:\n      - run: echo ${{ matrix.n }}\n")
	}
	return b.String()
}

// BenchmarkRunPage200Jobs is the server time of a run page of 200 jobs
// (a 20-deep needs chain of 10-leg matrices): the handler alone, from
// request to the last byte, with the workflow file read from the mirror.
func BenchmarkRunPage200Jobs(b *testing.B) {
	wfs := allWorkflows()
	wfs["big.yml"] = bigYML()
	h := newHarness(b, wfs, idle)
	ctx := context.Background()
	wf, err := h.st.PutWorkflow(ctx, h.repo.ID, ".github/workflows/big.yml", "Big")
	if err != nil {
		b.Fatal(err)
	}
	run, err := h.st.CreateRun(ctx, store.NewRun{RepoID: h.repo.ID, WorkflowPath: wf.Path, WorkflowName: wf.Name,
		Event: "push", HeadSHA: h.head, HeadBranch: "main", Ref: "refs/heads/main", Actor: "octocat", DisplayTitle: "200 jobs"})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := 0; i < 20; i++ {
		for n := 0; n < 10; n++ {
			j, err := h.st.CreateJob(ctx, store.Job{RunID: run.ID, Attempt: 1, Key: fmt.Sprintf("j%02d", i),
				Name: fmt.Sprintf("j%02d (%d)", i, n), Status: store.Completed, Conclusion: store.Success,
				Matrix: []byte(fmt.Sprintf(`{"n":%d}`, n)), CreatedAt: now, StartedAt: now, CompletedAt: now.Add(time.Second)})
			if err != nil {
				b.Fatal(err)
			}
			_ = j
		}
	}
	c := h.client(b)
	c.signIn(b, h.token)
	u, _ := url.Parse(h.http.URL)
	path := fmt.Sprintf("/octo/app/actions/runs/%d", run.ID)
	handler := h.http.Config.Handler
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for _, ck := range c.Jar.Cookies(u) {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}
	first := get()
	if first.Code != http.StatusOK || strings.Count(first.Body.String(), `class="job state-box`) != 200 ||
		strings.Count(first.Body.String(), `<ol class="col">`) != 20 {
		b.Fatalf("run page: %d, %d jobs in %d columns", first.Code, strings.Count(first.Body.String(), `class="job state-box`),
			strings.Count(first.Body.String(), `<ol class="col">`))
	}
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

// BenchmarkBrowserFirstLogLine100k is the time from asking Chromium for
// the page of a job with a 100,000-line log to its first line being
// visible, and the page's first contentful paint.
func BenchmarkBrowserFirstLogLine100k(b *testing.B) {
	h := newHarness(b, map[string]string{"long.yml": longYML})
	run := h.dispatch(b, "long.yml", nil)
	h.waitRun(b, run.ID)
	job := h.firstJob(b, run.ID)
	ctx := tab(b)
	h.signInBrowser(b, ctx, h.token)
	jobURL := fmt.Sprintf("%s/octo/app/actions/runs/%d/job/%d", h.http.URL, run.ID, job.ID)
	var fcp float64
	b.ResetTimer()
	for b.Loop() {
		do(b, ctx, "open the long job", chromedp.Navigate(jobURL), chromedp.WaitVisible(chromedp.CSS("#step-1-1")))
		b.StopTimer()
		fcp += eval[float64](b, ctx, "performance.getEntriesByName('first-contentful-paint')[0].startTime")
		b.StartTimer()
	}
	b.ReportMetric(fcp/float64(b.N), "fcp-ms/op")
}
