package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParseErrors checks syntax errors: the offset of the offending token
// and a message a person can act on.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		off  int
		msg  string
	}{
		{name: "empty", src: "", off: 0, msg: "an expression was expected"},
		{name: "blank", src: "   ", off: 3, msg: "an expression was expected"},
		{name: "double quotes", src: `github.ref == "main"`, off: 14, msg: `unexpected character '"': strings use single quotes`},
		{name: "unclosed string", src: "'abc", off: 0, msg: "unclosed string literal"},
		{name: "unclosed string after", src: "a == 'x''", off: 5, msg: "unclosed string literal"},
		{name: "single equals", src: "a = 1", off: 2, msg: "unexpected character '=': compare with =="},
		{name: "single amp", src: "a & b", off: 2, msg: "the logical and operator is &&"},
		{name: "single pipe", src: "a | b", off: 2, msg: "the logical or operator is ||"},
		{name: "trailing operator", src: "a ==", off: 4, msg: "unexpected end of expression"},
		{name: "leading operator", src: "== a", off: 0, msg: `unexpected token "=="`},
		{name: "two values", src: "github.ref github.sha", off: 11, msg: `unexpected token "github"`},
		{name: "unclosed paren", src: "(a == b", off: 7, msg: `unexpected end of expression: expected ")"`},
		{name: "extra paren", src: "a)", off: 1, msg: `unexpected token ")"`},
		{name: "unclosed bracket", src: "a['b'", off: 5, msg: `expected "]"`},
		{name: "empty bracket", src: "a[]", off: 2, msg: `unexpected token "]"`},
		{name: "unclosed call", src: "contains(a, b", off: 13, msg: `expected "," or ")" in the arguments of contains`},
		{name: "trailing comma", src: "contains(a,)", off: 11, msg: `unexpected token ")"`},
		{name: "dot then number", src: "steps.1", off: 6, msg: `a property name or * must follow "."`},
		{name: "dot at end", src: "github.", off: 7, msg: `unexpected end of expression: a property name or * must follow "."`},
		{name: "bad number", src: "1.2.3", off: 0, msg: `invalid number "1.2.3"`},
		{name: "number with letters", src: "12abc", off: 0, msg: `invalid number "12abc"`},
		{name: "hex too big", src: "0x1ffffffff", off: 0, msg: "invalid number"},
		{name: "negative hex", src: "-0x10", off: 0, msg: "invalid number"},
		{name: "literal then property", src: "'abc'.length", off: 5, msg: `unexpected token "." after a literal`},
		{name: "literal then index", src: "1[0]", off: 1, msg: `unexpected token "[" after a literal`},
		{name: "star alone", src: "*", off: 0, msg: `unexpected token "*"`},
		{name: "bad character", src: "a == $b", off: 5, msg: "unexpected character '$'"},
		{name: "bad character in name", src: "git$hub", off: 3, msg: `unexpected character '$' in name "git"`},
		{name: "unicode character", src: "a == ☃", off: 5, msg: "unexpected character '☃'"},
		{name: "arithmetic", src: "1 + 2", off: 2, msg: "unexpected character '+': expressions have no arithmetic"},
		{name: "not alone", src: "!", off: 1, msg: "unexpected end of expression"},
		{name: "too deep parens", src: strings.Repeat("(", MaxDepth+1) + "1" + strings.Repeat(")", MaxDepth+1), off: MaxDepth, msg: "nests deeper than 50 levels"},
		{name: "too deep not", src: strings.Repeat("!", MaxDepth+1) + "true", off: MaxDepth, msg: "nests deeper than 50 levels"},
		{name: "too long", src: "'" + strings.Repeat("a", MaxLength) + "'", off: MaxLength, msg: "longer than 21000 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tc.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, %v; want an *Error", tc.src, n, err)
			}
			if e.Offset != tc.off || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("Parse(%q): offset %d %q; want offset %d containing %q", tc.src, e.Offset, e.Msg, tc.off, tc.msg)
			}
			if want := "col " + itoa(tc.off+1) + ": "; !strings.HasPrefix(e.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", e.Error(), want)
			}
		})
	}
}

// TestCompileErrors checks what Parse accepts but Compile rejects:
// unknown functions and contexts, and wrong arity.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		off  int
		msg  string
	}{
		{name: "unknown function", src: "github.ref == foo(1)", off: 14, msg: `unknown function "foo"`},
		{name: "unknown context", src: "github.ref == foo.bar", off: 14, msg: `unrecognized named-value "foo"`},
		{name: "unknown context alone", src: "x", off: 0, msg: "unrecognized named-value"},
		{name: "contains one arg", src: "contains('a')", off: 0, msg: "contains takes 2 arguments, got 1"},
		{name: "contains three args", src: "contains('a', 'b', 'c')", off: 0, msg: "contains takes 2 arguments, got 3"},
		{name: "startsWith none", src: "startsWith()", off: 0, msg: "startsWith takes 2 arguments, got 0"},
		{name: "endsWith one", src: "ENDSWITH(1)", off: 0, msg: "endsWith takes 2 arguments, got 1"},
		{name: "format none", src: "format()", off: 0, msg: "format takes at least 1 argument, got 0"},
		{name: "join three", src: "join(1, 2, 3)", off: 0, msg: "join takes at most 2 arguments, got 3"},
		{name: "toJSON two", src: "toJSON(1, 2)", off: 0, msg: "toJSON takes 1 argument, got 2"},
		{name: "fromJSON none", src: "fromJSON()", off: 0, msg: "fromJSON takes 1 argument, got 0"},
		{name: "hashFiles none", src: "hashFiles()", off: 0, msg: "hashFiles takes at least 1 argument, got 0"},
		{name: "success with arg", src: "success(1)", off: 0, msg: "success takes 0 arguments, got 1"},
		{name: "always with args", src: "always(1, 2)", off: 0, msg: "always takes 0 arguments, got 2"},
		{name: "case even", src: "case(true, 1)", off: 0, msg: "case takes at least 3 arguments"},
		{name: "case four", src: "case(true, 1, false, 2)", off: 0, msg: "an odd number of arguments; got 4"},
		{name: "nested unknown", src: "format('{0}', bogus())", off: 14, msg: `unknown function "bogus"`},
		{name: "context as function", src: "github()", off: 0, msg: `unknown function "github"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse(tc.src); err != nil {
				t.Fatalf("Parse(%q) failed, want it to parse: %v", tc.src, err)
			}
			var ce *Error
			if err := Check(tc.src); !errors.As(err, &ce) || ce.Offset != tc.off || !strings.Contains(ce.Msg, tc.msg) {
				t.Errorf("Check(%q) = %v; want offset %d containing %q", tc.src, err, tc.off, tc.msg)
			}
			p, err := Compile(tc.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) = %v, %v; want an *Error", tc.src, p, err)
			}
			if e.Offset != tc.off || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("Compile(%q): offset %d %q; want offset %d containing %q", tc.src, e.Offset, e.Msg, tc.off, tc.msg)
			}
		})
	}
}

// TestString checks canonical printing and that parse(print(x)) == x.
func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
	}{
		{src: "github.ref", want: "github.ref"},
		{src: "  github . ref  ", want: "github.ref"},
		{src: "github['ref']", want: "github['ref']"},
		{src: "a.*.b", want: "a.*.b"},
		{src: "a[*].b", want: "a.*.b"},
		{src: "!a", want: "!a"},
		{src: "!(a == b)", want: "!(a == b)"},
		{src: "(!a) == b", want: "!a == b"},
		{src: "a==b&&c!=d||e", want: "a == b && c != d || e"},
		{src: "a || b && c", want: "a || b && c"},
		{src: "(a || b) && c", want: "(a || b) && c"},
		{src: "a == (b == c)", want: "a == (b == c)"},
		{src: "(a == b) == c", want: "a == b == c"},
		{src: "a < (b < c)", want: "a < (b < c)"},
		{src: "(a < b) == c", want: "a < b == c"},
		{src: "a == (b < c)", want: "a == b < c"},
		{src: "'it''s'", want: "'it''s'"},
		{src: "0xff", want: "0xff"},
		{src: "-2.99e-2", want: "-2.99e-2"},
		{src: "null", want: "null"},
		{src: "contains( a , 'b' )", want: "contains(a, 'b')"},
		{src: "success()", want: "success()"},
		{src: "(a).b", want: "a.b"},
		{src: "(null).b", want: "(null).b"},
		{src: "(1)[0]", want: "(1)[0]"},
		{src: "(a && b).c", want: "(a && b).c"},
		{src: "(!a).b", want: "(!a).b"},
		{src: "fromJSON(x).a[0]", want: "fromJSON(x).a[0]"},
		{src: "a.null.true", want: "a.null.true"},
		{src: "a[b[c]]", want: "a[b[c]]"},
		{src: "!!a", want: "!!a"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got := n.String()
			if got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			n2, err := Parse(got)
			if err != nil {
				t.Fatalf("reparse %q: %v", got, err)
			}
			if !equalTrees(n, n2) {
				t.Errorf("parse(print(x)) != x for %q", tc.src)
			}
		})
	}
	// Every expression of the evaluation table round-trips too.
	for _, tc := range evalCases {
		n, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n2, err := Parse(n.String())
		if err != nil || !equalTrees(n, n2) {
			t.Errorf("%s: %q printed as %q does not round-trip (%v)", tc.name, tc.expr, n.String(), err)
		}
	}
}

// equalTrees compares syntax trees ignoring positions; NaN literals are
// equal to each other.
func equalTrees(a, b Node) bool {
	switch a := a.(type) {
	case *Literal:
		b, ok := b.(*Literal)
		if !ok {
			return false
		}
		fa, okA := a.Value.(float64)
		fb, okB := b.Value.(float64)
		if okA && okB && fa != fa && fb != fb {
			return true
		}
		return reflect.DeepEqual(a.Value, b.Value)
	case *ContextRef:
		b, ok := b.(*ContextRef)
		return ok && a.Name == b.Name
	case *Property:
		b, ok := b.(*Property)
		return ok && a.Name == b.Name && equalTrees(a.X, b.X)
	case *Index:
		b, ok := b.(*Index)
		return ok && equalTrees(a.X, b.X) && equalTrees(a.Index, b.Index)
	case *Filter:
		b, ok := b.(*Filter)
		return ok && equalTrees(a.X, b.X)
	case *Not:
		b, ok := b.(*Not)
		return ok && equalTrees(a.X, b.X)
	case *Binary:
		b, ok := b.(*Binary)
		return ok && a.Op == b.Op && equalTrees(a.L, b.L) && equalTrees(a.R, b.R)
	case *Call:
		b, ok := b.(*Call)
		if !ok || a.Name != b.Name || len(a.Args) != len(b.Args) {
			return false
		}
		for i := range a.Args {
			if !equalTrees(a.Args[i], b.Args[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func TestProgramInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src      string
		contexts []string
		status   bool
	}{
		{src: "github.ref == 'x' && MATRIX.os", contexts: []string{"github", "matrix"}},
		{src: "always() && steps.a.outcome", contexts: []string{"steps"}, status: true},
		{src: "'lit'", contexts: nil},
		{src: "contains(env.A, secrets.B) || failure()", contexts: []string{"env", "secrets"}, status: true},
		{src: "format('{0}', needs.a.result, needs.b.result)", contexts: []string{"needs"}},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Contexts(); !reflect.DeepEqual(got, tc.contexts) {
				t.Errorf("Contexts() = %v, want %v", got, tc.contexts)
			}
			if p.UsesStatus() != tc.status {
				t.Errorf("UsesStatus() = %v, want %v", p.UsesStatus(), tc.status)
			}
			if p.String() != p.Node().String() {
				t.Errorf("String() = %q, Node().String() = %q", p.String(), p.Node().String())
			}
		})
	}
}
