package web_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/server/store"
)

func TestSignInSessionAndCSRF(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	code, _ := c.get(t, "/octo/app/actions")
	if code != http.StatusSeeOther {
		t.Fatalf("a page without a session: %d, want a redirect to sign in", code)
	}
	// No CSRF token: refused, whatever the token.
	if code, _ := c.post(t, "/login", url.Values{"token": {h.token}}); code != http.StatusForbidden {
		t.Fatalf("sign-in without its CSRF token: %d, want 403", code)
	}
	csrf := c.csrf(t, "/login")
	if code, _ := c.post(t, "/login", url.Values{"csrf": {csrf + "0"}, "token": {h.token}}); code != http.StatusForbidden {
		t.Fatalf("sign-in with a wrong CSRF token: %d, want 403", code)
	}
	if code, body := c.post(t, "/login", url.Values{"csrf": {csrf}, "token": {"vmt_wrong"}}); code != http.StatusUnauthorized || strings.Contains(body, "vmt_wrong") {
		t.Fatalf("sign-in with an unknown token: %d (the page must not repeat the token)", code)
	}
	resp, err := c.PostForm(c.base+"/login", url.Values{"csrf": {csrf}, "token": {h.token}, "next": {"/octo/app/actions"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/octo/app/actions" {
		t.Fatalf("sign-in: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "vermont_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", session)
	}
	if strings.Contains(session.Value, h.token) {
		t.Fatal("the session cookie holds the token")
	}
	if code, body := c.get(t, "/octo/app/actions"); code != http.StatusOK || !strings.Contains(body, "All workflows") {
		t.Fatalf("runs page after sign-in: %d", code)
	}

	// A form POST without its token is refused and changes nothing.
	run := h.dispatch(t, "sleep.yml", nil)
	h.firstJob(t, run.ID)
	path := fmt.Sprintf("/octo/app/actions/runs/%d", run.ID)
	if code, _ := c.post(t, path+"/cancel", url.Values{}); code != http.StatusForbidden {
		t.Fatalf("cancel without a CSRF token: %d, want 403", code)
	}
	// Another site's page cannot read the token; one from another
	// browser (cookie) does not fit this one.
	other := h.client(t)
	otherCSRF := other.csrf(t, "/login")
	if code, _ := c.post(t, path+"/cancel", url.Values{"csrf": {otherCSRF}}); code != http.StatusForbidden {
		t.Fatalf("cancel with another browser's CSRF token: %d, want 403", code)
	}
	if r, _ := h.st.Run(context.Background(), run.ID); r.Status == store.Completed {
		t.Fatal("a refused cancel cancelled the run")
	}
	// A read token may look but not change.
	reader := h.client(t)
	reader.signIn(t, h.read)
	if code, _ := reader.post(t, path+"/cancel", url.Values{"csrf": {reader.csrf(t, path)}}); code != http.StatusForbidden {
		t.Fatalf("cancel with a read token: %d, want 403", code)
	}
	if code, _ := c.post(t, path+"/cancel", url.Values{"csrf": {c.csrf(t, path)}}); code != http.StatusSeeOther {
		t.Fatalf("cancel: %d", code)
	}
	if r := h.waitRun(t, run.ID); r.Conclusion != store.Cancelled {
		t.Fatalf("run concluded %s, want cancelled", r.Conclusion)
	}

	// Signing out ends the session.
	if code, _ := c.post(t, "/logout", url.Values{"csrf": {c.csrf(t, "/")}}); code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	if code, _ := c.get(t, "/octo/app/actions"); code != http.StatusSeeOther {
		t.Fatalf("a page after signing out: %d, want a redirect to sign in", code)
	}
	// and on the server: a copy of the cookie no longer signs anyone in.
	req, err := http.NewRequest(http.MethodGet, c.base+"/octo/app/actions", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	copied, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	copied.Body.Close()
	if copied.StatusCode != http.StatusSeeOther {
		t.Fatalf("a copied session cookie after signing out: %s, want a redirect to sign in", copied.Status)
	}
}

func TestSignInOnlyRedirectsWithinTheSite(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
		resp, err := c.PostForm(c.base+"/login", url.Values{"csrf": {c.csrf(t, "/login")}, "token": {h.token}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q: redirected to %q, want /", next, loc)
		}
	}
}

func TestHTMLInNamesAndLogsIsText(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	run := h.dispatch(t, "html.yml", nil)
	h.waitRun(t, run.ID)
	job := h.firstJob(t, run.ID)
	pages := []string{"/", "/octo/app/actions", "/octo/app/actions/workflows/html.yml",
		fmt.Sprintf("/octo/app/actions/runs/%d", run.ID), fmt.Sprintf("/octo/app/actions/runs/%d/job/%d", run.ID, job.ID)}
	for _, p := range pages {
		code, body := c.get(t, p)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", p, code)
		}
		for _, raw := range []string{"<i>HTML</i>", "<b>bold job</b>", "<u>underlined step</u>", "<script>window.__pwned"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s holds %q as markup", p, raw)
			}
		}
		if !strings.Contains(body, "&lt;i&gt;HTML&lt;/i&gt;") && !strings.Contains(body, "&lt;b&gt;bold job&lt;/b&gt;") {
			t.Errorf("%s does not show the names as text", p)
		}
	}
	_, body := c.get(t, pages[4])
	for _, want := range []string{"&lt;u&gt;underlined step&lt;/u&gt;", "&lt;script&gt;window.__pwned = 4&lt;/script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("job page lacks %q", want)
		}
	}
}

func TestBranchNameIsText(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	// A branch whose name is markup, pushed and dispatched on.
	const branch = `x"><img src=y onerror=alert(1)>`
	ctx := context.Background()
	wf, err := h.st.WorkflowByPath(ctx, h.repo.ID, ".github/workflows/html.yml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := h.st.CreateRun(ctx, store.NewRun{RepoID: h.repo.ID, WorkflowPath: wf.Path, WorkflowName: wf.Name,
		Event: "push", HeadSHA: h.head, HeadBranch: branch, Ref: "refs/heads/" + branch, Actor: "<em>actor</em>",
		DisplayTitle: "<h1>title</h1>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/octo/app/actions?branch=" + url.QueryEscape(branch), fmt.Sprintf("/octo/app/actions/runs/%d", run.ID)} {
		_, body := c.get(t, p)
		for _, raw := range []string{"<img src=y", "<em>actor", "<h1>title"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s holds %q as markup", p, raw)
			}
		}
		if !strings.Contains(body, "&lt;img src=y onerror=alert(1)&gt;") {
			t.Errorf("%s does not show the branch as text", p)
		}
	}
}

func TestBadge(t *testing.T) {
	h := newHarness(t, allWorkflows())
	get := func(file string) (int, string, string) {
		resp, err := http.Get(h.http.URL + "/octo/app/actions/workflows/" + file + "/badge.svg")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var svg struct {
			XMLName xml.Name
			Label   string `xml:"aria-label,attr"`
		}
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, "", ""
		}
		if err := xml.NewDecoder(resp.Body).Decode(&svg); err != nil {
			t.Fatalf("badge of %s is not XML: %v", file, err)
		}
		if svg.XMLName.Local != "svg" {
			t.Fatalf("badge root %q", svg.XMLName.Local)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), svg.Label
	}
	if code, _, _ := get("nope.yml"); code != http.StatusNotFound {
		t.Fatalf("badge of an unknown workflow: %d", code)
	}
	run := h.dispatch(t, "fail.yml", nil)
	if code, ctype, label := get("fail.yml"); code != http.StatusOK || !strings.HasPrefix(ctype, "image/svg+xml") ||
		(label != "Flaky: in progress" && label != "Flaky: failing") {
		t.Fatalf("badge while running: %d %s %q", code, ctype, label)
	}
	h.waitRun(t, run.ID)
	if _, _, label := get("fail.yml"); label != "Flaky: failing" {
		t.Fatalf("badge of a failed run: %q", label)
	}
	h.waitRun(t, h.dispatch(t, "html.yml", nil).ID)
	if _, _, label := get("html.yml"); label != "<i>HTML</i> workflow: passing" {
		t.Fatalf("badge of a passing run: %q", label)
	}
}

func TestSummaryIsSanitized(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	run := h.dispatch(t, "summary.yml", nil)
	h.waitRun(t, run.ID)
	_, body := c.get(t, fmt.Sprintf("/octo/app/actions/runs/%d", run.ID))
	i := strings.Index(body, `class="markdown"`)
	if i < 0 {
		t.Fatal("run page has no summary")
	}
	sum := body[i:]
	sum = sum[:strings.Index(sum, "</article>")]
	for _, want := range []string{"<h2>Report</h2>", "<table>", "<td>unit</td>"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	for _, bad := range []string{"<script", "onerror", "javascript:"} {
		if strings.Contains(sum, bad) {
			t.Errorf("summary holds %q:\n%s", bad, sum)
		}
	}
}

func TestDispatchFormValidatesAsTheAPI(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	_, page := c.get(t, "/octo/app/actions/workflows/live.yml")
	for _, want := range []string{`<select id="d-in-1" name="input.greeting">`, `type="checkbox"`, `type="number"`} {
		if !strings.Contains(page, want) {
			t.Errorf("dispatch form lacks %q", want)
		}
	}
	csrf := csrfRE.FindStringSubmatch(page)[1]
	code, body := c.post(t, "/octo/app/actions/workflows/live.yml/dispatches",
		url.Values{"csrf": {csrf}, "ref": {"main"}, "input.greeting": {"howdy"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Provided value &#39;howdy&#39; for input &#39;greeting&#39; not in the list of allowed values") {
		t.Fatalf("a choice outside its options: %d\n%s", code, body)
	}
	code, _ = c.post(t, "/octo/app/actions/workflows/live.yml/dispatches",
		url.Values{"csrf": {csrf}, "ref": {"main"}, "input.greeting": {"hi"}, "input.count": {"1"}, "input.loud": {"false", "true"}})
	if code != http.StatusSeeOther {
		t.Fatalf("dispatch: %d", code)
	}
	runs, err := h.st.ListRuns(context.Background(), store.RunFilter{RepoID: h.repo.ID, Event: "workflow_dispatch"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	if got := string(runs[0].Inputs); !strings.Contains(got, `"loud":true`) || !strings.Contains(got, `"greeting":"hi"`) || !strings.Contains(got, `"count":1`) {
		t.Fatalf("inputs %s", got)
	}
	h.waitRun(t, runs[0].ID)
}

func TestSecretValueInNoPage(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	const value = "s3cr3t-value-9f2e"
	path := "/octo/app/settings/secrets/actions"
	if code, _ := c.post(t, path, url.Values{"csrf": {c.csrf(t, path)}, "name": {"deploy_key"}, "value": {value}}); code != http.StatusSeeOther {
		t.Fatalf("set secret: %d", code)
	}
	run := h.dispatch(t, "secret.yml", nil)
	h.waitRun(t, run.ID)
	job := h.firstJob(t, run.ID)
	_, jobPage := c.get(t, fmt.Sprintf("/octo/app/actions/runs/%d/job/%d", run.ID, job.ID))
	if !strings.Contains(jobPage, "the secret is ***") {
		t.Fatalf("job page does not show the masked line")
	}
	_, secretsPage := c.get(t, path)
	if !strings.Contains(secretsPage, "DEPLOY_KEY") {
		t.Fatal("secrets page does not list DEPLOY_KEY")
	}
	for _, p := range []string{path, "/", "/octo/app/actions", fmt.Sprintf("/octo/app/actions/runs/%d", run.ID),
		fmt.Sprintf("/octo/app/actions/runs/%d/job/%d", run.ID, job.ID), fmt.Sprintf("/octo/app/actions/runs/%d/job/%d/lines", run.ID, job.ID)} {
		if _, body := c.get(t, p); strings.Contains(body, value) {
			t.Errorf("%s holds the secret's value", p)
		}
	}
	// Names are checked as the API checks them, with GitHub's messages.
	for name, want := range map[string]string{"1st": "must not start with a number", "github_token": "must not start with the GITHUB_ prefix"} {
		if code, body := c.post(t, path, url.Values{"csrf": {c.csrf(t, path)}, "name": {name}, "value": {"v"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Errorf("secret named %q: %d, want 422 saying %q", name, code, want)
		}
	}
	// A read token sees no form to set secrets, and may not post one.
	reader := h.client(t)
	reader.signIn(t, h.read)
	if code, _ := reader.post(t, path, url.Values{"csrf": {reader.csrf(t, "/")}, "name": {"X"}, "value": {"y"}}); code != http.StatusForbidden {
		t.Fatalf("set secret with a read token: %d", code)
	}
}
