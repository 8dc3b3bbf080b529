package workflow

import (
	"fmt"
	"strconv"
	"strings"
)

// cronError is a problem in one field of a cron expression; off is the
// byte offset of the field in the expression.
type cronError struct {
	off int
	msg string
}

// cronField describes one of the five POSIX cron fields GitHub accepts.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var cronFields = [5]cronField{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{"day of week", 0, 6, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// checkCron validates a cron expression of on.schedule: five fields of
// values, names (months, week days), ranges a-b, steps */n and a-b/n, and
// comma lists. https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#schedule
func checkCron(s string) *cronError {
	type field struct {
		text string
		off  int
	}
	var fields []field
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if i > start {
			fields = append(fields, field{s[start:i], start})
		}
	}
	if len(fields) != 5 {
		return &cronError{0, fmt.Sprintf("it has %d fields, want 5 (minute hour day-of-month month day-of-week), e.g. '30 5 * * 1-5'", len(fields))}
	}
	for i, f := range fields {
		if msg := cronFields[i].check(f.text); msg != "" {
			return &cronError{f.off, msg}
		}
	}
	return nil
}

// check validates one field: a comma list of items.
func (f cronField) check(s string) string {
	for _, item := range strings.Split(s, ",") {
		if msg := f.checkItem(item); msg != "" {
			return msg
		}
	}
	return ""
}

// checkItem validates `*`, `v`, `a-b`, each optionally followed by `/step`.
func (f cronField) checkItem(item string) string {
	rng, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 {
			return fmt.Sprintf("bad step %q in the %s field: it must be a positive number", step, f.name)
		}
	}
	if rng == "*" {
		return ""
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	a, msg := f.value(lo)
	if msg != "" {
		return msg
	}
	if !isRange {
		return ""
	}
	b, msg := f.value(hi)
	if msg != "" {
		return msg
	}
	if a > b {
		return fmt.Sprintf("range %q in the %s field goes backwards", rng, f.name)
	}
	return ""
}

// value parses a number or a name of the field.
func (f cronField) value(s string) (int, string) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, ""
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		if f.names != nil {
			return 0, fmt.Sprintf("bad %s %q: use %d-%d or a name such as %s", f.name, s, f.min, f.max, strings.ToUpper(f.names[0]))
		}
		return 0, fmt.Sprintf("bad %s %q: use a number from %d to %d", f.name, s, f.min, f.max)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Sprintf("%s %d is out of range %d-%d", f.name, n, f.min, f.max)
	}
	return n, ""
}

// cronPos is the position of the field a cron error is about; it assumes
// the cron string is on one line, as it always is in practice.
func cronPos(s *String, err *cronError) Pos {
	p := s.Pos
	if s.Quoted {
		p.Col++
	}
	p.Col += len([]rune(s.Value[:err.off]))
	return p
}
