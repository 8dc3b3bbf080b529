package expr

import "strings"

// Limits, as in actions/runner's ExpressionConstants.
const (
	// MaxDepth bounds how deeply expressions nest (parentheses, !, calls,
	// indexes); deeper input is an error, never a stack overflow.
	MaxDepth = 50
	// MaxLength bounds the length of one expression's source.
	MaxLength = 21000
)

// Parse parses src, the text between ${{ and }}, into a syntax tree. A
// syntax error is returned as an *[Error] with the offset of the offending
// token.
func Parse(src string) (Node, error) {
	n, err := parse(src)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// parse returns *Error rather than error so callers can shift offsets.
func parse(src string) (Node, *Error) {
	if len(src) > MaxLength {
		return nil, errorf(MaxLength, "expression is longer than %d characters", MaxLength)
	}
	p := &parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, errorf(p.tok.off, "an expression was expected")
	}
	n, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected()
	}
	return n, nil
}

// parser is a recursive-descent parser over a one-token lookahead.
type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) advance() *Error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// unexpected reports the current token as out of place.
func (p *parser) unexpected() *Error {
	if p.tok.kind == tEOF {
		return errorf(p.tok.off, "unexpected end of expression")
	}
	return errorf(p.tok.off, "unexpected token %q", p.tok.text)
}

// expect consumes a token of kind k or reports what was found instead.
func (p *parser) expect(k tokenKind, what string) *Error {
	if p.tok.kind != k {
		if p.tok.kind == tEOF {
			return errorf(p.tok.off, "unexpected end of expression: %s", what)
		}
		return errorf(p.tok.off, "unexpected token %q: %s", p.tok.text, what)
	}
	return p.advance()
}

// enter counts one level of nesting and fails past MaxDepth.
func (p *parser) enter(off int) *Error {
	p.depth++
	if p.depth > MaxDepth {
		return errorf(off, "expression nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseExpr parses a whole expression.
//
//	Expr = Or
func (p *parser) parseExpr() (Node, *Error) {
	return p.parseOr()
}

// parseOr parses a left-associative chain of ||.
//
//	Or = And { "||" And }
func (p *parser) parseOr() (Node, *Error) {
	return p.parseChain(p.parseAnd, func(k tokenKind) (Op, bool) { return OpOr, k == tOr })
}

// parseAnd parses a left-associative chain of &&.
//
//	And = Equality { "&&" Equality }
func (p *parser) parseAnd() (Node, *Error) {
	return p.parseChain(p.parseEquality, func(k tokenKind) (Op, bool) { return OpAnd, k == tAnd })
}

// parseEquality parses a left-associative chain of == and !=.
//
//	Equality = Comparison { ( "==" | "!=" ) Comparison }
func (p *parser) parseEquality() (Node, *Error) {
	return p.parseChain(p.parseComparison, func(k tokenKind) (Op, bool) {
		switch k {
		case tEq:
			return OpEq, true
		case tNe:
			return OpNe, true
		}
		return 0, false
	})
}

// parseComparison parses a left-associative chain of <, <=, > and >=.
//
//	Comparison = Unary { ( "<" | "<=" | ">" | ">=" ) Unary }
func (p *parser) parseComparison() (Node, *Error) {
	return p.parseChain(p.parseUnary, func(k tokenKind) (Op, bool) {
		switch k {
		case tLt:
			return OpLt, true
		case tLe:
			return OpLe, true
		case tGt:
			return OpGt, true
		case tGe:
			return OpGe, true
		}
		return 0, false
	})
}

// parseChain parses operand { op operand } for one precedence level.
func (p *parser) parseChain(operand func() (Node, *Error), op func(tokenKind) (Op, bool)) (Node, *Error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for {
		o, ok := op(p.tok.kind)
		if !ok {
			return l, nil
		}
		off := p.tok.off
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: off, Op: o, L: l, R: r}
	}
}

// parseUnary parses logical not.
//
//	Unary = "!" Unary | Postfix
func (p *parser) parseUnary() (Node, *Error) {
	if p.tok.kind != tNot {
		return p.parsePostfix()
	}
	off := p.tok.off
	if err := p.enter(off); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &Not{Pos: off, X: x}, nil
}

// parsePostfix parses property accesses, indexes and filters. Like GitHub,
// it allows them after names, calls and parentheses but not after literals.
//
//	Postfix = Primary { "." ( Name | "*" ) | "[" ( Expr | "*" ) "]" }
func (p *parser) parsePostfix() (Node, *Error) {
	literal := false
	switch p.tok.kind {
	case tNull, tBool, tNumber, tString:
		literal = true
	}
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tDot || p.tok.kind == tLBrack {
		if literal {
			return nil, errorf(p.tok.off, "unexpected token %q after a literal", p.tok.text)
		}
		if p.tok.kind == tDot {
			x, err = p.parseDot(x)
		} else {
			x, err = p.parseBracket(x)
		}
		if err != nil {
			return nil, err
		}
	}
	return x, nil
}

// parseDot parses the part after a value that starts with ".".
//
//	"." ( Name | "*" )
func (p *parser) parseDot(x Node) (Node, *Error) {
	off := p.tok.off
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tStar:
		return &Filter{Pos: off, X: x}, p.advance()
	case tIdent:
		name := p.tok.text
		return &Property{Pos: off, X: x, Name: name}, p.advance()
	}
	if p.tok.kind == tEOF {
		return nil, errorf(p.tok.off, "unexpected end of expression: a property name or * must follow \".\"")
	}
	return nil, errorf(p.tok.off, "unexpected token %q: a property name or * must follow \".\"", p.tok.text)
}

// parseBracket parses an index after a value.
//
//	"[" ( Expr | "*" ) "]"
func (p *parser) parseBracket(x Node) (Node, *Error) {
	off := p.tok.off
	if err := p.enter(off); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tStar {
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &Filter{Pos: off, X: x}, p.expect(tRBrack, "expected \"]\"")
	}
	i, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	return &Index{Pos: off, X: x, Index: i}, p.expect(tRBrack, "expected \"]\"")
}

// parsePrimary parses a literal, a context name, a call or a parenthesized
// expression.
//
//	Primary = null | Boolean | Number | String | Name | Call | "(" Expr ")"
func (p *parser) parsePrimary() (Node, *Error) {
	t := p.tok
	switch t.kind {
	case tNull:
		return &Literal{Pos: t.off}, p.advance()
	case tBool:
		return &Literal{Pos: t.off, Value: t.text == "true"}, p.advance()
	case tNumber:
		return &Literal{Pos: t.off, Value: t.num, Raw: t.text}, p.advance()
	case tString:
		return &Literal{Pos: t.off, Value: t.str}, p.advance()
	case tIdent:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tLParen {
			return p.parseCall(t)
		}
		return &ContextRef{Pos: t.off, Name: t.text}, nil
	case tLParen:
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		return x, p.expect(tRParen, "expected \")\"")
	}
	return nil, p.unexpected()
}

// parseCall parses a call's arguments; name has been consumed and the
// current token is "(".
//
//	Call = Name "(" [ Expr { "," Expr } ] ")"
func (p *parser) parseCall(name token) (Node, *Error) {
	if err := p.enter(p.tok.off); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	c := &Call{Pos: name.off, Name: name.text}
	if p.tok.kind == tRParen {
		return c, p.advance()
	}
	for {
		a, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, a)
		if p.tok.kind != tComma {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return c, p.expect(tRParen, "expected \",\" or \")\" in the arguments of "+strings.ToLower(name.text))
}
