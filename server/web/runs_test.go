package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/server/store"
)

func TestRunsFiltersAndPages(t *testing.T) {
	h := newHarness(t, allWorkflows(), idle)
	ctx := context.Background()
	wf, err := h.st.PutWorkflow(ctx, h.repo.ID, ".github/workflows/html.yml", "HTML")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		branch, actor := "main", "mona"
		if i%3 == 0 {
			branch, actor = "feature", "hubot"
		}
		run, err := h.st.CreateRun(ctx, store.NewRun{RepoID: h.repo.ID, WorkflowPath: wf.Path, WorkflowName: wf.Name,
			Event: "push", HeadSHA: h.head, HeadBranch: branch, Ref: "refs/heads/" + branch, Actor: actor,
			DisplayTitle: fmt.Sprintf("change %02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := h.st.CompleteRun(ctx, run.ID, store.Failure); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := h.client(t)
	c.signIn(t, h.token)
	count := func(body string) int { return strings.Count(body, `class="run-row"`) }
	_, p1 := c.get(t, "/octo/app/actions")
	if count(p1) != 25 || !strings.Contains(p1, "30 workflow runs") || !strings.Contains(p1, `rel="next"`) || !strings.Contains(p1, "change 29") {
		t.Fatalf("page 1: %d runs", count(p1))
	}
	_, p2 := c.get(t, "/octo/app/actions?page=2")
	if count(p2) != 5 || strings.Contains(p2, `rel="next"`) || !strings.Contains(p2, `rel="prev"`) || !strings.Contains(p2, "change 00") {
		t.Fatalf("page 2: %d runs", count(p2))
	}
	for query, want := range map[string]int{
		"branch=feature":                10,
		"actor=hubot":                   10,
		"status=failure":                15,
		"status=queued":                 15,
		"status=failure&branch=feature": 5,
		"event=push":                    25, // a page
		"event=schedule":                0,
	} {
		q, _ := url.ParseQuery(query)
		code, body := c.get(t, "/octo/app/actions/workflows/html.yml?"+q.Encode())
		if code != http.StatusOK || count(body) != want {
			t.Errorf("%s: %d, %d runs, want %d", query, code, count(body), want)
		}
	}
	if code, _ := c.get(t, "/octo/app/actions/workflows/nope.yml"); code != http.StatusNotFound {
		t.Errorf("unknown workflow: %d", code)
	}
	if code, _ := c.get(t, "/octo/nope/actions"); code != http.StatusNotFound {
		t.Errorf("unknown repository: %d", code)
	}
	if code, _ := c.get(t, "/octo/app/actions/runs/abc"); code != http.StatusNotFound {
		t.Errorf("a run id that is not a number: %d", code)
	}
}

func TestRerunAllAndAttempts(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	run := h.dispatch(t, "fail.yml", nil)
	h.waitRun(t, run.ID)
	path := fmt.Sprintf("/octo/app/actions/runs/%d", run.ID)
	if code, _ := c.post(t, path+"/cancel", url.Values{"csrf": {c.csrf(t, path)}}); code != http.StatusConflict {
		t.Fatalf("cancelling a completed run: %d, want 409", code)
	}
	if code, _ := c.post(t, path+"/rerun", url.Values{"csrf": {c.csrf(t, path)}}); code != http.StatusSeeOther {
		t.Fatalf("re-run: %d", code)
	}
	if r := h.waitRun(t, run.ID); r.Attempt != 2 || r.Conclusion != store.Success {
		t.Fatalf("after re-run: attempt %d %s", r.Attempt, r.Conclusion)
	}
	att, _ := h.st.Attempt(context.Background(), run.ID, 2)
	if att.FailedOnly {
		t.Fatal("re-run all made a failed-jobs attempt")
	}
	_, latest := c.get(t, path)
	_, first := c.get(t, path+"/attempts/1")
	if !strings.Contains(latest, "#2 (latest)") || !strings.Contains(first, "#1</summary>") || !strings.Contains(first, ">Failure<") {
		t.Fatal("the attempt switcher does not tell the attempts apart")
	}
	if strings.Contains(first, "Re-run") {
		t.Fatal("an old attempt offers actions")
	}
	if code, _ := c.get(t, path+"/attempts/3"); code != http.StatusNotFound {
		t.Fatalf("attempt 3: %d", code)
	}
}
