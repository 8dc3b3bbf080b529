package workflow

import (
	"sort"
	"strings"
)

// Kind classifies a diagnostic; it is printed in brackets after the message.
type Kind string

// Kinds of diagnostics.
const (
	KindSyntax     Kind = "syntax"     // the file is not valid YAML
	KindKey        Kind = "key"        // unknown, duplicate or missing key
	KindType       Kind = "type"       // a value of the wrong type
	KindValue      Kind = "value"      // a value of the right type that is not allowed
	KindExpression Kind = "expression" // bad `${{ }}` syntax
	KindUses       Kind = "uses"       // a bad action or reusable-workflow reference
	KindID         Kind = "id"         // bad or duplicate job or step ids
	KindNeeds      Kind = "needs"      // needs naming a missing job, or a cycle
	KindCron       Kind = "cron"       // a bad schedule
	KindMatrix     Kind = "matrix"     // a bad strategy matrix
	KindEvent      Kind = "event"      // a bad trigger
)

// Severity says whether a diagnostic stops a workflow from running.
type Severity uint8

// Severities. The zero value is an error.
const (
	// SeverityError marks input GitHub rejects: the workflow must not run.
	SeverityError Severity = iota
	// SeverityWarning marks input Vermont does not know but GitHub may
	// accept, such as an event or activity type newer than Vermont's list:
	// it is shown, and the workflow still runs.
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Error is one diagnostic about user input, at a position in a file.
type Error struct {
	File     string
	Pos      Pos
	Msg      string
	Kind     Kind
	Severity Severity
}

// Error renders the diagnostic as `file:line:col: message [kind]`, with
// "warning: " before the message of a warning.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteByte(':')
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Msg)
	if e.Kind != "" {
		b.WriteString(" [")
		b.WriteString(string(e.Kind))
		b.WriteByte(']')
	}
	return b.String()
}

// ErrorList is a list of diagnostics, as returned by the parsers. Use Err
// to turn it into an error that is nil when the list is empty.
type ErrorList []*Error

// Add appends an error.
func (l *ErrorList) Add(file string, pos Pos, kind Kind, msg string) {
	*l = append(*l, &Error{File: file, Pos: pos, Msg: msg, Kind: kind})
}

// Warnings returns the warnings of the list, in order.
func (l ErrorList) Warnings() ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.Severity == SeverityWarning {
			out = append(out, e)
		}
	}
	return out
}

// HasErrors reports whether the list holds a diagnostic that is not a
// warning.
func (l ErrorList) HasErrors() bool {
	for _, e := range l {
		if e.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Len, Less and Swap implement sort.Interface: by file, line, column,
// message.
func (l ErrorList) Len() int      { return len(l) }
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i], l[j]
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Pos != b.Pos {
		return a.Pos.Before(b.Pos)
	}
	if a.Msg != b.Msg {
		return a.Msg < b.Msg
	}
	return a.Kind < b.Kind
}

// Sort sorts the list by position and removes exact duplicates.
func (l *ErrorList) Sort() {
	sort.Stable(*l)
	out := (*l)[:0]
	for i, e := range *l {
		if i > 0 && *e == *(*l)[i-1] {
			continue
		}
		out = append(out, e)
	}
	for i := len(out); i < len(*l); i++ {
		(*l)[i] = nil
	}
	*l = out
}

// Error renders every diagnostic, one a line.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns nil for a list without errors (empty, or warnings only) and
// the whole list, warnings included, otherwise.
func (l ErrorList) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l
}
