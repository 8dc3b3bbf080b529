package workflow

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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
	_, err := parseCron(s)
	return err
}

// Cron is a parsed on.schedule cron expression: POSIX cron's five fields,
// evaluated in UTC as GitHub evaluates them.
type Cron struct {
	fields [5]uint64 // bit v is set when value v matches
	// domAny and dowAny record whether day of month and day of week are "*": when
	// both are restricted, a day matches if either does (POSIX).
	domAny, dowAny bool
}

// ParseCron parses a cron expression; its errors are checkCron's.
func ParseCron(s string) (Cron, error) {
	c, err := parseCron(s)
	if err != nil {
		return Cron{}, fmt.Errorf("cron %q: %s", s, err.msg)
	}
	return c, nil
}

func parseCron(s string) (Cron, *cronError) {
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
	var c Cron
	if len(fields) != 5 {
		return c, &cronError{0, fmt.Sprintf("it has %d fields, want 5 (minute hour day-of-month month day-of-week), e.g. '30 5 * * 1-5'", len(fields))}
	}
	for i, f := range fields {
		bits, msg := cronFields[i].parse(f.text)
		if msg != "" {
			return Cron{}, &cronError{f.off, msg}
		}
		c.fields[i] = bits
	}
	c.domAny, c.dowAny = strings.HasPrefix(fields[2].text, "*"), strings.HasPrefix(fields[4].text, "*")
	return c, nil
}

// Matches reports whether t's minute (in UTC) is one the expression names.
func (c Cron) Matches(t time.Time) bool {
	t = t.UTC()
	has := func(i, v int) bool { return c.fields[i]&(1<<uint(v)) != 0 }
	return has(0, t.Minute()) && has(1, t.Hour()) && has(3, int(t.Month())) && c.dayMatches(t)
}

// Next returns the first minute strictly after t that the expression
// names, in UTC, or the zero Time when there is none within eight years
// (a date that never comes, such as 0 0 30 2 *).
func (c Cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(8, 0, 0)
	for t.Before(end) {
		if c.fields[3]&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.fields[1]&(1<<uint(t.Hour())) == 0 {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if c.Matches(t) {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

// dayMatches reports whether t's day is one the expression names.
func (c Cron) dayMatches(t time.Time) bool {
	dom, dow := c.fields[2]&(1<<uint(t.Day())) != 0, c.fields[4]&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}

// parse reads one field, a comma list of items, into the values it names.
func (f cronField) parse(s string) (uint64, string) {
	var bits uint64
	for _, item := range strings.Split(s, ",") {
		b, msg := f.parseItem(item)
		if msg != "" {
			return 0, msg
		}
		bits |= b
	}
	return bits, ""
}

// parseItem reads `*`, `v`, `a-b`, each optionally followed by `/step`.
func (f cronField) parseItem(item string) (uint64, string) {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return 0, fmt.Sprintf("bad step %q in the %s field: it must be a positive number", stepText, f.name)
		}
		step = n
	}
	a, b := f.min, f.max
	if rng != "*" {
		lo, hi, isRange := strings.Cut(rng, "-")
		var msg string
		if a, msg = f.value(lo); msg != "" {
			return 0, msg
		}
		b = a
		if isRange {
			if b, msg = f.value(hi); msg != "" {
				return 0, msg
			}
			if a > b {
				return 0, fmt.Sprintf("range %q in the %s field goes backwards", rng, f.name)
			}
		} else if hasStep {
			b = f.max // "v/n" is v, v+n, … up to the field's end
		}
	}
	var bits uint64
	for v := a; v <= b; v += step {
		bits |= 1 << uint(v)
	}
	return bits, ""
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
