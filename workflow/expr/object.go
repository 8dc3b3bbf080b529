package expr

import (
	"encoding/json"
	"iter"
	"maps"
	"strings"
)

// Object is an object that keeps its keys in the order they were first set,
// as actions/runner's DictionaryContextData does: toJSON and the object
// filter (o.*) list them in that order, so toJSON(matrix) prints the keys
// as the workflow writes them and toJSON(fromJSON(s)) as s does. Setting a
// key again changes its value and keeps its place; in an object that is not
// case-sensitive, so does setting it in another case.
//
// Property names are case-insensitive, as everywhere in GitHub's
// expressions, unless the object is case-sensitive: the runner gives the
// env context a case-sensitive dictionary on Linux and macOS
// (CaseSensitiveDictionaryContextData), so there env.mixed_case is null
// when only Mixed_Case is set.
//
// The zero Object is empty and ready to use; an Object must not be copied
// after its first Set. Plain map[string]any values also work as objects
// everywhere in this package, with their keys sorted where order shows.
type Object struct {
	keys          []string
	vals          map[string]any
	caseSensitive bool
}

// NewObject returns an empty object with room for n keys.
func NewObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// NewCaseSensitiveObject returns an empty object whose property names match
// only exactly.
func NewCaseSensitiveObject(n int) *Object {
	o := NewObject(n)
	o.caseSensitive = true
	return o
}

// Set sets key to v, appending key when the object has no such key.
func (o *Object) Set(key string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if k, ok := o.find(key); ok {
		key = k
	} else {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// Get returns the value of key, matched as the object matches names.
func (o *Object) Get(key string) (any, bool) {
	if k, ok := o.find(key); ok {
		return o.vals[k], true
	}
	return nil, false
}

// find returns the object's own spelling of key: key itself when set, else,
// unless the object is case-sensitive, the key that equals it ignoring case
// (Set keeps there from being more than one).
func (o *Object) find(key string) (string, bool) {
	if o == nil {
		return "", false
	}
	if _, ok := o.vals[key]; ok {
		return key, true
	}
	if !o.caseSensitive {
		for _, k := range o.keys {
			if strings.EqualFold(k, key) {
				return k, true
			}
		}
	}
	return "", false
}

// Len returns the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Keys returns the keys in order. The slice is the object's: read only.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// All yields the keys and values in order.
func (o *Object) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if o == nil {
			return
		}
		for _, k := range o.keys {
			if !yield(k, o.vals[k]) {
				return
			}
		}
	}
}

// ObjectFields yields an object value's keys and values: an [*Object]'s in
// its order, a map[string]any's sorted. ok is false when v is not an object.
func ObjectFields(v any) (fields iter.Seq2[string, any], ok bool) {
	switch x := v.(type) {
	case *Object:
		return x.All(), true
	case map[string]any:
		return func(yield func(string, any) bool) {
			for _, k := range sortedKeys(x) {
				if !yield(k, x[k]) {
					return
				}
			}
		}, true
	}
	return nil, false
}

// Clone returns a shallow copy of o: the same values, its own keys.
func (o *Object) Clone() *Object {
	c := &Object{keys: make([]string, len(o.Keys()), o.Len()+4), vals: make(map[string]any, o.Len()+4)}
	if o != nil {
		copy(c.keys, o.keys)
		maps.Copy(c.vals, o.vals)
		c.caseSensitive = o.caseSensitive
	}
	return c
}

// MarshalJSON writes o as a JSON object with its keys in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.Keys() {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

// Field returns property key of an object value (an [*Object] or a
// map[string]any) as expressions look it up; ok is false when v is not an
// object or has no such property.
func Field(v any, key string) (any, bool) { return field(v, key) }

// Plain returns v with every [*Object] in it turned into a map[string]any,
// for code that works on plain decoded JSON.
func Plain(v any) any {
	switch x := v.(type) {
	case *Object:
		m := make(map[string]any, x.Len())
		for k, e := range x.All() {
			m[k] = Plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}
