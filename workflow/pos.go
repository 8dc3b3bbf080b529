package workflow

import (
	"fmt"
	"strconv"
	"strings"
)

// Pos is a 1-based line and column in a source file. Columns count
// characters (runes), as gopkg.in/yaml.v3 does. The zero Pos means "no
// position".
type Pos struct {
	Line, Col int
}

// String renders the position as "line:col".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// IsValid reports whether p points into a file (line and column >= 1).
func (p Pos) IsValid() bool { return p.Line >= 1 && p.Col >= 1 }

// Before reports whether p comes before q in the file.
func (p Pos) Before(q Pos) bool {
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// String is a scalar the user wrote, with its position. Quoted reports
// whether it was written in single or double quotes (so `'true'` can be told
// from `true`).
type String struct {
	Value  string
	Pos    Pos
	Quoted bool
}

// ContainsExpr reports whether the string holds a `${{ }}` expression.
func (s *String) ContainsExpr() bool { return s != nil && strings.Contains(s.Value, "${{") }

// IsExpr reports whether the whole string is a single `${{ }}` expression
// (surrounding white space allowed).
func (s *String) IsExpr() bool { return s != nil && isWholeExpr(s.Value) }

// isWholeExpr reports whether v is exactly one `${{ … }}`.
func isWholeExpr(v string) bool {
	v = strings.TrimSpace(v)
	return strings.HasPrefix(v, "${{") && strings.HasSuffix(v, "}}") && strings.Count(v, "${{") == 1
}

// Bool is a boolean scalar the user wrote. When the value was written as an
// expression (`continue-on-error: ${{ matrix.experimental }}`), Expr holds
// the expression text and Value is false; it is decided at run time.
type Bool struct {
	Value bool
	Expr  string
	Pos   Pos
}

// IsExpr reports whether the value is decided by an expression at run time.
func (b *Bool) IsExpr() bool { return b != nil && b.Expr != "" }

// Int is an integer scalar the user wrote, or an expression (see [Bool]).
type Int struct {
	Value int
	Expr  string
	Pos   Pos
}

// IsExpr reports whether the value is decided by an expression at run time.
func (i *Int) IsExpr() bool { return i != nil && i.Expr != "" }

// Float is a number scalar the user wrote, or an expression (see [Bool]).
// timeout-minutes is a Float because GitHub accepts fractions of minutes.
type Float struct {
	Value float64
	Expr  string
	Pos   Pos
}

// IsExpr reports whether the value is decided by an expression at run time.
func (f *Float) IsExpr() bool { return f != nil && f.Expr != "" }

// ValueKind is the kind of a generic [Value].
type ValueKind int

// Kinds of [Value].
const (
	NullValue ValueKind = iota
	BoolValue
	NumberValue
	StringValue
	SeqValue
	MapValue
)

var valueKindNames = [...]string{"null", "boolean", "number", "string", "sequence", "mapping"}

// String names the kind.
func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) && k >= 0 {
		return valueKindNames[k]
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a generic YAML value with positions, used where GitHub accepts
// arbitrary data: matrix values, include/exclude rows. Scalars keep their
// source text in Scalar; Seq and Map hold children (Map in source order).
type Value struct {
	Kind   ValueKind
	Scalar string // source text of a scalar; for StringValue, the string
	Quoted bool
	Seq    []*Value
	Map    []*MapEntry
	Pos    Pos
}

// MapEntry is one key and value of a mapping [Value].
type MapEntry struct {
	Key   String
	Value *Value
}

// Get returns the entry for key (case-sensitive) of a mapping value, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil {
		return nil
	}
	for _, e := range v.Map {
		if e.Key.Value == key {
			return e.Value
		}
	}
	return nil
}

// Interface converts v to plain Go data as encoding/json would produce it:
// nil, bool, float64, string, []any or map[string]any.
func (v *Value) Interface() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case NullValue:
		return nil
	case BoolValue:
		return strings.EqualFold(v.Scalar, "true")
	case NumberValue:
		f, err := parseYAMLNumber(v.Scalar)
		if err != nil {
			return v.Scalar
		}
		return f
	case StringValue:
		return v.Scalar
	case SeqValue:
		out := make([]any, len(v.Seq))
		for i, e := range v.Seq {
			out[i] = e.Interface()
		}
		return out
	case MapValue:
		out := make(map[string]any, len(v.Map))
		for _, e := range v.Map {
			out[e.Key.Value] = e.Value.Interface()
		}
		return out
	default:
		panic(fmt.Sprintf("workflow: internal error: unknown value kind %d", v.Kind))
	}
}

// parseYAMLNumber parses a YAML 1.2 core-schema number (also 0x/0o forms).
func parseYAMLNumber(s string) (float64, error) {
	t := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(t, 0, 64); err == nil {
		return float64(i), nil
	}
	switch strings.ToLower(t) {
	case ".inf", "+.inf":
		return strconv.ParseFloat("+Inf", 64)
	case "-.inf":
		return strconv.ParseFloat("-Inf", 64)
	case ".nan":
		return strconv.ParseFloat("NaN", 64)
	}
	return strconv.ParseFloat(t, 64)
}

// KeyValue is one `key: value` pair of a string mapping such as env or with.
type KeyValue struct {
	Key   String
	Value String
}

// StringMap is an ordered mapping of names to strings (env, with, outputs,
// secrets). Non-string scalars are kept as their source text (`with: {n: 3}`
// gives "3"), as the runner passes them. When the whole mapping is an
// expression (`env: ${{ fromJSON(…) }}`), Expr is set and Entries is empty.
type StringMap struct {
	Entries []KeyValue
	Expr    *String
	Pos     Pos
}

// Get returns the value for key, compared exactly.
func (m *StringMap) Get(key string) (String, bool) {
	if m == nil {
		return String{}, false
	}
	for _, kv := range m.Entries {
		if kv.Key.Value == key {
			return kv.Value, true
		}
	}
	return String{}, false
}

// Len returns the number of entries.
func (m *StringMap) Len() int {
	if m == nil {
		return 0
	}
	return len(m.Entries)
}
