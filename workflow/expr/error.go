package expr

import "fmt"

// Error is a diagnostic about an expression. Offset is the 0-based byte
// offset in the source given to [Parse] or [Compile] (for templates, in the
// whole template string); callers map it into their file.
type Error struct {
	Offset int
	Msg    string
}

// Error renders the diagnostic as "col N: msg", N being Offset+1, without
// file information.
func (e *Error) Error() string {
	return fmt.Sprintf("col %d: %s", e.Offset+1, e.Msg)
}

func errorf(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}
