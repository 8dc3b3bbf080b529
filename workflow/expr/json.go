package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// toJSON prints v as GitHub's toJSON does: JSON indented by two spaces,
// "key": value, empty objects and arrays as {} and [], integers without a
// fraction. Object keys are sorted, since Go maps keep no order.
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
	case map[string]any:
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

func writeJSONObject(b *strings.Builder, m map[string]any, indent int) {
	if len(m) == 0 {
		b.WriteString("{}")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		newline(b, indent+1)
		writeJSONString(b, k)
		b.WriteString(": ")
		writeJSON(b, canon(m[k]), indent+1)
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

// fromJSON parses one JSON value into JSON-like values (numbers are
// float64). Empty input or trailing data is an error; errors never quote the
// input.
func fromJSON(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("fromJSON: empty input is not JSON")
	}
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("fromJSON: invalid JSON%s", jsonErrPos(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("fromJSON: invalid JSON: data after the value")
	}
	return v, nil
}

// jsonErrPos says where JSON is invalid without quoting it: the input may
// be a secret, and encoding/json's messages include the offending text.
func jsonErrPos(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf(" at byte %d", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return ": unexpected end of input"
	}
	return ""
}

// ToJSON prints v as GitHub's toJSON() does: two-space indented JSON with
// object keys sorted.
func ToJSON(v any) string { return toJSON(v) }
