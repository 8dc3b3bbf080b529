package expr

import "strings"

// CompileCondition compiles the value of an if: key. The value may be
// wrapped in ${{ }} or not, as GitHub allows. When the expression calls none
// of success(), failure(), cancelled() and always(), GitHub evaluates
// success() && (expr); the returned program does the same, so callers need
// not add it. Error offsets are in src, as written.
func CompileCondition(src string) (*Program, error) {
	p, err := compileCondition(src)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compileCondition(src string) (*Program, *Error) {
	inner, base := unwrap(src)
	n, err := parse(inner)
	if err != nil {
		err.Offset += base
		return nil, err
	}
	if base > 0 {
		n = shift(n, base)
	}
	if !usesStatus(n) {
		n = &Binary{Pos: n.Offset(), Op: OpAnd, L: &Call{Pos: n.Offset(), Name: "success"}, R: n}
	}
	return compileNode(n)
}

// unwrap returns the expression inside a value that is exactly one
// ${{ expr }} (whitespace around allowed) and its offset; anything else is
// returned whole.
func unwrap(src string) (string, int) {
	trimmed := strings.TrimLeft(src, " \t\r\n")
	lead := len(src) - len(trimmed)
	if !strings.HasPrefix(trimmed, "${{") {
		return src, 0
	}
	end := closing(src, lead+3)
	if end < 0 || strings.TrimSpace(src[end+2:]) != "" {
		return src, 0
	}
	return src[lead+3 : end], lead + 3
}

// usesStatus reports whether n calls a status check function.
func usesStatus(n Node) bool {
	switch n := n.(type) {
	case *Call:
		if functions[strings.ToLower(n.Name)].status {
			return true
		}
		for _, a := range n.Args {
			if usesStatus(a) {
				return true
			}
		}
	case *Binary:
		return usesStatus(n.L) || usesStatus(n.R)
	case *Not:
		return usesStatus(n.X)
	case *Property:
		return usesStatus(n.X)
	case *Index:
		return usesStatus(n.X) || usesStatus(n.Index)
	case *Filter:
		return usesStatus(n.X)
	}
	return false
}

// shift returns a copy of n with every offset moved by d.
func shift(n Node, d int) Node {
	switch n := n.(type) {
	case *Literal:
		c := *n
		c.Pos += d
		return &c
	case *ContextRef:
		c := *n
		c.Pos += d
		return &c
	case *Property:
		return &Property{Pos: n.Pos + d, X: shift(n.X, d), Name: n.Name}
	case *Index:
		return &Index{Pos: n.Pos + d, X: shift(n.X, d), Index: shift(n.Index, d)}
	case *Filter:
		return &Filter{Pos: n.Pos + d, X: shift(n.X, d)}
	case *Not:
		return &Not{Pos: n.Pos + d, X: shift(n.X, d)}
	case *Binary:
		return &Binary{Pos: n.Pos + d, Op: n.Op, L: shift(n.L, d), R: shift(n.R, d)}
	case *Call:
		args := make([]Node, len(n.Args))
		for i, a := range n.Args {
			args[i] = shift(a, d)
		}
		return &Call{Pos: n.Pos + d, Name: n.Name, Args: args}
	}
	return n
}
