package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

// seg is a run of a log line's text in one ANSI style, as CSS classes.
type seg struct {
	Class string `json:"c,omitempty"`
	Text  string `json:"t"`
}

// logLine is a stored log line as the job page shows it.
type logLine struct {
	N     int64  `json:"n"`     // across the job
	Step  int64  `json:"step"`  // the step's number
	Rel   int64  `json:"rel"`   // within the step, from 1: the line link's number
	Time  string `json:"time"`  // RFC 3339
	Level string `json:"level"` // error, warning, notice, debug, command, group, endgroup or ""
	Segs  []seg  `json:"segs"`
}

// ID is the line's anchor, #step-2-15 for line 15 of step 2.
func (l logLine) ID() string {
	return "step-" + strconv.FormatInt(l.Step, 10) + "-" + strconv.FormatInt(l.Rel, 10)
}

// Text is the line's text without its styles.
func (l logLine) Text() string {
	var b strings.Builder
	for _, s := range l.Segs {
		b.WriteString(s.Text)
	}
	return b.String()
}

// prefixes of stored lines (server's storeSink writes them as GitHub's
// raw logs do), and how the page labels them.
var prefixes = []struct{ prefix, level, label string }{
	{"##[group]", "group", ""},
	{"##[endgroup]", "endgroup", ""},
	{"##[error]", "error", "Error: "},
	{"##[warning]", "warning", "Warning: "},
	{"##[notice]", "notice", "Notice: "},
	{"##[debug]", "debug", "Debug: "},
	{"[command]", "command", ""},
}

// toLine makes a stored line a page's line; first is the number of its
// step's first line.
func toLine(l store.LogLine, first int64) logLine {
	out := logLine{N: l.Number, Step: l.Step, Rel: l.Number - first + 1}
	if !l.Time.IsZero() {
		out.Time = l.Time.UTC().Format(time.RFC3339Nano)
	}
	text := l.Text
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(text, p.prefix); ok {
			out.Level, text = p.level, p.label+rest
			break
		}
	}
	out.Segs = ansi(text)
	return out
}

// ansi splits text at its SGR escape sequences (ESC [ … m) into runs of
// text with the colours and weight they set, as CSS classes; other escape
// sequences are dropped.
func ansi(text string) []seg {
	if !strings.Contains(text, "\x1b") {
		return []seg{{Text: text}}
	}
	var segs []seg
	var fg, bg string
	bold := false
	class := func() string {
		var c []string
		if bold {
			c = append(c, "b")
		}
		if fg != "" {
			c = append(c, "f"+fg)
		}
		if bg != "" {
			c = append(c, "g"+bg)
		}
		return strings.Join(c, " ")
	}
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			segs = append(segs, seg{Class: class(), Text: cur.String()})
			cur.Reset()
		}
	}
	for i := 0; i < len(text); i++ {
		if text[i] != 0x1b {
			cur.WriteByte(text[i])
			continue
		}
		// ESC [ params final
		if i+1 >= len(text) || text[i+1] != '[' {
			continue
		}
		j := i + 2
		for j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == ';') {
			j++
		}
		if j >= len(text) {
			i = len(text)
			break
		}
		if text[j] == 'm' {
			flush()
			params := strings.Split(text[i+2:j], ";")
			for _, p := range params {
				n, _ := strconv.Atoi(p)
				switch {
				case n == 0:
					fg, bg, bold = "", "", false
				case n == 1:
					bold = true
				case n == 22:
					bold = false
				case n >= 30 && n <= 37, n >= 90 && n <= 97:
					fg = strconv.Itoa(n)
				case n == 39:
					fg = ""
				case n >= 40 && n <= 47, n >= 100 && n <= 107:
					bg = strconv.Itoa(n)
				case n == 49:
					bg = ""
				}
			}
		}
		i = j
	}
	flush()
	if segs == nil {
		segs = []seg{{Text: ""}}
	}
	return segs
}

// logItem is a line, or a ::group:: with the lines in it, folded.
type logItem struct {
	Line  logLine
	Group *logGroup
}

type logGroup struct {
	Title logLine
	Lines []logLine
}

// stepLog is one step's lines on a page.
type stepLog struct {
	Step  store.Step
	First int64 // the number of its first line across the job, 0 if none
	Items []logItem
	Count int
}

// groupLines folds lines into groups: a group runs from its ##[group]
// line to its ##[endgroup] (which is not shown) or the step's end.
func groupLines(lines []logLine) []logItem {
	var items []logItem
	var open *logGroup
	for _, l := range lines {
		switch l.Level {
		case "group":
			open = &logGroup{Title: l}
			items = append(items, logItem{Group: open})
		case "endgroup":
			open = nil
		default:
			if open != nil {
				open.Lines = append(open.Lines, l)
			} else {
				items = append(items, logItem{Line: l})
			}
		}
	}
	return items
}
