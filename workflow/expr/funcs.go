package expr

import (
	"strings"
)

// funcInfo describes one of GitHub's functions: its name as documented, its
// arity (max -1 for unbounded), whether it always returns a boolean, and
// whether it is a status check function.
type funcInfo struct {
	name     string
	min, max int
	boolean  bool
	status   bool
}

// functions are the documented functions, keyed by lower-case name, since
// GitHub matches function names case-insensitively. Immutable.
var functions = map[string]funcInfo{
	"contains":   {name: "contains", min: 2, max: 2, boolean: true},
	"startswith": {name: "startsWith", min: 2, max: 2, boolean: true},
	"endswith":   {name: "endsWith", min: 2, max: 2, boolean: true},
	"format":     {name: "format", min: 1, max: 256},
	"join":       {name: "join", min: 1, max: 2},
	"tojson":     {name: "toJSON", min: 1, max: 1},
	"fromjson":   {name: "fromJSON", min: 1, max: 1},
	"hashfiles":  {name: "hashFiles", min: 1, max: 256},
	"case":       {name: "case", min: 3, max: -1},
	"success":    {name: "success", min: 0, max: 0, boolean: true, status: true},
	"always":     {name: "always", min: 0, max: 0, boolean: true, status: true},
	"cancelled":  {name: "cancelled", min: 0, max: 0, boolean: true, status: true},
	"failure":    {name: "failure", min: 0, max: 0, boolean: true, status: true},
}

// contextNames are the contexts an expression may name (case-insensitive).
// Which of them a given workflow key allows is the caller's check, through
// Program.Contexts.
var contextNames = []string{"env", "github", "inputs", "job", "jobs", "matrix", "needs", "runner", "secrets", "steps", "strategy", "vars"}

func isContextName(lower string) bool {
	for _, n := range contextNames {
		if n == lower {
			return true
		}
	}
	return false
}

// checkCall reports an unknown function or a wrong number of arguments.
func checkCall(c *Call) *Error {
	f, ok := functions[strings.ToLower(c.Name)]
	if !ok {
		return errorf(c.Pos, "unknown function %q: the functions are contains, startsWith, endsWith, format, join, toJSON, fromJSON, hashFiles, case, success, always, cancelled and failure", c.Name)
	}
	n := len(c.Args)
	switch {
	case n < f.min && f.min == f.max:
		return errorf(c.Pos, "%s takes %s, got %d", f.name, plural(f.min, "argument"), n)
	case n < f.min:
		return errorf(c.Pos, "%s takes at least %s, got %d", f.name, plural(f.min, "argument"), n)
	case f.max >= 0 && n > f.max && f.min == f.max:
		return errorf(c.Pos, "%s takes %s, got %d", f.name, plural(f.max, "argument"), n)
	case f.max >= 0 && n > f.max:
		return errorf(c.Pos, "%s takes at most %s, got %d", f.name, plural(f.max, "argument"), n)
	case f.name == "case" && n%2 == 0:
		return errorf(c.Pos, "case takes pairs of predicate and value followed by a default value, so an odd number of arguments; got %d", n)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strings.Join([]string{itoa(n), word + "s"}, " ")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
