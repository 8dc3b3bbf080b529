package workflow

import (
	"sort"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// source is a file's bytes with a line index, for mapping offsets inside
// scalars back to file positions.
type source struct {
	b     []byte
	lines []int // byte offset of the start of each line; built lazily
}

func newSource(b []byte) *source { return &source{b: b} }

func (s *source) index() {
	if s.lines != nil {
		return
	}
	s.lines = append(s.lines, 0)
	for i, c := range s.b {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
}

// offset returns the byte offset of p, or -1 when p is outside the file.
func (s *source) offset(p Pos) int {
	s.index()
	if p.Line < 1 || p.Line > len(s.lines) {
		return -1
	}
	off := s.lines[p.Line-1]
	for col := 1; col < p.Col; col++ {
		if off >= len(s.b) || s.b[off] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(s.b[off:])
		off += size
	}
	return off
}

// pos returns the position of a byte offset.
func (s *source) pos(off int) Pos {
	s.index()
	line := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	if line < 0 {
		line = 0
	}
	start := s.lines[line]
	if off > len(s.b) {
		off = len(s.b)
	}
	return Pos{Line: line + 1, Col: utf8.RuneCount(s.b[start:off]) + 1}
}

// posInScalar maps a byte offset into the value of scalar n to a position
// in the file. It walks the value and the source side by side from the
// start of the scalar's content, letting white space (indentation, folded
// line breaks) differ. This is exact for plain and literal block scalars
// and for quoted scalars without escapes; after a double-quoted escape
// sequence or a folded line break inside the text before the offset, the
// column may be off by a few characters. When the walk loses track, the
// scalar's own position is returned.
func (w *walker) posInScalar(n *yaml.Node, value string, off int) Pos {
	base := posOf(n)
	j := w.src.offset(base)
	if j < 0 {
		return base
	}
	single := n.Style&yaml.SingleQuotedStyle != 0
	double := n.Style&yaml.DoubleQuotedStyle != 0
	switch {
	case single || double:
		j++
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		for j < len(w.src.b) && w.src.b[j] != '\n' {
			j++
		}
	}
	b := w.src.b
	for i := 0; i < off && i < len(value); {
		if j >= len(b) {
			return base
		}
		switch {
		case b[j] == value[i]:
			if single && b[j] == '\'' {
				j++
			}
			i++
			j++
		case double && b[j] == '\\':
			j += escapeLen(b[j:])
			_, size := utf8.DecodeRuneInString(value[i:])
			i += size
		case isBlank(b[j]):
			j++
		case isBlank(value[i]):
			i++
		default:
			return base
		}
	}
	if off < len(value) && !isBlank(value[off]) {
		for j < len(b) && isBlank(b[j]) && b[j] != value[off] {
			j++ // the offset points at text after a folded break
		}
	}
	return w.src.pos(j)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// escapeLen is the length in the source of a double-quoted escape.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return len(b)
	}
	switch b[1] {
	case 'x':
		return min(4, len(b))
	case 'u':
		return min(6, len(b))
	case 'U':
		return min(10, len(b))
	}
	return 2
}

// firstTab returns the position of the first tab in the indentation of a
// line at or after from; yaml.v3 reports tab errors on the line before the
// tab, without a column.
func (s *source) firstTab(from Pos) Pos {
	s.index()
	for l := from.Line; l >= 1 && l <= len(s.lines); l++ {
		for i := s.lines[l-1]; i < len(s.b) && (s.b[i] == ' ' || s.b[i] == '\t'); i++ {
			if s.b[i] == '\t' {
				return s.pos(i)
			}
		}
	}
	return from
}
