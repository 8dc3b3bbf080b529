package workflow

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file holds the generic helpers that turn yaml.Node values into model
// scalars, reporting type errors as they go.

func posOf(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// resolve follows aliases, spending the alias budget.
func (w *walker) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		w.aliasBudget--
		if w.aliasBudget < 0 {
			panic(errTooComplex)
		}
		n = n.Alias
	}
	return n
}

// pair is one key and value of a mapping.
type pair struct{ k, v *yaml.Node }

// pairs returns the entries of a mapping, expanding `<<` merge keys (keys
// written in the mapping win over merged ones).
func (w *walker) pairs(n *yaml.Node) []pair {
	out := make([]pair, 0, len(n.Content)/2)
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := w.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, w.mergeSources(v)...)
			continue
		}
		out = append(out, pair{k, v})
	}
	if len(merged) == 0 {
		return out
	}
	have := make(map[string]bool, len(out)+len(merged))
	for _, p := range out {
		have[p.k.Value] = true
	}
	for _, m := range merged {
		if !have[m.k.Value] {
			have[m.k.Value] = true
			out = append(out, m)
		}
	}
	return out
}

func (w *walker) mergeSources(v *yaml.Node) []pair {
	v = w.resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return w.pairs(v)
	case yaml.SequenceNode:
		var out []pair
		have := map[string]bool{}
		for _, e := range v.Content {
			if e = w.resolve(e); e.Kind == yaml.MappingNode {
				for _, p := range w.pairs(e) {
					if !have[p.k.Value] {
						have[p.k.Value] = true
						out = append(out, p)
					}
				}
			}
		}
		return out
	}
	w.errorf(posOf(v), KindType, "a merge key (<<) needs a mapping or a list of mappings")
	return nil
}

func hasKey(ps []pair, k string) bool {
	for _, p := range ps {
		if p.k.Value == k {
			return true
		}
	}
	return false
}

// describe is kindName for the node of section what, except that scalars
// under container credentials are not quoted: a password written in the
// wrong place must not be echoed into diagnostics and logs.
func describe(n *yaml.Node, what string) string {
	lw := strings.ToLower(what)
	if n.Kind == yaml.ScalarNode && (strings.Contains(lw, "credentials") || strings.Contains(lw, "password")) {
		return "a scalar"
	}
	return kindName(n)
}

// kindName describes a node for type errors.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean " + n.Value
		case "!!int", "!!float":
			return "number " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// mapping checks that n is a mapping whose keys are unique and among known
// (nil means any key), reporting unknown keys with a suggestion, and calls f
// for each known key in source order. what names the section for messages.
// A null node is an empty mapping.
func (w *walker) mapping(n *yaml.Node, what string, known []string, f func(k *String, v *yaml.Node)) bool {
	n = w.resolve(n)
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		w.errorf(posOf(n), KindType, "%s must be a mapping, found %s", what, describe(n, what))
		return false
	}
	ps := w.pairs(n)
	var seen map[string]bool // only for large mappings; small ones scan
	if len(ps) > 16 {
		seen = make(map[string]bool, len(ps))
	}
	for i, p := range ps {
		if p.k.Kind != yaml.ScalarNode {
			w.errorf(posOf(p.k), KindKey, "keys of %s must be strings, found %s", what, kindName(p.k))
			continue
		}
		key := &String{Value: p.k.Value, Pos: posOf(p.k), Quoted: isQuoted(p.k)}
		if seen != nil && seen[key.Value] || seen == nil && hasKey(ps[:i], key.Value) {
			w.errorf(key.Pos, KindKey, "key %q is duplicated in %s", key.Value, what)
			continue
		}
		if seen != nil {
			seen[key.Value] = true
		}
		if known != nil && !contains(known, key.Value) {
			w.errorf(key.Pos, KindKey, "unknown key %q in %s%s", key.Value, what, suggest(key.Value, known))
			continue
		}
		f(key, p.v)
	}
	return true
}

// sequence checks that n is a sequence and calls f for each element.
func (w *walker) sequence(n *yaml.Node, what string, f func(i int, e *yaml.Node)) bool {
	n = w.resolve(n)
	if n.Kind != yaml.SequenceNode {
		w.errorf(posOf(n), KindType, "%s must be a sequence, found %s", what, describe(n, what))
		return false
	}
	for i, e := range n.Content {
		f(i, w.resolve(e))
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0
}

func isQuoted(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
}

// scalar returns the String of a scalar node without checking expressions,
// or nil after a type error.
func (w *walker) scalar(n *yaml.Node, what string) *String {
	n = w.resolve(n)
	if n.Kind != yaml.ScalarNode {
		w.errorf(posOf(n), KindType, "%s must be a string, found %s", what, describe(n, what))
		return nil
	}
	v := n.Value
	if n.Tag == "!!null" && !isQuoted(n) {
		v = ""
	}
	return &String{Value: v, Pos: posOf(n), Quoted: isQuoted(n)}
}

// str returns the String of a scalar node and checks any `${{ }}` in it.
func (w *walker) str(n *yaml.Node, what string) *String {
	s := w.scalar(n, what)
	if s != nil {
		w.checkTemplate(w.resolve(n), s.Value)
	}
	return s
}

// cond returns an if: condition and checks its expression; the `${{ }}`
// around it is optional.
func (w *walker) cond(n *yaml.Node, what string) *String {
	s := w.scalar(n, what)
	if s != nil {
		w.checkCondition(w.resolve(n), s.Value)
	}
	return s
}

// nonEmpty is str that also rejects an empty value.
func (w *walker) nonEmpty(n *yaml.Node, what string) *String {
	s := w.str(n, what)
	if s != nil && strings.TrimSpace(s.Value) == "" {
		w.errorf(s.Pos, KindValue, "%s must not be empty", what)
	}
	return s
}

// exprScalar returns the expression of a scalar written as `${{ … }}`, or
// "" when n is not one.
func (w *walker) exprScalar(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && isWholeExpr(n.Value) {
		w.checkTemplate(n, n.Value)
		return n.Value
	}
	return ""
}

// boolean reads a boolean or an expression.
func (w *walker) boolean(n *yaml.Node, what string) *Bool {
	n = w.resolve(n)
	if e := w.exprScalar(n); e != "" {
		return &Bool{Expr: e, Pos: posOf(n)}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return &Bool{Value: b, Pos: posOf(n)}
		}
	}
	w.errorf(posOf(n), KindType, "%s must be a boolean (true or false) or an expression, found %s", what, describe(n, what))
	return nil
}

// integer reads an integer or an expression.
func (w *walker) integer(n *yaml.Node, what string) *Int {
	n = w.resolve(n)
	if e := w.exprScalar(n); e != "" {
		return &Int{Expr: e, Pos: posOf(n)}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return &Int{Value: int(i), Pos: posOf(n)}
		}
	}
	w.errorf(posOf(n), KindType, "%s must be an integer or an expression, found %s", what, describe(n, what))
	return nil
}

// number reads a number or an expression.
func (w *walker) number(n *yaml.Node, what string) *Float {
	n = w.resolve(n)
	if e := w.exprScalar(n); e != "" {
		return &Float{Expr: e, Pos: posOf(n)}
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		if f, err := parseYAMLNumber(n.Value); err == nil {
			return &Float{Value: f, Pos: posOf(n)}
		}
	}
	w.errorf(posOf(n), KindType, "%s must be a number or an expression, found %s", what, describe(n, what))
	return nil
}

// stringMap reads a mapping of names to scalars (env, with, outputs), or a
// whole-mapping expression.
func (w *walker) stringMap(n *yaml.Node, what string) *StringMap {
	n = w.resolve(n)
	m := &StringMap{Pos: posOf(n)}
	if e := w.exprScalar(n); e != "" {
		m.Expr = &String{Value: e, Pos: posOf(n), Quoted: isQuoted(n)}
		return m
	}
	if n.Kind == yaml.MappingNode {
		m.Entries = make([]KeyValue, 0, len(n.Content)/2)
	}
	w.mapping(n, what, nil, func(k *String, v *yaml.Node) {
		if s := w.str(v, what+"."+k.Value); s != nil {
			m.Entries = append(m.Entries, KeyValue{Key: *k, Value: *s})
		}
	})
	return m
}

// stringList reads one string or a sequence of strings.
func (w *walker) stringList(n *yaml.Node, what string) []String {
	n = w.resolve(n)
	if n.Kind == yaml.ScalarNode {
		if s := w.str(n, what); s != nil {
			return []String{*s}
		}
		return nil
	}
	return w.strings(n, what)
}

// strings reads a sequence of strings.
func (w *walker) strings(n *yaml.Node, what string) []String {
	var out []String
	w.sequence(n, what, func(_ int, e *yaml.Node) {
		if s := w.str(e, what+" element"); s != nil {
			out = append(out, *s)
		}
	})
	return out
}

// value converts any node into a generic Value, checking expressions in its
// string scalars.
func (w *walker) value(n *yaml.Node) *Value {
	n = w.resolve(n)
	v := &Value{Pos: posOf(n), Quoted: isQuoted(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		v.Scalar = n.Value
		switch n.Tag {
		case "!!null":
			v.Kind = NullValue
		case "!!bool":
			v.Kind = BoolValue
		case "!!int", "!!float":
			v.Kind = NumberValue
		default:
			v.Kind = StringValue
			w.checkTemplate(n, n.Value)
		}
	case yaml.SequenceNode:
		v.Kind = SeqValue
		for _, e := range n.Content {
			v.Seq = append(v.Seq, w.value(e))
		}
	case yaml.MappingNode:
		v.Kind = MapValue
		w.mapping(n, "mapping", nil, func(k *String, e *yaml.Node) {
			v.Map = append(v.Map, &MapEntry{Key: *k, Value: w.value(e)})
		})
	default:
		v.Kind = NullValue
	}
	return v
}
