package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// FuzzHandler feeds arbitrary bodies through the handler, signed and
// unsigned. Properties: no panic; an unsigned body gets 401 and never
// reaches the job handler; a signed workflow_job gets 200 exactly when the
// job handler was called once (and then the body was valid JSON), and 400
// otherwise; a signed ping gets 200 and any other event 202.
func FuzzHandler(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "{", "null", "[]", `{"action":"queued"}`,
		`{"action":"queued","workflow_job":{"id":1,"labels":null}}`,
		`{"action":"","workflow_job":{"id":1}}`, `{"workflow_job":{"id":1e400}}`,
		"payload=%7B%7D"} {
		f.Add([]byte(s))
	}
	rec := &recorder{}
	h, err := NewHandler([]byte(testSecret), rec, WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	var n int
	f.Fuzz(func(t *testing.T, body []byte) {
		n++
		id := fmt.Sprint("fuzz-", n)

		unsigned := delivery("workflow_job", id+"-u", body)
		unsigned.Header.Set(HeaderSignature, sign("wrong", body))
		before := rec.calls()
		if w := serve(h, unsigned); w.Code != http.StatusUnauthorized {
			t.Fatalf("unsigned: status %d, want 401", w.Code)
		}
		if rec.calls() != before {
			t.Fatal("an unsigned delivery reached the job handler")
		}

		w := serve(h, delivery("workflow_job", id, body))
		called := rec.calls() - before
		switch {
		case len(body) > 1<<16:
			if w.Code != http.StatusRequestEntityTooLarge || called != 0 {
				t.Fatalf("oversized: status %d, %d calls", w.Code, called)
			}
		case w.Code == http.StatusOK:
			if called != 1 {
				t.Fatalf("200 with %d job handler calls", called)
			}
			if !json.Valid(body) {
				t.Fatalf("invalid JSON %q accepted", body)
			}
		case w.Code == http.StatusBadRequest:
			if called != 0 {
				t.Fatalf("400 with %d job handler calls", called)
			}
		default:
			t.Fatalf("signed workflow_job: status %d, want 200 or 400", w.Code)
		}

		if w := serve(h, delivery("ping", id+"-p", body)); w.Code != http.StatusOK {
			t.Fatalf("ping: status %d", w.Code)
		}
		if w := serve(h, delivery("issues", id+"-i", body)); w.Code != http.StatusAccepted {
			t.Fatalf("other event: status %d", w.Code)
		}
	})
}

// nop is a JobHandler that does nothing, so the benchmark measures the
// handler alone.
type nop struct{}

func (nop) HandleJob(context.Context, JobEvent) error { return nil }

// BenchmarkHandler measures one delivery: read, verify the HMAC, decode the
// workflow_job payload and dispatch it (each iteration uses a fresh delivery
// ID, so the de-duplication set is exercised and never short-circuits).
func BenchmarkHandler(b *testing.B) {
	for _, name := range []string{"workflow_job_queued.json", "workflow_job_completed.json"} {
		b.Run(name, func(b *testing.B) {
			body := fixture(b, name)
			h := newTestHandler(b, nop{})
			sig := sign(testSecret, body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := delivery("workflow_job", "", body)
				r.Header.Set(HeaderDelivery, fmt.Sprint("bench-", i))
				r.Header.Set(HeaderSignature, sig)
				i++
				w := serve(h, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
