//go:build !thin && !windows

package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestServeWebInterface: the built binary serves the web interface at /
// beside the API, the webhook and /health, and a token signs in to it.
func TestServeWebInterface(t *testing.T) {
	t.Parallel()
	repo := newSrcRepo(t, map[string]string{".github/workflows/greet.yml": dispatchWorkflow})
	s := startService(t, serveConfig{repo: repo})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, http.Header) {
		resp, err := c.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := get("/health"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/health behind the web interface: %d %q", code, body)
	}
	if code, _, h := get("/octo/app/actions"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("a page without a session: %d to %q", code, h.Get("Location"))
	}
	code, login, _ := get("/login")
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(login)
	if code != http.StatusOK || m == nil {
		t.Fatalf("sign-in page: %d", code)
	}
	resp, err := c.PostForm(s.url+"/login", url.Values{"csrf": {m[1]}, "token": {s.token}, "next": {"/octo/app/actions"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %s", resp.Status)
	}
	if code, b := s.api("POST", "/repos/octo/app/actions/workflows/greet.yml/dispatches",
		map[string]any{"ref": "main", "inputs": map[string]any{"who": "mona"}}); code != 204 {
		t.Fatalf("dispatch: %d %s", code, b)
	}
	run := s.waitRun("of the dispatch", func(r apiRun) bool { return r.Event == "workflow_dispatch" })
	if code, body, _ := get("/octo/app/actions"); code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("/octo/app/actions/runs/%d", run.ID)) {
		t.Fatalf("runs page: %d, without run %d", code, run.ID)
	}
	if code, body, _ := get(fmt.Sprintf("/octo/app/actions/runs/%d", run.ID)); code != http.StatusOK || !strings.Contains(body, `id="graph"`) {
		t.Fatalf("run page: %d", code)
	}
	if code, body, h := get("/octo/app/actions/workflows/greet.yml/badge.svg"); code != http.StatusOK ||
		!strings.HasPrefix(h.Get("Content-Type"), "image/svg+xml") || !strings.Contains(body, "passing") {
		t.Fatalf("badge: %d %s", code, body)
	}
}
