package expr

import (
	"errors"
	"math"
	"sort"
	"strings"
)

// This file holds the functions the compiled expr-lang program calls. They
// implement GitHub's semantics on JSON-like values and never panic.

// evalError is an evaluation failure inside a function; off is the
// function call's offset in the source.
type evalError struct {
	off int
	msg string
}

func (e *evalError) Error() string { return e.msg }

// lookup finds key in m, exactly first and then ignoring case, as GitHub's
// property names are case-insensitive. Among keys differing only in case
// the smallest wins, so the result is deterministic.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	best, found := "", false
	for k := range m {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, found = k, true
		}
	}
	if !found {
		return nil, false
	}
	return m[best], true
}

// field returns property key of an object value (an [*Object] or a
// map[string]any); ok is false when x is not an object or has no such key.
func field(x any, key string) (any, bool) {
	switch o := x.(type) {
	case *Object:
		return o.Get(key)
	case map[string]any:
		return lookup(o, key)
	}
	return nil, false
}

// contextValue returns the named context from the scope; missing is null.
func contextValue(s *Scope, name string) any {
	if s == nil || s.Contexts == nil {
		return nil
	}
	v, _ := lookup(s.Contexts, name)
	return canon(v)
}

// stringIndex is the object key an index value selects: primitives
// converted to strings; arrays and objects select nothing.
func stringIndex(key any) (string, bool) {
	switch kindOf(key) {
	case kindArray, kindObject:
		return "", false
	}
	return ToString(key), true
}

// intIndex is the array position an index value selects: the value as a
// number, floored; NaN, negative and huge values select nothing.
func intIndex(key any) (int, bool) {
	f := toNumber(key)
	if math.IsNaN(f) || f < 0 {
		return 0, false
	}
	f = math.Floor(f)
	if f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// index applies x[key] (and x.key): an object's property, an array's
// element, or, on a filtered array, the index applied to each element with
// the misses dropped. Anything missing is null.
func index(x, key any) any {
	switch c := x.(type) {
	case *Object, map[string]any:
		if k, ok := stringIndex(key); ok {
			v, _ := field(c, k)
			return canon(v)
		}
	case []any:
		if i, ok := intIndex(key); ok && i < len(c) {
			return canon(c[i])
		}
	case filtered:
		out := filtered{}
		for _, item := range c {
			switch e := canon(item).(type) {
			case *Object, map[string]any:
				if k, ok := stringIndex(key); ok {
					if v, found := field(e, k); found {
						out = append(out, canon(v))
					}
				}
			case []any:
				if i, ok := intIndex(key); ok && i < len(e) {
					out = append(out, canon(e[i]))
				}
			}
		}
		return out
	}
	return nil
}

// filter applies x.*: an object's values (in its order, sorted for a
// plain map), an array's
// elements, or each element's values and elements for a filtered array.
// Anything else gives an empty filtered array.
func filter(x any) any {
	out := filtered{}
	switch c := x.(type) {
	case *Object, map[string]any:
		out = appendValues(out, c)
	case []any:
		for _, e := range c {
			out = append(out, canon(e))
		}
	case filtered:
		for _, item := range c {
			switch e := canon(item).(type) {
			case *Object, map[string]any:
				out = appendValues(out, e)
			case []any:
				for _, v := range e {
					out = append(out, canon(v))
				}
			}
		}
	}
	return out
}

func appendValues(out filtered, obj any) filtered {
	fields, _ := ObjectFields(obj)
	for _, v := range fields {
		out = append(out, canon(v))
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isPrimitive(v any) bool {
	k := kindOf(v)
	return k != kindArray && k != kindObject
}

// contains is GitHub's contains(search, item): a case-insensitive substring
// test when search is a primitive, loose equality against each element when
// it is an array, false otherwise.
func contains(search, item any) bool {
	switch s := search.(type) {
	case []any:
		for _, e := range s {
			if looseEqual(canon(e), item) {
				return true
			}
		}
		return false
	case filtered:
		for _, e := range s {
			if looseEqual(e, item) {
				return true
			}
		}
		return false
	}
	if !isPrimitive(search) || !isPrimitive(item) {
		return false
	}
	return foldContains(ToString(search), ToString(item))
}

// startsWith and endsWith compare primitives' strings ignoring case.
func startsWith(s, prefix any) bool {
	if !isPrimitive(s) || !isPrimitive(prefix) {
		return false
	}
	return foldHasPrefix(ToString(s), ToString(prefix))
}

func endsWith(s, suffix any) bool {
	if !isPrimitive(s) || !isPrimitive(suffix) {
		return false
	}
	return foldHasSuffix(ToString(s), ToString(suffix))
}

// join is GitHub's join(array, separator=","): array elements converted to
// strings (arrays and objects inside as "Array" and "Object", as
// actions/runner does), a primitive converted to a string, anything else "".
func join(v any, sep any, hasSep bool) string {
	s := ","
	if hasSep && isPrimitive(sep) {
		s = ToString(sep)
	}
	var items []any
	switch a := v.(type) {
	case []any:
		items = a
	case filtered:
		items = a
	default:
		if isPrimitive(v) {
			return ToString(v)
		}
		return ""
	}
	var b strings.Builder
	for i, e := range items {
		if i > 0 {
			b.WriteString(s)
		}
		b.WriteString(funcString(canon(e)))
	}
	return b.String()
}

// format is GitHub's format(string, args...): {N} is replaced by argument
// N converted to a string (arrays and objects as "Array" and "Object", as
// actions/runner does); {{ and }} stand for braces. A bad brace, a
// format specifier or an index past the arguments is an error. Errors give
// positions, never the format string, which may hold a secret.
func format(f string, args []any) (string, error) {
	var b strings.Builder
	i := 0
	for i < len(f) {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{':
			b.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte('}')
			i += 2
		case c == '{':
			j := i + 1
			for j < len(f) && isDigit(f[j]) {
				j++
			}
			if j == i+1 || j >= len(f) || f[j] != '}' {
				return "", errors.New("format: invalid format string: '{' at index " + itoa(i) + " must start {N} (argument N) or be written {{")
			}
			n := 0
			for _, d := range f[i+1 : j] {
				n = min(n*10+int(d-'0'), 1000)
			}
			if n > 255 {
				return "", errors.New("format: invalid format string: argument index above 255 at index " + itoa(i))
			}
			if n >= len(args) {
				return "", errors.New("format: the format string references argument {" + itoa(n) + "} but only " + plural(len(args), "argument") + " follow it")
			}
			b.WriteString(funcString(args[n]))
			i = j + 1
		case c == '}':
			return "", errors.New("format: invalid format string: a lone '}' at index " + itoa(i) + " must be written }}")
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// describe names a value's kind for error messages, without its content,
// which may be secret.
func describe(v any) string {
	switch kindOf(v) {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	}
	return "an object"
}
