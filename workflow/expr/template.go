package expr

import (
	"strings"
)

// Template is a string with ${{ }} expressions in it, such as a run: script
// or a with: value. It is immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []part
}

// part is literal text or one compiled expression.
type part struct {
	text string
	prog *Program
	off  int // offset of the expression's source in the template
}

// ParseTemplate splits s into literal text and ${{ }} expressions and
// compiles each expression. Errors are *[Error] with offsets into s: an
// unclosed ${{, an empty expression, or an error inside one.
//
// Like actions/runner, the closing }} is the first one outside a
// single-quoted string, so ${{ format('{{0}}', x) }} works.
func ParseTemplate(s string) (*Template, error) {
	t, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func parseTemplate(s string) (*Template, *Error) {
	t := &Template{src: s}
	rest, base := s, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{text: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		start := i + 3
		end := closing(rest, start)
		if end < 0 {
			return nil, errorf(base+i, "unclosed expression: ${{ needs a matching }}")
		}
		src := rest[start:end]
		p, err := compile(src)
		if err != nil {
			if strings.TrimSpace(src) == "" {
				return nil, errorf(base+i, "empty expression: put an expression between ${{ and }}")
			}
			err.Offset += base + start
			return nil, err
		}
		t.parts = append(t.parts, part{prog: p, off: base + start})
		rest, base = rest[end+2:], base+end+2
	}
}

// closing returns the index of the }} that ends the expression starting at
// from, skipping single-quoted strings, or -1.
func closing(s string, from int) int {
	in := false
	for i := from; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			in = !in
		case !in && s[i] == '}' && i+1 < len(s) && s[i+1] == '}':
			return i
		}
	}
	return -1
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// IsLiteral reports whether the template has no expressions.
func (t *Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.prog != nil {
			return false
		}
	}
	return true
}

// Exprs returns the compiled expressions, in order.
func (t *Template) Exprs() []*Program {
	var out []*Program
	for _, p := range t.parts {
		if p.prog != nil {
			out = append(out, p.prog)
		}
	}
	return out
}

// ExprOffsets returns the offset in the template of each expression's
// source (just after its ${{), parallel to Exprs, for mapping positions.
func (t *Template) ExprOffsets() []int {
	var out []int
	for _, p := range t.parts {
		if p.prog != nil {
			out = append(out, p.off)
		}
	}
	return out
}

// Eval interpolates: literal text as is, each expression's value converted
// with [ToString]. Errors are *[Error] with offsets into the template.
func (t *Template) Eval(s *Scope) (string, error) {
	if len(t.parts) == 1 && t.parts[0].prog == nil {
		return t.parts[0].text, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.prog == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := p.eval(s)
		if err != nil {
			return "", err
		}
		b.WriteString(ToString(v))
	}
	return b.String(), nil
}

// EvalValue returns the expression's value itself when the template is
// exactly one ${{ expr }} (whitespace around it allowed), so that a
// strategy.matrix or a boolean keeps its type; otherwise the interpolated
// string.
func (t *Template) EvalValue(s *Scope) (any, error) {
	var only *part
	for i := range t.parts {
		p := &t.parts[i]
		if p.prog == nil {
			if strings.TrimSpace(p.text) != "" {
				return t.Eval(s)
			}
			continue
		}
		if only != nil {
			return t.Eval(s)
		}
		only = p
	}
	if only == nil {
		return t.Eval(s)
	}
	return only.eval(s)
}

func (p *part) eval(s *Scope) (any, error) {
	v, err := p.prog.Eval(s)
	if err != nil {
		if e, ok := err.(*Error); ok {
			return nil, &Error{Offset: e.Offset + p.off, Msg: e.Msg}
		}
		return nil, err
	}
	return v, nil
}
