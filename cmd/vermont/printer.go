package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/vermont-ci/vermont/exec"
)

// printer shows events: prefixed, coloured per job on a terminal, plain
// otherwise, or as JSON lines. Events arrive masked; the printer adds no
// values of its own that could hold secrets.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	enc    *json.Encoder
	color  bool
	colors map[string]int
	jobs   []jobRow
}

type jobRow struct {
	name     string
	result   exec.Result
	duration time.Duration
	summary  string
}

func newPrinter(w io.Writer, asJSON, color bool) *printer {
	p := &printer{w: w, color: color, colors: map[string]int{}}
	if asJSON {
		p.enc = json.NewEncoder(w)
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

var palette = []int{36, 33, 35, 32, 34, 91, 96, 93, 95, 92, 94}

// Emit prints one event.
func (p *printer) Emit(e exec.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind == exec.JobFinished {
		p.jobs = append(p.jobs, jobRow{name: e.Job, result: e.Result, duration: e.Duration, summary: e.Summary})
	}
	if p.enc != nil {
		_ = p.enc.Encode(e)
		return
	}
	var line string
	switch e.Kind {
	case exec.JobStarted:
		line = "▶ job started"
	case exec.StepStarted:
		line = "▶ " + e.Step
	case exec.StepFinished:
		line = fmt.Sprintf("%s %s (%s)", mark(e.Result), e.Step, round(e.Duration))
		if e.Outcome == exec.Failure && e.Result == exec.Success {
			line += " (failed; continue-on-error)"
		}
	case exec.JobFinished:
		line = fmt.Sprintf("%s job %s", mark(e.Result), e.Result)
		if e.Duration > 0 {
			line += " in " + round(e.Duration).String()
		}
	case exec.Log:
		line = "  | " + levelPrefix(e.Level) + e.Line
	default:
		return
	}
	fmt.Fprintf(p.w, "%s %s\n", p.prefix(e.Job), line)
}

func levelPrefix(level string) string {
	switch level {
	case "error":
		return "Error: "
	case "warning":
		return "Warning: "
	case "notice":
		return "Notice: "
	case "debug":
		return "Debug: "
	case "group":
		return "▼ "
	case "endgroup":
		return "▲"
	}
	return ""
}

func (p *printer) prefix(job string) string {
	if !p.color {
		return "[" + job + "]"
	}
	c, ok := p.colors[job]
	if !ok {
		c = palette[len(p.colors)%len(palette)]
		p.colors[job] = c
	}
	return fmt.Sprintf("\x1b[%dm[%s]\x1b[0m", c, job)
}

func mark(r exec.Result) string {
	switch r {
	case exec.Success:
		return "✓"
	case exec.Failure:
		return "✗"
	case exec.Cancelled:
		return "⊘"
	}
	return "-"
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// summary prints the table of jobs, and the step summaries they wrote.
func (p *printer) summary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.enc != nil || len(p.jobs) == 0 {
		return
	}
	rows := append([]jobRow(nil), p.jobs...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	fmt.Fprintln(p.w)
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tRESULT\tDURATION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s %s\t%s\n", r.name, mark(r.result), r.result, round(r.duration))
	}
	tw.Flush()
	for _, r := range rows {
		if strings.TrimSpace(r.summary) != "" {
			fmt.Fprintf(p.w, "\n── summary of %s ──\n%s", r.name, r.summary)
		}
	}
}
