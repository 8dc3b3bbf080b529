package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// toJSON prints v as GitHub's toJSON does: JSON indented by two spaces,
// "key": value, empty objects and arrays as {} and [], integers without a
// fraction. An [*Object]'s keys print in its order; a plain map's, which has
// none, sorted.
func toJSON(v any) string {
	var b strings.Builder
	writeJSON(&b, canon(v), 0)
	return b.String()
}

func writeJSON(b *strings.Builder, v any, indent int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(jsonNumber(x))
	case string:
		writeJSONString(b, x)
	case []any:
		writeJSONArray(b, x, indent)
	case filtered:
		writeJSONArray(b, x, indent)
	case *Object, map[string]any:
		writeJSONObject(b, x, indent)
	default:
		// A caller put a value in the Scope that is not JSON-like; print
		// what encoding/json makes of it rather than fail.
		data, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
			return
		}
		var y any
		if json.Unmarshal(data, &y) != nil {
			b.WriteString("null")
			return
		}
		writeJSON(b, y, indent)
	}
}

func newline(b *strings.Builder, indent int) {
	b.WriteByte('\n')
	for range indent {
		b.WriteString("  ")
	}
}

func writeJSONArray(b *strings.Builder, a []any, indent int) {
	if len(a) == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteByte('[')
	for i, e := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		newline(b, indent+1)
		writeJSON(b, canon(e), indent+1)
	}
	newline(b, indent)
	b.WriteByte(']')
}

func writeJSONObject(b *strings.Builder, obj any, indent int) {
	fields, _ := ObjectFields(obj)
	n := 0
	for k, v := range fields {
		if n == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		n++
		newline(b, indent+1)
		writeJSONString(b, k)
		b.WriteString(": ")
		writeJSON(b, canon(v), indent+1)
	}
	if n == 0 {
		b.WriteString("{}")
		return
	}
	newline(b, indent)
	b.WriteByte('}')
}

// jsonNumber prints integers exactly and other numbers in their shortest
// round-tripping form; NaN and infinities as Newtonsoft.Json writes them.
func jsonNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1<<63:
		return strconv.FormatInt(int64(f), 10)
	}
	return strings.Replace(strconv.FormatFloat(f, 'g', -1, 64), "e", "E", 1) // 1E+20, as Newtonsoft.Json writes it
}

// writeJSONString escapes as Newtonsoft.Json does by default: quotes,
// backslashes and control characters; other characters are written as is.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x2029 {
				fmt.Fprintf(b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// fromJSON parses one JSON value into JSON-like values: numbers are
// float64, objects [*Object]s in the order of their keys in s. Empty input
// or trailing data is an error; errors never quote the input.
func fromJSON(s string) (any, error) {
	v, err := parseJSON(s)
	if err != nil {
		return nil, errors.New("fromJSON: " + err.Error())
	}
	return v, nil
}

// JSONError is invalid JSON. It says what is wrong and where, never
// quoting the input, which may be secret.
type JSONError struct {
	Offset int64 // the byte (counted from 0) where it went wrong; -1 when not known
	Msg    string
}

func (e *JSONError) Error() string {
	if e.Offset < 0 {
		return e.Msg
	}
	return fmt.Sprintf("%s at byte %d", e.Msg, e.Offset)
}

func parseJSON(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &JSONError{Offset: -1, Msg: "empty input is not JSON"}
	}
	d := json.NewDecoder(strings.NewReader(s))
	v, err := decodeJSON(d, 0)
	if err != nil {
		return nil, jsonError(err, d)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, &JSONError{Offset: d.InputOffset(), Msg: "invalid JSON: data after the value"}
	}
	return v, nil
}

// maxJSONDepth bounds nesting as encoding/json does, so hostile input
// cannot recurse without end.
const maxJSONDepth = 10000

var errJSONDepth = errors.New("nested too deeply")

// decodeJSON reads one value from d, keeping objects' key order.
func decodeJSON(d *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		o := NewObject(0)
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeJSON(d, depth+1)
			if err != nil {
				return nil, err
			}
			o.Set(k.(string), v)
		}
		_, err = d.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for d.More() {
			v, err := decodeJSON(d, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err = d.Token()
		return a, err
	}
	return t, nil
}

// ParseJSON parses JSON as fromJSON() does, objects as [*Object]s keeping
// their key order: for payloads that become contexts, such as the event.
// Its errors are [*JSONError]s.
func ParseJSON(s string) (any, error) { return parseJSON(s) }

// jsonError says where JSON is invalid without quoting it: the input may
// be a secret, and encoding/json's messages include the offending text.
func jsonError(err error, d *json.Decoder) *JSONError {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errJSONDepth):
		return &JSONError{Offset: d.InputOffset(), Msg: "invalid JSON: nested too deeply"}
	case errors.As(err, &se):
		// Token decodes a literal on its own, and the error's offset
		// counts from the literal; the decoder's is from the start.
		return &JSONError{Offset: max(se.Offset, d.InputOffset()), Msg: "invalid JSON"}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &JSONError{Offset: -1, Msg: "invalid JSON: unexpected end of input"}
	}
	return &JSONError{Offset: d.InputOffset(), Msg: "invalid JSON"}
}

// ToJSON prints v as GitHub's toJSON() does: two-space indented JSON, an
// [*Object]'s keys in its order (a plain map's sorted).
func ToJSON(v any) string { return toJSON(v) }
