package expr

import (
	"math"
	"strings"
)

// Node is a node of an expression's syntax tree. The set of nodes is closed:
// [Literal], [ContextRef], [Property], [Index], [Filter], [Not], [Binary]
// and [Call]. String prints canonical source that parses back to an equal
// tree.
type Node interface {
	// Offset is the node's 0-based byte offset in the parsed source.
	Offset() int
	// String prints the node as canonical expression source.
	String() string
	node() // seals the interface
}

// Literal is null, a boolean, a number or a string. Value is nil, bool,
// float64 or string; Raw is the number as written (0xff, 1e3), kept so
// String prints it back.
type Literal struct {
	Pos   int
	Value any
	Raw   string
}

// ContextRef names a context: github, env, matrix, ... Name is as written.
type ContextRef struct {
	Pos  int
	Name string
}

// Property is X.Name.
type Property struct {
	Pos  int
	X    Node
	Name string
}

// Index is X[Index].
type Index struct {
	Pos   int
	X     Node
	Index Node
}

// Filter is the object filter X.* (or X[*]): the values of an object or the
// elements of an array, to which further property accesses apply one by one.
type Filter struct {
	Pos int
	X   Node
}

// Not is !X.
type Not struct {
	Pos int
	X   Node
}

// Op is a binary operator.
type Op uint8

// The binary operators, in increasing precedence groups: ||, &&, == and !=,
// then <, <=, > and >=.
const (
	OpOr Op = iota
	OpAnd
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
)

var opText = [...]string{OpOr: "||", OpAnd: "&&", OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

// String returns the operator as written.
func (o Op) String() string { return opText[o] }

// precedence returns the binding strength of o; higher binds tighter.
func (o Op) precedence() int {
	switch o {
	case OpOr:
		return 1
	case OpAnd:
		return 2
	case OpEq, OpNe:
		return 3
	}
	return 4
}

// Binary is L Op R.
type Binary struct {
	Pos  int
	Op   Op
	L, R Node
}

// Call is a function call; Name is as written (function names are
// case-insensitive).
type Call struct {
	Pos  int
	Name string
	Args []Node
}

// Offset returns the literal's offset in the source.
func (n *Literal) Offset() int { return n.Pos }

// Offset returns the context name's offset in the source.
func (n *ContextRef) Offset() int { return n.Pos }

// Offset returns the offset of the "." before the property name.
func (n *Property) Offset() int { return n.Pos }

// Offset returns the offset of the "[".
func (n *Index) Offset() int { return n.Pos }

// Offset returns the offset of the ".*" or "[*]".
func (n *Filter) Offset() int { return n.Pos }

// Offset returns the offset of the "!".
func (n *Not) Offset() int { return n.Pos }

// Offset returns the operator's offset.
func (n *Binary) Offset() int { return n.Pos }

// Offset returns the function name's offset.
func (n *Call) Offset() int { return n.Pos }

func (*Literal) node()    {}
func (*ContextRef) node() {}
func (*Property) node()   {}
func (*Index) node()      {}
func (*Filter) node()     {}
func (*Not) node()        {}
func (*Binary) node()     {}
func (*Call) node()       {}

const (
	precUnary   = 5
	precLiteral = 6 // a literal cannot take . or [] without parentheses
	precPostfix = 7
)

// prec returns the precedence of the construct n is, for parenthesizing.
func prec(n Node) int {
	switch n := n.(type) {
	case *Binary:
		return n.Op.precedence()
	case *Not:
		return precUnary
	case *Literal:
		return precLiteral
	}
	return precPostfix
}

// write prints n into b, in parentheses if it binds looser than min. One
// builder serves the whole tree, so printing is linear in its size.
func write(b *strings.Builder, n Node, min int) {
	if prec(n) < min {
		b.WriteByte('(')
		writeNode(b, n)
		b.WriteByte(')')
		return
	}
	writeNode(b, n)
}

func writeNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *Literal:
		b.WriteString(n.literal())
	case *ContextRef:
		b.WriteString(n.Name)
	case *Property:
		write(b, n.X, precPostfix)
		b.WriteByte('.')
		b.WriteString(n.Name)
	case *Index:
		write(b, n.X, precPostfix)
		b.WriteByte('[')
		writeNode(b, n.Index)
		b.WriteByte(']')
	case *Filter:
		write(b, n.X, precPostfix)
		b.WriteString(".*")
	case *Not:
		b.WriteByte('!')
		write(b, n.X, precUnary)
	case *Binary:
		p := n.Op.precedence()
		write(b, n.L, p)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		write(b, n.R, p+1)
	case *Call:
		b.WriteString(n.Name)
		b.WriteByte('(')
		for i, a := range n.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeNode(b, a)
		}
		b.WriteByte(')')
	default:
		b.WriteString("<internal error: unknown node>")
	}
}

func str(n Node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

// literal prints the literal: null, true, false, the number as written, or
// the string in single quotes with ' doubled.
func (n *Literal) literal() string {
	switch v := n.Value.(type) {
	case nil:
		return "null"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		if n.Raw != "" {
			return n.Raw
		}
		switch {
		case math.IsNaN(v):
			return "NaN"
		case math.IsInf(v, 1):
			return "Infinity"
		}
		return formatNumber(v)
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "null"
}

// String prints the literal as canonical source.
func (n *Literal) String() string { return n.literal() }

// String prints the context name.
func (n *ContextRef) String() string { return n.Name }

// String prints X.Name.
func (n *Property) String() string { return str(n) }

// String prints X[Index].
func (n *Index) String() string { return str(n) }

// String prints X.*.
func (n *Filter) String() string { return str(n) }

// String prints !X.
func (n *Not) String() string { return str(n) }

// String prints L Op R, parenthesizing operands as precedence and left
// associativity require.
func (n *Binary) String() string { return str(n) }

// String prints Name(args).
func (n *Call) String() string { return str(n) }
