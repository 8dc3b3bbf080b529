package web_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// sseEvent is one server-sent event.
type sseEvent struct{ id, event, data string }

// readEvents reads events from resp until stop returns true or the
// stream ends.
func readEvents(t *testing.T, resp *http.Response, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	var ev sseEvent
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.data != "" {
				out = append(out, ev)
				if stop(ev) {
					return out
				}
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
	return out
}

func TestLiveLogResumesAfterReconnect(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	run := h.dispatch(t, "live.yml", map[string]any{"count": "30"})
	job := h.firstJob(t, run.ID)
	live := fmt.Sprintf("%s/octo/app/actions/runs/%d/job/%d/live", h.http.URL, run.ID, job.ID)
	open := func(lastID string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, live, nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("live: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		return resp
	}
	// Read five lines, then drop the connection, as a network does.
	resp := open("")
	first := readEvents(t, resp, func(e sseEvent) bool { return e.id == "5" })
	resp.Body.Close()
	resp = open("5")
	rest := readEvents(t, resp, func(e sseEvent) bool { return e.event == "done" })
	resp.Body.Close()
	var ids []int
	var texts []string
	for _, e := range append(first, rest...) {
		if e.event != "" {
			continue
		}
		n, _ := strconv.Atoi(e.id)
		ids = append(ids, n)
		texts = append(texts, e.data)
	}
	for i, n := range ids {
		if n != i+1 {
			t.Fatalf("line ids %v: want 1, 2, 3, … without a gap or a repeat", ids)
		}
	}
	if len(rest) == 0 || rest[len(rest)-1].event != "done" || !strings.Contains(rest[len(rest)-1].data, "success") {
		t.Fatalf("the stream did not end with done: %v", rest[len(rest)-1:])
	}
	all := strings.Join(texts, "\n")
	for i := 1; i <= 30; i++ {
		if !strings.Contains(all, fmt.Sprintf(`"t":"tick %d"`, i)) {
			t.Fatalf("tick %d never arrived", i)
		}
	}
}

func TestSessionCookieIsSecureUnderTLS(t *testing.T) {
	h := newHarness(t, allWorkflows())
	ts := httptest.NewTLSServer(h.http.Config.Handler)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	hc := ts.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &client{Client: hc, base: ts.URL}
	resp, err := c.PostForm(ts.URL+"/login", url.Values{"csrf": {c.csrf(t, "/login")}, "token": {h.token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "vermont_session" {
			if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
				t.Fatalf("session cookie under TLS: %+v", ck)
			}
			return
		}
	}
	t.Fatalf("no session cookie: %s", resp.Status)
}
