package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const testSecret = "It's a Secret to Everybody"

// recorder is a JobHandler that records the events it gets and fails while
// fail is set.
type recorder struct {
	mu     sync.Mutex
	events []JobEvent
	fail   error
}

func (r *recorder) HandleJob(_ context.Context, ev JobEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.fail
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery builds a signed POST the way GitHub sends it.
func delivery(event, id string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(HeaderEvent, event)
	r.Header.Set(HeaderDelivery, id)
	r.Header.Set(HeaderSignature, sign(testSecret, body))
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newTestHandler(t testing.TB, jobs JobHandler, opts ...Option) *Handler {
	t.Helper()
	h, err := NewHandler([]byte(testSecret), jobs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDecodeFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want JobEvent
	}{
		{
			name: "queued in a user repository",
			file: "workflow_job_queued.json",
			want: JobEvent{Action: "queued", JobID: 29679449, RunID: 10431457,
				Labels: []string{"self-hosted", "linux", "x64"}, Repo: "mona/espresso", DeliveryID: "d-1"},
		},
		{
			name: "in progress in an organization",
			file: "workflow_job_in_progress.json",
			want: JobEvent{Action: "in_progress", JobID: 29679450, RunID: 10431458,
				Labels: []string{"self-hosted", "windows", "gpu"}, RunnerID: 42, RunnerName: "vermont-win-7c1f",
				Repo: "octo-works/kettle", Org: "octo-works", DeliveryID: "d-1"},
		},
		{
			name: "completed",
			file: "workflow_job_completed.json",
			want: JobEvent{Action: "completed", JobID: 29679450, RunID: 10431458,
				Labels: []string{"self-hosted", "windows", "gpu"}, RunnerID: 42, RunnerName: "vermont-win-7c1f",
				Repo: "octo-works/kettle", Org: "octo-works", DeliveryID: "d-1"},
		},
		{
			name: "waiting for an environment",
			file: "workflow_job_waiting.json",
			want: JobEvent{Action: "waiting", JobID: 29679460, RunID: 10431470,
				Labels: []string{"self-hosted"}, Repo: "octo-works/kettle", Org: "octo-works", DeliveryID: "d-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			h := newTestHandler(t, rec)
			w := serve(h, delivery("workflow_job", "d-1", fixture(t, tt.file)))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, body %q; want 200", w.Code, w.Body)
			}
			if len(rec.events) != 1 {
				t.Fatalf("HandleJob called %d times, want 1", len(rec.events))
			}
			if got := rec.events[0]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStatusCodes(t *testing.T) {
	t.Parallel()
	queued := fixture(t, "workflow_job_queued.json")
	form := []byte("payload=" + url.QueryEscape(string(queued)))
	tests := []struct {
		name     string
		req      func() *http.Request
		opts     []Option
		want     int
		wantBody string // substring of the response body
		calls    int    // HandleJob calls expected
	}{
		{
			name: "GET is not allowed",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodGet, "/webhook", nil)
			},
			want: http.StatusMethodNotAllowed, wantBody: "only POST",
		},
		{
			name: "missing signature",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", queued)
				r.Header.Del(HeaderSignature)
				return r
			},
			want: http.StatusUnauthorized, wantBody: HeaderSignature,
		},
		{
			name: "signature with the wrong secret",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", queued)
				r.Header.Set(HeaderSignature, sign("not the secret", queued))
				return r
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "signature over a different body",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", queued)
				r.Header.Set(HeaderSignature, sign(testSecret, append([]byte(" "), queued...)))
				return r
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "sha1 signature is not accepted",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", queued)
				r.Header.Set(HeaderSignature, "sha1="+strings.Repeat("0", 40))
				return r
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "signature that is not hex",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", queued)
				r.Header.Set(HeaderSignature, "sha256="+strings.Repeat("z", 64))
				return r
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "unsigned garbage is refused before parsing",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", []byte("{not json"))
				r.Header.Set(HeaderSignature, "sha256=")
				return r
			},
			want: http.StatusUnauthorized,
		},
		{
			name: "declared length over the limit",
			req:  func() *http.Request { return delivery("workflow_job", "a", queued) },
			opts: []Option{WithMaxBodyBytes(100)},
			want: http.StatusRequestEntityTooLarge, wantBody: "larger than 100 bytes",
		},
		{
			name: "streamed body over the limit",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", queued)
				r.ContentLength = -1 // chunked: the limit must hold while reading
				r.Body = io.NopCloser(bytes.NewReader(queued))
				return r
			},
			opts: []Option{WithMaxBodyBytes(100)},
			want: http.StatusRequestEntityTooLarge,
		},
		{
			name: "body exactly at the limit",
			req:  func() *http.Request { return delivery("workflow_job", "a", queued) },
			opts: []Option{WithMaxBodyBytes(int64(len(queued)))},
			want: http.StatusOK, calls: 1,
		},
		{
			name: "ping",
			req:  func() *http.Request { return delivery("ping", "a", fixture(t, "ping.json")) },
			want: http.StatusOK, wantBody: "pong",
		},
		{
			name: "other events are accepted and ignored",
			req:  func() *http.Request { return delivery("push", "a", []byte(`{"ref":"refs/heads/main"}`)) },
			want: http.StatusAccepted, wantBody: "ignored",
		},
		{
			name: "missing event header",
			req:  func() *http.Request { return delivery("", "a", queued) },
			want: http.StatusBadRequest, wantBody: HeaderEvent,
		},
		{
			name: "malformed JSON",
			req:  func() *http.Request { return delivery("workflow_job", "a", []byte(`{"action": "queued",`)) },
			want: http.StatusBadRequest, wantBody: "malformed JSON at byte 20",
		},
		{
			name: "wrong JSON type",
			req: func() *http.Request {
				return delivery("workflow_job", "a", []byte(`{"action":"queued","workflow_job":{"id":"seven"}}`))
			},
			want: http.StatusBadRequest, wantBody: `field "workflow_job.id"`,
		},
		{
			name: "missing action",
			req:  func() *http.Request { return delivery("workflow_job", "a", []byte(`{"workflow_job":{"id":1}}`)) },
			want: http.StatusBadRequest, wantBody: `missing "action"`,
		},
		{
			name: "missing job id",
			req: func() *http.Request {
				return delivery("workflow_job", "a", []byte(`{"action":"queued","workflow_job":{}}`))
			},
			want: http.StatusBadRequest, wantBody: `missing "workflow_job.id"`,
		},
		{
			name: "form-encoded delivery",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", form)
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			},
			want: http.StatusOK, calls: 1,
		},
		{
			name: "form-encoded delivery without payload",
			req: func() *http.Request {
				r := delivery("workflow_job", "a", []byte("other=1"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			},
			want: http.StatusBadRequest, wantBody: `no "payload" field`,
		},
		{
			name: "delivery without an ID is still handled",
			req:  func() *http.Request { return delivery("workflow_job", "", queued) },
			want: http.StatusOK, calls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			h := newTestHandler(t, rec, tt.opts...)
			w := serve(h, tt.req())
			if w.Code != tt.want {
				t.Errorf("status %d, want %d (body %q)", w.Code, tt.want, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not contain %q", w.Body, tt.wantBody)
			}
			if got := rec.calls(); got != tt.calls {
				t.Errorf("HandleJob called %d times, want %d", got, tt.calls)
			}
		})
	}
}

func TestReplayAndRetry(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newTestHandler(t, rec)
	body := fixture(t, "workflow_job_queued.json")

	rec.setFail(errors.New("pool is full"))
	if w := serve(h, delivery("workflow_job", "guid-1", body)); w.Code != http.StatusInternalServerError {
		t.Fatalf("failing handler: status %d, want 500", w.Code)
	}
	if w := serve(h, delivery("workflow_job", "guid-1", body)); w.Code != http.StatusInternalServerError {
		t.Fatalf("redelivery of a failed delivery: status %d, want 500", w.Code)
	}
	if got := rec.calls(); got != 2 {
		t.Fatalf("a failed delivery must not be remembered: %d calls, want 2", got)
	}

	rec.setFail(nil)
	for i, want := range []string{"ok", "duplicate delivery", "duplicate delivery"} {
		w := serve(h, delivery("workflow_job", "guid-1", body))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Fatalf("delivery %d: status %d body %q, want 200 %q", i, w.Code, w.Body, want)
		}
	}
	if got := rec.calls(); got != 3 {
		t.Fatalf("replays reached the job handler: %d calls, want 3", got)
	}
	if w := serve(h, delivery("workflow_job", "guid-2", body)); w.Code != http.StatusOK {
		t.Fatalf("new delivery: status %d", w.Code)
	}
	if got := rec.calls(); got != 4 {
		t.Fatalf("a new delivery ID was not handled: %d calls, want 4", got)
	}
}

func TestDedupeEvictsLeastRecent(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newTestHandler(t, rec, WithDedupeSize(2))
	body := fixture(t, "workflow_job_queued.json")
	// a, b, a (refreshes a), c (evicts b), then a is still known and b is not.
	for _, id := range []string{"a", "b", "a", "c", "a", "b"} {
		if w := serve(h, delivery("workflow_job", id, body)); w.Code != http.StatusOK {
			t.Fatalf("delivery %s: status %d", id, w.Code)
		}
	}
	var got []string
	for _, ev := range rec.events {
		got = append(got, ev.DeliveryID)
	}
	want := []string{"a", "b", "c", "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handled deliveries %v, want %v", got, want)
	}
	if n := h.seen.len(); n != 2 {
		t.Errorf("remembered %d IDs, want the bound 2", n)
	}
}

// blocker holds every HandleJob call until release is closed.
type blocker struct {
	recorder
	entered chan struct{}
	release chan struct{}
}

func (b *blocker) HandleJob(ctx context.Context, ev JobEvent) error {
	b.entered <- struct{}{}
	<-b.release
	return b.recorder.HandleJob(ctx, ev)
}

func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	b := &blocker{entered: make(chan struct{}, 100), release: make(chan struct{})}
	h := newTestHandler(t, b)
	body := fixture(t, "workflow_job_queued.json")

	first := make(chan int)
	go func() { first <- serve(h, delivery("workflow_job", "same", body)).Code }()
	<-b.entered // the first delivery is inside HandleJob now

	const n = 20
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- serve(h, delivery("workflow_job", "same", body)).Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusConflict {
			t.Errorf("duplicate during handling: status %d, want 409", c)
		}
	}
	close(b.release)
	if c := <-first; c != http.StatusOK {
		t.Errorf("first delivery: status %d, want 200", c)
	}
	if w := serve(h, delivery("workflow_job", "same", body)); w.Code != http.StatusOK {
		t.Errorf("replay after success: status %d, want 200", w.Code)
	}
	if got := b.calls(); got != 1 {
		t.Errorf("HandleJob called %d times, want 1", got)
	}
}

func TestConcurrentDistinct(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newTestHandler(t, rec, WithDedupeSize(1000))
	body := fixture(t, "workflow_job_queued.json")
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each ID is sent twice, concurrently with everything else.
			id := fmt.Sprintf("id-%d", i%(n/2))
			serve(h, delivery("workflow_job", id, body))
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, ev := range rec.events {
		seen[ev.DeliveryID]++
	}
	// Each ID is handled exactly once: its twin either finds it in flight
	// (409) or already handled (200), and neither calls HandleJob.
	for id, c := range seen {
		if c != 1 {
			t.Errorf("delivery %s handled %d times", id, c)
		}
	}
	if len(seen) != n/2 {
		t.Errorf("%d distinct deliveries handled, want %d", len(seen), n/2)
	}
}

func TestSecretNeverLeaks(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := &recorder{}
	h := newTestHandler(t, rec, WithLogger(logger))
	queued := fixture(t, "workflow_job_queued.json")

	var bodies strings.Builder
	run := func(r *http.Request) {
		w := serve(h, r)
		bodies.WriteString(w.Body.String())
		for k, v := range w.Header() {
			bodies.WriteString(k + strings.Join(v, ""))
		}
	}
	run(delivery("workflow_job", "1", queued))
	run(delivery("workflow_job", "1", queued))
	run(delivery("ping", "2", fixture(t, "ping.json")))
	run(delivery("push", "3", []byte(`{}`)))
	run(delivery("workflow_job", "4", []byte(`{`)))
	bad := delivery("workflow_job", "5", queued)
	bad.Header.Set(HeaderSignature, sign(testSecret+"x", queued))
	run(bad)
	rec.setFail(errors.New("boom"))
	run(delivery("workflow_job", "6", queued))

	var printed strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		fmt.Fprintf(&printed, verb, h)
	}
	logger.Info("handler", "h", h)

	secretHex := hex.EncodeToString([]byte(testSecret))
	for where, text := range map[string]string{"logs": logs.String(), "responses": bodies.String(), "fmt": printed.String()} {
		if strings.Contains(text, testSecret) || strings.Contains(text, secretHex) {
			t.Errorf("the secret appears in %s:\n%s", where, text)
		}
	}
	// The signature header is derived from the secret; keep it out of logs too.
	if strings.Contains(logs.String(), sign(testSecret, queued)) {
		t.Errorf("a signature appears in the logs")
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged; the test would prove nothing")
	}
}

func TestNewHandlerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret []byte
		jobs   JobHandler
		opts   []Option
		want   string
	}{
		{name: "empty secret", secret: nil, jobs: &recorder{}, want: "secret is empty"},
		{name: "nil handler", secret: []byte("s"), jobs: nil, want: "job handler is nil"},
		{name: "zero body limit", secret: []byte("s"), jobs: &recorder{}, opts: []Option{WithMaxBodyBytes(0)}, want: "max body bytes"},
		{name: "negative dedupe size", secret: []byte("s"), jobs: &recorder{}, opts: []Option{WithDedupeSize(-1)}, want: "dedupe size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewHandler(tt.secret, tt.jobs, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSecretIsCopied(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	rec := &recorder{}
	h, err := NewHandler(secret, rec)
	if err != nil {
		t.Fatal(err)
	}
	clear(secret) // the caller wipes its copy
	if w := serve(h, delivery("workflow_job", "x", fixture(t, "workflow_job_queued.json"))); w.Code != http.StatusOK {
		t.Errorf("status %d after the caller wiped its secret, want 200", w.Code)
	}
}
