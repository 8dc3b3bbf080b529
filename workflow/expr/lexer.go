package expr

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind is the type of a token.
type tokenKind uint8

const (
	tEOF    tokenKind = iota
	tNull             // null
	tBool             // true, false
	tNumber           // 1, -2.5, 0xff, 1e3, NaN, Infinity
	tString           // 'text'
	tIdent            // context, function or property name
	tLParen           // (
	tRParen           // )
	tLBrack           // [
	tRBrack           // ]
	tComma            // ,
	tDot              // .
	tStar             // *
	tNot              // !
	tEq               // ==
	tNe               // !=
	tLt               // <
	tLe               // <=
	tGt               // >
	tGe               // >=
	tAnd              // &&
	tOr               // ||
)

var tokenNames = [...]string{
	tEOF: "end of expression", tNull: "null", tBool: "boolean", tNumber: "number",
	tString: "string", tIdent: "name", tLParen: "(", tRParen: ")", tLBrack: "[",
	tRBrack: "]", tComma: ",", tDot: ".", tStar: "*", tNot: "!", tEq: "==",
	tNe: "!=", tLt: "<", tLe: "<=", tGt: ">", tGe: ">=", tAnd: "&&", tOr: "||",
}

func (k tokenKind) String() string { return tokenNames[k] }

// token is one lexeme. text is its source; str and num its value for
// strings and numbers.
type token struct {
	kind tokenKind
	off  int
	text string
	str  string
	num  float64
}

// lexer turns source into tokens on demand, synchronously. Like
// actions/runner's lexer it is context-sensitive: "." after a value is the
// dereference operator and elsewhere starts a number, and a name after "."
// is always a property name, even "null" or "true".
type lexer struct {
	src  string
	pos  int
	prev tokenKind
	any  bool // a token was produced; prev is valid
}

// next returns the next token or a positioned error.
func (l *lexer) next() (token, *Error) {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		l.pos += n
	}
	t, err := l.scan()
	if err == nil {
		l.prev, l.any = t.kind, true
	}
	return t, err
}

func (l *lexer) scan() (token, *Error) {
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, off: start}, nil
	}
	c := l.src[start]
	simple := func(k tokenKind, n int) (token, *Error) {
		l.pos += n
		return token{kind: k, off: start, text: l.src[start:l.pos]}, nil
	}
	two := func(second byte) bool { return start+1 < len(l.src) && l.src[start+1] == second }
	switch {
	case c == '(':
		return simple(tLParen, 1)
	case c == ')':
		return simple(tRParen, 1)
	case c == '[':
		return simple(tLBrack, 1)
	case c == ']':
		return simple(tRBrack, 1)
	case c == ',':
		return simple(tComma, 1)
	case c == '*':
		return simple(tStar, 1)
	case c == '!' && two('='):
		return simple(tNe, 2)
	case c == '!':
		return simple(tNot, 1)
	case c == '<' && two('='):
		return simple(tLe, 2)
	case c == '<':
		return simple(tLt, 1)
	case c == '>' && two('='):
		return simple(tGe, 2)
	case c == '>':
		return simple(tGt, 1)
	case c == '=' && two('='):
		return simple(tEq, 2)
	case c == '&' && two('&'):
		return simple(tAnd, 2)
	case c == '|' && two('|'):
		return simple(tOr, 2)
	case c == '=':
		return token{}, errorf(start, "unexpected character '=': compare with ==")
	case c == '&':
		return token{}, errorf(start, "unexpected character '&': the logical and operator is &&")
	case c == '|':
		return token{}, errorf(start, "unexpected character '|': the logical or operator is ||")
	case c == '.' && l.valueBefore():
		return simple(tDot, 1)
	case c == '.' || c == '-' || c == '+' || isDigit(c):
		return l.scanNumber()
	case c == '\'':
		return l.scanString()
	case c == '"':
		return token{}, errorf(start, "unexpected character '\"': strings use single quotes, like 'text' (write '' for a quote inside)")
	case isNameStart(c):
		return l.scanName()
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	return token{}, errorf(start, "unexpected character %s", quoteRune(r))
}

// valueBefore reports whether the previous token ends a value, so that "."
// is the dereference operator rather than the start of a number like .5.
func (l *lexer) valueBefore() bool {
	if !l.any {
		return false
	}
	switch l.prev {
	case tRParen, tRBrack, tStar, tIdent, tNull, tBool, tNumber, tString:
		return true
	}
	return false
}

// isBoundary reports the characters that end a number or a name, as in
// actions/runner's TestTokenBoundary.
func isBoundary(r rune) bool {
	switch r {
	case '(', '[', ')', ']', ',', '.', '!', '>', '<', '=', '&', '|':
		return true
	}
	return unicode.IsSpace(r)
}

// scanNumber reads up to the next boundary (a "." included) and parses the
// text as GitHub does: decimal with sign and exponent, 0x hex, 0o octal,
// -Infinity.
func (l *lexer) scanNumber() (token, *Error) {
	start := l.pos
	l.pos++
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if isBoundary(r) && r != '.' {
			break
		}
		l.pos += n
	}
	text := l.src[start:l.pos]
	if text == "+" || text == "-" {
		return token{}, errorf(start, "unexpected character '%s': expressions have no arithmetic", text)
	}
	f := parseNumber(text)
	if math.IsNaN(f) {
		return token{}, errorf(start, "invalid number %q", text)
	}
	return token{kind: tNumber, off: start, text: text, num: f}, nil
}

// scanString reads a single-quoted string; ” stands for one quote.
func (l *lexer) scanString() (token, *Error) {
	start := l.pos
	var b strings.Builder
	i := start + 1
	for i < len(l.src) {
		c := l.src[i]
		if c == '\'' {
			if i+1 < len(l.src) && l.src[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			l.pos = i + 1
			return token{kind: tString, off: start, text: l.src[start:l.pos], str: b.String()}, nil
		}
		b.WriteByte(c)
		i++
	}
	return token{}, errorf(start, "unclosed string literal: add the closing '")
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isNameChar(c byte) bool {
	return isNameStart(c) || isDigit(c) || c == '-'
}

// scanName reads [A-Za-z_][A-Za-z0-9_-]*. After "." it is a property name;
// elsewhere null, true, false, NaN and Infinity are literals.
func (l *lexer) scanName() (token, *Error) {
	start := l.pos
	for l.pos < len(l.src) && isNameChar(l.src[l.pos]) {
		l.pos++
	}
	text := l.src[start:l.pos]
	if l.pos < len(l.src) {
		r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isBoundary(r) {
			return token{}, errorf(l.pos, "unexpected character %s in name %q", quoteRune(r), text)
		}
	}
	t := token{kind: tIdent, off: start, text: text}
	if l.any && l.prev == tDot {
		return t, nil
	}
	switch text {
	case "null":
		t.kind = tNull
	case "true", "false":
		t.kind = tBool
	case "NaN":
		t.kind, t.num = tNumber, math.NaN()
	case "Infinity":
		t.kind, t.num = tNumber, math.Inf(1)
	}
	return t, nil
}

func quoteRune(r rune) string {
	if r == utf8.RuneError {
		return "(invalid UTF-8)"
	}
	if r == '\'' {
		return `"'"`
	}
	return fmt.Sprintf("%q", r)
}
