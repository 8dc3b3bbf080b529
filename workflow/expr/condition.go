package expr

import "strings"

// CompileCondition compiles the value of an if: key as actions/runner
// reads it (src/Sdk/WorkflowParser/ObjectTemplating/TemplateReader.cs
// ParseScalar, and PipelineTemplateConverter.ConvertToIfCondition):
//
//   - a value without ${{ is the expression itself;
//   - a value that is exactly one ${{ x }} (nothing around it, not even
//     spaces) is the expression x, and when x is a string literal, the
//     literal's text is the expression (${{ 'a == b' }} is a == b);
//   - any other mix of text and ${{ }} is a format string:
//     `${{ false }} && false` is format('{0} && false', false), a non-empty
//     string, so it is true.
//
// When the expression calls none of success(), failure(), cancelled() and
// always(), GitHub evaluates success() && (expr); the returned program does
// the same, so callers need not add it. Error offsets are in src, as written.
func CompileCondition(src string) (*Program, error) {
	p, err := compileCondition(src)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compileCondition(src string) (*Program, *Error) {
	n, err := parseCondition(src)
	if err != nil {
		return nil, err
	}
	if !usesStatus(n) {
		n = &Binary{Pos: n.Offset(), Op: OpAnd, L: &Call{Pos: n.Offset(), Name: "success"}, R: n}
	}
	return compileNode(n)
}

// ParseCondition parses the value of an if: key into the expression GitHub
// evaluates, before success() is implied; see [CompileCondition].
func ParseCondition(src string) (Node, error) {
	n, err := parseCondition(src)
	if err != nil {
		return nil, err
	}
	return n, nil
}

func parseCondition(src string) (Node, *Error) {
	if !strings.Contains(src, "${{") {
		return parse(src)
	}
	segs, err := templateNodes(src)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 && segs[0].node != nil {
		n := segs[0].node
		if lit, ok := n.(*Literal); ok {
			if s, ok := lit.Value.(string); ok {
				// The runner turns ${{ 'text' }} into the string text,
				// which ConvertToIfCondition then parses as the condition.
				inner, err := parse(s)
				if err != nil {
					err.Offset = lit.Pos
					return nil, err
				}
				return shift(inner, lit.Pos), nil
			}
		}
		return n, nil
	}
	// format('text{0}text', args...), with the text's braces doubled.
	var f strings.Builder
	args := []Node{nil}
	for _, s := range segs {
		if s.node == nil {
			f.WriteString(strings.NewReplacer("{", "{{", "}", "}}").Replace(s.text))
			continue
		}
		f.WriteByte('{')
		f.WriteString(itoa(len(args) - 1))
		f.WriteByte('}')
		args = append(args, s.node)
	}
	args[0] = &Literal{Pos: 0, Value: f.String()}
	return &Call{Pos: 0, Name: "format", Args: args}, nil
}

// segment is literal text or one parsed ${{ }} expression of a template.
type segment struct {
	text string
	node Node // offsets in the whole template
}

// templateNodes splits s into text and parsed expressions, as
// [ParseTemplate] does, with each node's offsets in s.
func templateNodes(s string) ([]segment, *Error) {
	var out []segment
	rest, base := s, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				out = append(out, segment{text: rest})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, segment{text: rest[:i]})
		}
		start := i + 3
		end := closing(rest, start)
		if end < 0 {
			return nil, errorf(base+i, "unclosed expression: ${{ needs a matching }}")
		}
		src := rest[start:end]
		if strings.TrimSpace(src) == "" {
			return nil, errorf(base+i, "empty expression: put an expression between ${{ and }}")
		}
		n, err := parse(src)
		if err != nil {
			err.Offset += base + start
			return nil, err
		}
		out = append(out, segment{node: shift(n, base+start)})
		rest, base = rest[end+2:], base+end+2
	}
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
