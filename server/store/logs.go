package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// LogTimeFormat is the timestamp that starts every line of a job's raw
// log, as in the logs GitHub serves (…/actions/jobs/{id}/logs):
// "2026-12-05T16:11:25.1234567Z text".
const LogTimeFormat = "2006-01-02T15:04:05.0000000Z"

// maxChunkBytes bounds one log chunk (and so a LogWriter's memory).
const maxChunkBytes = 1 << 20

// codec compresses log chunks with zstd. CI logs are repetitive (paths,
// package names, timestamps) and compress several times over, which is
// what lets a chunk's two writes (WAL, then checkpoint) cost less than
// writing the plain text once (BenchmarkLog100MB).
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newCodec() (codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return codec{}, fmt.Errorf("store: zstd: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		return codec{}, fmt.Errorf("store: zstd: %w", err)
	}
	return codec{enc: enc, dec: dec}, nil
}

// LogLine is one line of a job's log.
type LogLine struct {
	JobID  int64
	Step   int64 // the step's number; 0 for lines outside any step
	Number int64 // 1, 2, 3, … across the whole job
	Time   time.Time
	Text   string
}

// LogWriter appends one job's log lines in chunks. Lines become visible to
// readers when their chunk commits: when FlushLines lines are waiting,
// FlushInterval after the first of them, on Flush, or on Close. It is safe
// for concurrent use.
type LogWriter struct {
	s     *Store
	job   int64
	mu    sync.Mutex
	buf   bytes.Buffer
	zbuf  []byte // buf compressed, reused
	step  int64  // the step of the lines in buf
	first int64  // the number of buf's first line
	next  int64  // the number the next line gets
	n     int    // lines in buf
	timer *time.Timer
	err   error // the first flush error, returned by every later call
}

// NewLogWriter starts (or continues) job jobID's log.
func (s *Store) NewLogWriter(ctx context.Context, jobID int64) (*LogWriter, error) {
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(last_line), 0) FROM log_chunks WHERE job_id = ?`, jobID).Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("store: log of job %d: %w", jobID, err)
	}
	return &LogWriter{s: s, job: jobID, next: last + 1}, nil
}

// Write appends text, stamped t, to step's lines; text with newlines is
// several lines. Lines of another step than the buffered ones start a new
// chunk.
func (w *LogWriter) Write(ctx context.Context, step int64, t time.Time, text string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.n > 0 && step != w.step {
		if err := w.flushLocked(ctx); err != nil {
			return err
		}
	}
	stamp := t.UTC().Format(LogTimeFormat)
	for {
		line, rest, more := strings.Cut(text, "\n")
		if w.n == 0 {
			w.step, w.first = step, w.next
			if w.timer == nil {
				w.timer = time.AfterFunc(w.s.flush, w.flushLater)
			} else {
				w.timer.Reset(w.s.flush)
			}
		}
		w.buf.WriteString(stamp)
		w.buf.WriteByte(' ')
		w.buf.WriteString(strings.TrimSuffix(line, "\r"))
		w.buf.WriteByte('\n')
		w.n++
		w.next++
		if w.n >= w.s.lines || w.buf.Len() >= maxChunkBytes {
			if err := w.flushLocked(ctx); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		text = rest
	}
}

// flushLater is the timer's flush of lines that have waited FlushInterval.
// It has no caller's context; it is bounded by its own timeout.
func (w *LogWriter) flushLater() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.n > 0 {
		w.flushLocked(ctx)
	}
}

// Flush commits the buffered lines.
func (w *LogWriter) Flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.flushLocked(ctx)
}

// Close commits the buffered lines and stops the writer's timer.
func (w *LogWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.err != nil {
		return w.err
	}
	return w.flushLocked(ctx)
}

func (w *LogWriter) flushLocked(ctx context.Context) error {
	if w.n == 0 {
		return nil
	}
	w.zbuf = w.s.codec.enc.EncodeAll(w.buf.Bytes(), w.zbuf[:0])
	_, err := w.s.db.ExecContext(ctx, `INSERT INTO log_chunks (job_id, first_line, last_line, step, data)
		VALUES (?, ?, ?, ?, ?)`, w.job, w.first, w.next-1, w.step, w.zbuf)
	if err != nil {
		w.err = fmt.Errorf("store: write log of job %d: %w", w.job, err)
		return w.err
	}
	w.buf.Reset()
	w.n = 0
	return nil
}

// LogQuery selects lines of a job's log.
type LogQuery struct {
	Step  int64 // only this step's lines; 0 for all
	After int64 // only lines numbered above After
	Limit int   // at most Limit lines; 0 for all
}

// Logs returns the committed lines of job jobID that q selects, in order.
func (s *Store) Logs(ctx context.Context, jobID int64, q LogQuery) ([]LogLine, error) {
	var out []LogLine
	err := s.chunks(ctx, jobID, q, func(step, first int64, data []byte) bool {
		n := first
		for len(data) > 0 {
			line, rest, _ := bytes.Cut(data, []byte{'\n'})
			data = rest
			if n > q.After {
				out = append(out, parseLogLine(jobID, step, n, line))
				if q.Limit > 0 && len(out) == q.Limit {
					return false
				}
			}
			n++
		}
		return true
	})
	return out, err
}

// parseLogLine splits "stamp text" as LogWriter wrote it.
func parseLogLine(job, step, n int64, line []byte) LogLine {
	l := LogLine{JobID: job, Step: step, Number: n}
	stamp, text, _ := bytes.Cut(line, []byte{' '})
	l.Time, _ = time.Parse(LogTimeFormat, string(stamp))
	l.Text = string(text)
	return l
}

// WriteLog copies job jobID's committed log to w in GitHub's raw format,
// one "stamp text" line per log line.
func (s *Store) WriteLog(ctx context.Context, jobID int64, w io.Writer) error {
	bw := bufio.NewWriter(w)
	var werr error
	err := s.chunks(ctx, jobID, LogQuery{}, func(_, _ int64, data []byte) bool {
		_, werr = bw.Write(data)
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}

// chunks calls f with each committed chunk of job jobID that may hold
// lines q selects, in order, until f returns false.
func (s *Store) chunks(ctx context.Context, jobID int64, q LogQuery, f func(step, first int64, data []byte) bool) error {
	query := `SELECT step, first_line, data FROM log_chunks WHERE job_id = ? AND last_line > ?`
	args := []any{jobID, q.After}
	if q.Step != 0 {
		query += ` AND step = ?`
		args = append(args, q.Step)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY first_line`, args...)
	if err != nil {
		return fmt.Errorf("store: log of job %d: %w", jobID, err)
	}
	defer rows.Close()
	var plain []byte
	for rows.Next() {
		var step, first int64
		var data sql.RawBytes
		if err := rows.Scan(&step, &first, &data); err != nil {
			return fmt.Errorf("store: log of job %d: %w", jobID, err)
		}
		plain, err = s.codec.dec.DecodeAll(data, plain[:0])
		if err != nil {
			return fmt.Errorf("store: log of job %d, line %d: %w", jobID, first, err)
		}
		if !f(step, first, plain) {
			return nil
		}
	}
	if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("store: log of job %d: %w", jobID, err)
	}
	return rows.Err()
}
