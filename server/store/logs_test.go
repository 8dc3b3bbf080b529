package store_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

func newJob(t testing.TB, s *store.Store) store.Job {
	t.Helper()
	ctx := context.Background()
	r := repo(t, s)
	run, err := s.CreateRun(ctx, store.NewRun{RepoID: r.ID, WorkflowPath: "ci.yml", Event: "push"})
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.CreateJob(ctx, store.Job{RunID: run.ID, Attempt: 1, Key: "build", Name: "build"})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func texts(lines []store.LogLine) []string {
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("%d:%d:%s", l.Step, l.Number, l.Text))
	}
	return out
}

func TestLogWriterBatches(t *testing.T) { eachBackend(t, testLogWriterBatches) }

func testLogWriterBatches(t *testing.T) {
	ctx := context.Background()
	// A long interval: only the line count and explicit flushes commit.
	s, _ := open(t, store.WithLogFlush(time.Hour, 3))
	j := newJob(t, s)
	w, err := s.NewLogWriter(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 16, 11, 25, 123456700, time.UTC)
	visible := func() []string {
		t.Helper()
		lines, err := s.Logs(ctx, j.ID, store.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return texts(lines)
	}
	steps := []struct {
		name  string
		write func() error
		want  []string
	}{
		{name: "buffered lines are not visible", write: func() error { return w.Write(ctx, 1, at, "one\ntwo") },
			want: nil},
		{name: "the third line commits the chunk", write: func() error { return w.Write(ctx, 1, at, "three") },
			want: []string{"1:1:one", "1:2:two", "1:3:three"}},
		{name: "another step starts a chunk", write: func() error {
			if err := w.Write(ctx, 1, at, "four"); err != nil {
				return err
			}
			return w.Write(ctx, 2, at, "five\r")
		}, want: []string{"1:1:one", "1:2:two", "1:3:three", "1:4:four"}},
		{name: "flush", write: func() error { return w.Flush(ctx) },
			want: []string{"1:1:one", "1:2:two", "1:3:three", "1:4:four", "2:5:five"}},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatal(err)
		}
		if got := visible(); !equal(got, st.want) {
			t.Fatalf("%s: visible %q, want %q", st.name, got, st.want)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query store.LogQuery
		want  []string
	}{
		{name: "step", query: store.LogQuery{Step: 2}, want: []string{"2:5:five"}},
		{name: "after", query: store.LogQuery{After: 2}, want: []string{"1:3:three", "1:4:four", "2:5:five"}},
		{name: "limit", query: store.LogQuery{After: 1, Limit: 2}, want: []string{"1:2:two", "1:3:three"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := s.Logs(ctx, j.ID, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(lines); !equal(got, tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
			if !lines[0].Time.Equal(at) {
				t.Fatalf("time %v, want %v", lines[0].Time, at)
			}
		})
	}

	// A writer for the same job (a restarted service) continues the numbering.
	w2, err := s.NewLogWriter(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Write(ctx, 3, at, "six"); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := s.WriteLog(ctx, j.ID, &raw); err != nil {
		t.Fatal(err)
	}
	// GitHub's raw job log: a 7-digit fraction, Z, a space, the text.
	want := "2026-12-05T16:11:25.1234567Z one\n" +
		"2026-12-05T16:11:25.1234567Z two\n2026-12-05T16:11:25.1234567Z three\n" +
		"2026-12-05T16:11:25.1234567Z four\n2026-12-05T16:11:25.1234567Z five\n" +
		"2026-12-05T16:11:25.1234567Z six\n"
	if raw.String() != want {
		t.Fatalf("raw log\n%s\nwant\n%s", raw.String(), want)
	}
}

func TestLogWriterInterval(t *testing.T) { eachBackend(t, testLogWriterInterval) }

func testLogWriterInterval(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, store.WithLogFlush(20*time.Millisecond, 1000))
	j := newJob(t, s)
	w, err := s.NewLogWriter(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	if err := w.Write(ctx, 1, time.Now(), "hello"); err != nil {
		t.Fatal(err)
	}
	// The timer commits the line without another write or a flush; wait
	// for that (bounded), not for a fixed time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines, err := s.Logs(ctx, j.ID, store.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) == 1 && lines[0].Text == "hello" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a buffered line was never committed by the flush interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkLog100MB stores a step printing 100 MB (100-byte lines) through
// a LogWriter; BenchmarkLog100MBFile writes the same lines to a file, the
// figure the README compares it with.
func BenchmarkLog100MB(b *testing.B) {
	ctx := context.Background()
	text := benchLines()
	const lines = 100 << 20 / 100
	for b.Loop() {
		b.StopTimer()
		s, _ := open(b)
		j := newJob(b, s)
		b.StartTimer()
		w, err := s.NewLogWriter(ctx, j.ID)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		for i := range lines {
			if err := w.Write(ctx, 1, now, text[i%len(text)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(lines * 100)
}

func BenchmarkLog100MBFile(b *testing.B) {
	text := benchLines()
	const lines = 100 << 20 / 100
	for b.Loop() {
		f, err := os.Create(filepath.Join(b.TempDir(), "log"))
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriter(f)
		now := time.Now()
		for i := range lines {
			bw.WriteString(now.UTC().Format(store.LogTimeFormat))
			bw.WriteByte(' ')
			bw.WriteString(text[i%len(text)])
			bw.WriteByte('\n')
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(lines * 100)
}

// benchLines are 99-byte lines like a Go build and test log's: package
// paths, counters, durations. Real logs compress about as well (the
// store compresses chunks), a run of one repeated character far better.
func benchLines() []string {
	out := make([]string, 10007)
	for i := range out {
		l := fmt.Sprintf("ok  \tgithub.com/vermont-ci/vermont/internal/pkg%04d/sub%03d\t%d.%03ds\tcoverage: %d.%d%% of statements [%d]",
			i*7919%10000, i%613, i%17, i*31%1000, i%100, i%10, i)
		out[i] = (l + strings.Repeat(" ", 99))[:99]
	}
	return out
}
