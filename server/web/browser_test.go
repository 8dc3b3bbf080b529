package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/vermont-ci/vermont/server/store"
)

// One Chromium serves every browser test of the binary; each test gets
// its own browser context (cookies apart) in a tab.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel []context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(browser.cancel) - 1; i >= 0; i-- {
		browser.cancel[i]()
	}
	os.Exit(code)
}

// chromium finds Debian's chromium (or another Chromium-based browser).
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab returns a chromedp context in a fresh browser context, signed in
// to nothing, closed when the test ends.
func tab(tb testing.TB) context.Context {
	tb.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("Chromium is needed for the browser tests (Debian: apt-get install chromium); go run ./internal/testall installs it")
		}
		tb.Skip("Chromium is not installed (Debian: apt-get install chromium)")
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browser.cancel = append(browser.cancel, cancelAlloc, cancelCtx)
		browser.err = chromedp.Do(ctx)
		browser.ctx = ctx
	})
	if browser.err != nil {
		tb.Fatalf("starting Chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		tb.Fatalf("opening a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	tb.Cleanup(func() { cancelTimeout(); cancel() })
	return ctx
}

// do runs actions, failing the test on an error.
func do(tb testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// until polls a JavaScript predicate in the page for up to a minute,
// across navigations (an evaluation during one is retried).
func until(tb testing.TB, ctx context.Context, what, expr string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("waiting for %s (%s): %v", what, expr, err)
}

// signInBrowser signs the tab in through the form, as a person does.
func (h *harness) signInBrowser(tb testing.TB, ctx context.Context, tok string) {
	tb.Helper()
	do(tb, ctx, "sign in",
		chromedp.Navigate(h.http.URL+"/octo/app/actions"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), tok),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".runs")),
	)
	if loc := eval[string](tb, ctx, "location.pathname"); loc != "/octo/app/actions" {
		tb.Fatalf("after signing in at %s, want the page asked for", loc)
	}
	if strings.Contains(eval[string](tb, ctx, "location.href"), tok) || strings.Contains(eval[string](tb, ctx, "document.cookie"), "vermont_session") {
		tb.Fatal("the token is in the URL, or the session cookie is readable by scripts")
	}
}

// screenshotDir is where the browser tests leave screenshots for a
// reviewer: $VERMONT_SCREENSHOTS, or vermont-screenshots in the
// temporary directory.
func screenshotDir(tb testing.TB) string {
	dir := os.Getenv("VERMONT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "vermont-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(screenshotDir(tb), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("screenshot: %s", p)
}

func TestBrowserLiveJobGroupsAndLineLinks(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	run := h.dispatch(t, "live.yml", map[string]any{"count": "40"})
	job := h.firstJob(t, run.ID)
	wait(t, "the job's first tick", func() bool {
		ls, err := h.st.Logs(context.Background(), job.ID, store.LogQuery{})
		if err != nil {
			return false
		}
		for _, l := range ls {
			if strings.HasPrefix(l.Text, "tick ") {
				return true
			}
		}
		return false
	})
	jobURL := fmt.Sprintf("%s/octo/app/actions/runs/%d/job/%d", h.http.URL, run.ID, job.ID)
	do(t, ctx, "open the running job", chromedp.Navigate(jobURL), chromedp.WaitVisible(chromedp.CSS("#log .ln")))
	eval[bool](t, ctx, "window.__sameDocument = true")
	if live := eval[string](t, ctx, "document.getElementById('job').dataset.live"); live == "" {
		t.Fatal("the job page of a running job is not live")
	}
	// Lines arrive: a later tick than any the page had when it loaded.
	before := eval[int](t, ctx, "document.querySelectorAll('#log .ln').length")
	until(t, ctx, "new lines", fmt.Sprintf("document.querySelectorAll('#log .ln').length > %d + 5", before))
	screenshot(t, ctx, "job")
	until(t, ctx, "the job to finish, live", "document.getElementById('job-state').textContent === 'Success'")
	if !eval[bool](t, ctx, "window.__sameDocument === true") {
		t.Fatal("the page reloaded")
	}
	if got := eval[int](t, ctx, "document.querySelectorAll('#step-2 .ln').length"); got != 40 {
		t.Fatalf("the Tick step shows %d lines, want 40", got)
	}
	if !eval[bool](t, ctx, `Array.from(document.querySelectorAll('#step-2 .ln .tx')).map(e => e.textContent).join('|') === Array.from({length: 40}, (_, i) => 'tick ' + (i + 1)).join('|')`) {
		t.Fatal("the live lines are not tick 1 … tick 40 in order, each once")
	}

	// Fold and unfold the ::group:: (in the Greet step, open it first).
	do(t, ctx, "open the Greet step", chromedp.Navigate(jobURL), chromedp.WaitVisible(chromedp.CSS("#step-1 > summary")))
	if !eval[bool](t, ctx, "document.getElementById('step-1').open") {
		do(t, ctx, "open step 1", chromedp.Click(chromedp.CSS("#step-1 > summary")))
	}
	inside := `(() => { const l = Array.from(document.querySelectorAll('#step-1 .grp .ln')).find(e => e.textContent.includes('inside the group')); return !!l && l.checkVisibility(); })()`
	if eval[bool](t, ctx, "document.querySelector('#step-1 .grp').open") || eval[bool](t, ctx, inside) {
		t.Fatal("the group is not folded at first")
	}
	do(t, ctx, "unfold the group", chromedp.Click(chromedp.CSS("#step-1 .grp > summary")))
	if !eval[bool](t, ctx, inside) {
		t.Fatal("the group's line is hidden once unfolded")
	}
	do(t, ctx, "fold the group", chromedp.Click(chromedp.CSS("#step-1 .grp > summary")))
	if eval[bool](t, ctx, inside) {
		t.Fatal("the group's line shows once folded")
	}
	// From the keyboard: Enter on the focused group unfolds it.
	do(t, ctx, "focus the group", chromedp.Focus(chromedp.CSS("#step-1 .grp > summary")), chromedp.KeyEvent("\r"))
	if !eval[bool](t, ctx, inside) {
		t.Fatal("Enter on the focused group does not unfold it")
	}
	// Timestamps on demand.
	stamp := "document.querySelector('#step-1 .ln time').checkVisibility()"
	if eval[bool](t, ctx, stamp) {
		t.Fatal("timestamps show before they are asked for")
	}
	do(t, ctx, "show timestamps", chromedp.Click(chromedp.CSS("#log-times")))
	if !eval[bool](t, ctx, stamp) || !strings.HasPrefix(eval[string](t, ctx, "document.querySelector('#step-1 .ln time').textContent"), "20") {
		t.Fatal("timestamps do not show when asked for")
	}
	// ANSI colour, and the warning annotation listed and linked.
	if got := eval[string](t, ctx, `(document.querySelector('#step-1 .f31') || {}).textContent`); got != "red text" {
		t.Fatalf("the red ANSI text is %q", got)
	}
	// The annotation shows its title, message and file:line apart, as GitHub's do.
	ann := `(() => { const li = document.querySelector('.annotations li'); const q = s => (li.querySelector(s) || {}).textContent;
		return [q('strong'), q('a'), q('code'), li.textContent.includes('greet.sh:7')].join('|') })()`
	if got := eval[string](t, ctx, ann); got != "Heads up|a warning worth reading|greet.sh|true" {
		t.Fatalf("the annotation reads %q, want its title, message and greet.sh:7", got)
	}
	do(t, ctx, "follow the annotation", chromedp.Click(chromedp.CSS(".annotations a")))
	if !eval[bool](t, ctx, "document.querySelector(':target') !== null && document.querySelector(':target').textContent.includes('a warning worth reading')") {
		t.Fatal("the annotation's link does not lead to its line")
	}

	// Follow a line link: step 2, line 15, from a fresh page with the
	// step folded.
	do(t, ctx, "follow a line link", chromedp.Navigate(jobURL+"#step-2-15"), chromedp.WaitVisible(chromedp.CSS("#step-2-15")))
	if got := eval[string](t, ctx, "document.querySelector(':target').id + ' ' + document.querySelector(':target .tx').textContent"); got != "step-2-15 tick 15" {
		t.Fatalf("the line link's target is %q, want step-2-15 tick 15", got)
	}
	if !eval[bool](t, ctx, "document.getElementById('step-2').open") {
		t.Fatal("the line link's step is folded")
	}
	// Clicking a line number makes it the URL's fragment.
	do(t, ctx, "click a line number", chromedp.Click(chromedp.CSS("#step-2-3 a.no")))
	if got := eval[string](t, ctx, "location.hash"); got != "#step-2-3" {
		t.Fatalf("the line link is %q", got)
	}
	// Search hides the lines that do not match.
	do(t, ctx, "search", chromedp.SendKeys(chromedp.CSS("#log-search"), "tick 4"))
	if got := eval[int](t, ctx, "Array.from(document.querySelectorAll('#log .ln')).filter(e => !e.classList.contains('miss')).length"); got != 2 {
		t.Fatalf("searching 'tick 4' shows %d lines, want 2 (tick 4, tick 40)", got)
	}
	runURL := fmt.Sprintf("%s/octo/app/actions/runs/%d", h.http.URL, run.ID)
	do(t, ctx, "open the run page", chromedp.Navigate(runURL), chromedp.WaitVisible(chromedp.CSS("#graph")))
	screenshot(t, ctx, "run")

	// Dark mode follows prefers-color-scheme; a phone-sized window
	// scrolls no page sideways.
	do(t, ctx, "prefer dark", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	}), chromedp.Navigate(runURL), chromedp.WaitVisible(chromedp.CSS("#graph")))
	if bg := eval[string](t, ctx, "getComputedStyle(document.body).backgroundColor"); bg != "rgb(13, 17, 23)" {
		t.Fatalf("dark mode background %s", bg)
	}
	screenshot(t, ctx, "run-dark")
	do(t, ctx, "a phone's window", chromedp.EmulateViewport(390, 844))
	for _, u := range []string{runURL, jobURL, h.http.URL + "/octo/app/actions/workflows/live.yml", h.http.URL + "/octo/app/settings/secrets/actions"} {
		do(t, ctx, "open "+u, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("main")))
		if w := eval[int](t, ctx, "document.documentElement.scrollWidth - window.innerWidth"); w > 0 {
			t.Errorf("%s scrolls %d px sideways at 390 px wide", u, w)
		}
	}
	do(t, ctx, "the job page on a phone", chromedp.Navigate(jobURL), chromedp.WaitReady(chromedp.CSS("main")))
	screenshot(t, ctx, "job-phone-dark")
}

func TestBrowserCancelWithoutReload(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	run := h.dispatch(t, "sleep.yml", nil)
	h.firstJob(t, run.ID)
	do(t, ctx, "open the run", chromedp.Navigate(fmt.Sprintf("%s/octo/app/actions/runs/%d", h.http.URL, run.ID)),
		chromedp.WaitVisible(chromedp.CSS("#cancel > summary")))
	eval[bool](t, ctx, "window.__sameDocument = true")
	until(t, ctx, "the run to show in progress", "document.getElementById('run-state').textContent === 'In progress'")
	do(t, ctx, "cancel, confirmed", chromedp.Click(chromedp.CSS("#cancel > summary")), chromedp.Click(chromedp.CSS("#cancel button[type=submit]")))
	until(t, ctx, "the run to show cancelled", "document.getElementById('run-state').textContent === 'Cancelled'")
	until(t, ctx, "the job to show cancelled", "document.querySelector('a.job .state').textContent === 'Cancelled'")
	if !eval[bool](t, ctx, "window.__sameDocument === true") {
		t.Fatal("the page reloaded")
	}
	if r, _ := h.st.Run(context.Background(), run.ID); r.Conclusion != store.Cancelled {
		t.Fatalf("the store has the run %s/%s", r.Status, r.Conclusion)
	}
}

func TestBrowserRerunFailedJobs(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	run := h.dispatch(t, "fail.yml", nil)
	if r := h.waitRun(t, run.ID); r.Conclusion != store.Failure {
		t.Fatalf("first attempt: %s", r.Conclusion)
	}
	do(t, ctx, "open the failed run", chromedp.Navigate(fmt.Sprintf("%s/octo/app/actions/runs/%d", h.http.URL, run.ID)),
		chromedp.WaitVisible(chromedp.CSS("#rerun-failed > summary")))
	if got := eval[string](t, ctx, "document.getElementById('run-state').textContent"); got != "Failure" {
		t.Fatalf("run state %q", got)
	}
	// The graph: ok, then flaky, which needs it.
	if got := eval[string](t, ctx, "Array.from(document.querySelectorAll('#graph .col')).map(c => c.querySelector('.name').textContent).join(' → ')"); got != "ok → flaky" {
		t.Fatalf("graph columns %q", got)
	}
	do(t, ctx, "re-run failed jobs, confirmed", chromedp.Click(chromedp.CSS("#rerun-failed > summary")),
		chromedp.Click(chromedp.CSS("#rerun-failed button[type=submit]")))
	until(t, ctx, "attempt 2's page", "location.pathname.endsWith('/attempts/2')")
	until(t, ctx, "attempt 2 to succeed, live", "document.getElementById('run-state') && document.getElementById('run-state').textContent === 'Success'")
	jobs, err := h.st.Jobs(context.Background(), run.ID, 2)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("attempt 2 jobs: %v %v", jobs, err)
	}
	for _, j := range jobs {
		if j.Conclusion != store.Success {
			t.Errorf("attempt 2 job %s: %s", j.Key, j.Conclusion)
		}
	}
	att, _ := h.st.Attempt(context.Background(), run.ID, 2)
	if !att.FailedOnly {
		t.Fatal("attempt 2 is not a re-run of the failed jobs")
	}
}

func TestBrowserDispatchWithInputs(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	do(t, ctx, "open the workflow", chromedp.Navigate(h.http.URL+"/octo/app/actions/workflows/live.yml"),
		chromedp.Click(chromedp.CSS("#dispatch > summary")), chromedp.WaitVisible(chromedp.CSS("#dispatch select")))
	do(t, ctx, "fill the inputs",
		chromedp.SetValue(chromedp.CSS(`select[name="input.greeting"]`), "hi"),
		chromedp.SetValue(chromedp.CSS(`input[name="input.count"][type=number]`), "3"),
		chromedp.Click(chromedp.CSS(`input[type=checkbox][name="input.loud"]`)))
	screenshot(t, ctx, "dispatch")
	do(t, ctx, "run the workflow", chromedp.Click(chromedp.CSS("#dispatch button[type=submit]")))
	until(t, ctx, "the new run's page", "/\\/actions\\/runs\\/\\d+$/.test(location.pathname) && document.getElementById('run-state') !== null")
	until(t, ctx, "the run to succeed, live", "document.getElementById('run-state').textContent === 'Success'")
	runs, err := h.st.ListRuns(context.Background(), store.RunFilter{RepoID: h.repo.ID, Event: "workflow_dispatch"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	if got := string(runs[0].Inputs); got != `{"count":3,"greeting":"hi","loud":true}` {
		t.Fatalf("inputs %s", got)
	}
	job := h.firstJob(t, runs[0].ID)
	ls, _ := h.st.Logs(context.Background(), job.ID, store.LogQuery{Limit: 1})
	if len(ls) == 0 || ls[0].Text != "greeting=hi loud=true" {
		t.Fatalf("first log line %v", ls)
	}
	// A refused dispatch shows GitHub's message in the form.
	do(t, ctx, "open the workflow again", chromedp.Navigate(h.http.URL+"/octo/app/actions/workflows/live.yml"),
		chromedp.Click(chromedp.CSS("#dispatch > summary")), chromedp.WaitVisible(chromedp.CSS("#dispatch select")),
		chromedp.SetValue(chromedp.CSS("#d-ref"), "no-such-branch"),
		chromedp.Click(chromedp.CSS("#dispatch button[type=submit]")))
	until(t, ctx, "the refusal", "document.querySelector('#dispatch .flash').textContent === 'No ref found for: no-such-branch'")
}

func TestBrowserSummaryExecutesNothing(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	run := h.dispatch(t, "summary.yml", nil)
	h.waitRun(t, run.ID)
	do(t, ctx, "open the run", chromedp.Navigate(fmt.Sprintf("%s/octo/app/actions/runs/%d", h.http.URL, run.ID)),
		chromedp.WaitVisible(chromedp.CSS(".markdown table")))
	// The image fails to load (its src is x), which is when an onerror
	// would run; wait for that, then for a moment of the event loop.
	until(t, ctx, "the summary's image to fail", "Array.from(document.querySelectorAll('.markdown img')).every(i => i.complete)")
	if got := eval[int](t, ctx, "document.querySelectorAll('.markdown img').length"); got != 1 {
		t.Fatalf("summary images: %d, want the one (without its handler)", got)
	}
	do(t, ctx, "click the summary's links", chromedp.Evaluate[chromedp.Void]("document.querySelectorAll('.markdown a').forEach(a => a.click())"))
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void]("window.__pwned !== undefined", chromedp.WithPollingTimeout(time.Second))); err == nil {
		t.Fatalf("the summary ran a script: window.__pwned = %v", eval[any](t, ctx, "window.__pwned"))
	}
	if eval[bool](t, ctx, "document.querySelector('.markdown script, .markdown [onerror], .markdown a[href^=javascript]') !== null") {
		t.Fatal("the summary's DOM holds a script, a handler or a javascript: link")
	}
}

func TestBrowserSecretValueInNoDOM(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	const value = "browser-s3cret-41c7"
	do(t, ctx, "set a secret", chromedp.Navigate(h.http.URL+"/octo/app/settings/secrets/actions"),
		chromedp.SendKeys(chromedp.CSS("#sec-name"), "DEPLOY_KEY"),
		chromedp.SendKeys(chromedp.CSS("#sec-value"), value),
		chromedp.Submit(chromedp.CSS("#sec-value")),
		chromedp.WaitVisible(chromedp.CSS("table.list code")))
	run := h.dispatch(t, "secret.yml", nil)
	h.waitRun(t, run.ID)
	job := h.firstJob(t, run.ID)
	pages := []string{"/", "/octo/app/actions", "/octo/app/actions/workflows/secret.yml", "/octo/app/settings/secrets/actions",
		fmt.Sprintf("/octo/app/actions/runs/%d", run.ID), fmt.Sprintf("/octo/app/actions/runs/%d/job/%d", run.ID, job.ID)}
	for _, p := range pages {
		do(t, ctx, "open "+p, chromedp.Navigate(h.http.URL+p), chromedp.WaitReady(chromedp.CSS("main")))
		// The DOM and every form control's current value.
		dom := eval[string](t, ctx, "document.documentElement.outerHTML + Array.from(document.querySelectorAll('input, textarea')).map(e => e.value).join('\\n')")
		if strings.Contains(dom, value) {
			t.Errorf("%s: the secret's value is in the DOM", p)
		}
		if p == pages[3] && !strings.Contains(dom, "DEPLOY_KEY") {
			t.Error("the secrets page does not list DEPLOY_KEY")
		}
		if p == pages[5] && !strings.Contains(dom, "the secret is ***") {
			t.Error("the job page does not show the masked line")
		}
	}
}

func TestBrowserLongLogIsPaged(t *testing.T) {
	h := newHarness(t, map[string]string{"long.yml": longYML})
	run := h.dispatch(t, "long.yml", nil)
	h.waitRun(t, run.ID)
	job := h.firstJob(t, run.ID)
	ctx := tab(t)
	h.signInBrowser(t, ctx, h.token)
	jobURL := fmt.Sprintf("%s/octo/app/actions/runs/%d/job/%d", h.http.URL, run.ID, job.ID)
	do(t, ctx, "open the long job", chromedp.Navigate(jobURL), chromedp.WaitVisible(chromedp.CSS("#step-1-1")))
	if n := eval[int](t, ctx, "document.querySelectorAll('#log .ln').length"); n != 1000 {
		t.Fatalf("the first page holds %d lines, want 1000", n)
	}
	// Opening the step and scrolling to its end brings the next lines.
	do(t, ctx, "open the step", chromedp.Click(chromedp.CSS("#step-1 > summary")))
	do(t, ctx, "scroll to the end", chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, document.body.scrollHeight)"))
	until(t, ctx, "more lines", "document.querySelectorAll('#log .ln').length >= 2000")
	if got := eval[string](t, ctx, "document.getElementById('step-1-1500').textContent"); !strings.Contains(got, "line 1500 of a long log") {
		t.Fatalf("line 1500 reads %q", got)
	}
	// A link to a line far past the first page opens the page holding it.
	do(t, ctx, "follow a far line link", chromedp.Navigate(jobURL+"#step-1-50000"))
	until(t, ctx, "the far line", "document.querySelector(':target') && document.querySelector(':target').id === 'step-1-50000'")
	if got := eval[string](t, ctx, "document.querySelector(':target .tx').textContent"); got != "line 50000 of a long log" {
		t.Fatalf("the far line reads %q", got)
	}
}
