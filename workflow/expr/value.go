package expr

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// kind is the type of a value as GitHub's expression engine sees it.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// filtered is the array an object filter (a.*) produces. Indexing it applies
// the index to each element instead of selecting one, as actions/runner's
// FilteredArray does, so a.*.b collects every element's b.
type filtered []any

// canon converts Go values a caller may put in a Scope to the JSON-like
// values the language works on. JSON-like values pass through unchanged.
func canon(v any) any {
	switch x := v.(type) {
	case nil, bool, float64, string, *Object, map[string]any, []any, filtered:
		return v
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint:
		return float64(x)
	case uint64:
		return float64(x)
	case uint32:
		return float64(x)
	case float32:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	}
	return v
}

func kindOf(v any) kind {
	switch v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case float64:
		return kindNumber
	case string:
		return kindString
	case []any, filtered:
		return kindArray
	}
	return kindObject
}

// truthy reports GitHub's truthiness: false, 0, -0, NaN, "" and null are
// falsy; everything else, including empty arrays and objects, is truthy.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// toNumber converts a primitive as JavaScript's Number() would (null → 0,
// booleans → 1/0, strings parsed, "" → 0); arrays and objects are NaN.
func toNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		return parseNumber(x)
	}
	return math.NaN()
}

// parseNumber follows actions/runner's ExpressionUtility.ParseNumber: trimmed
// decimal with optional sign, point and exponent; 0x hex and 0o octal as
// 32-bit integers; Infinity and -Infinity; "" is 0; anything else NaN.
func parseNumber(s string) float64 {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0
	case isDecimal(s):
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return math.NaN()
		}
		return f
	case len(s) > 2 && s[0] == '0' && s[1] == 'x':
		return parseRadix32(s[2:], 16)
	case len(s) > 2 && s[0] == '0' && s[1] == 'o':
		return parseRadix32(s[2:], 8)
	case s == "Infinity":
		return math.Inf(1)
	case s == "-Infinity":
		return math.Inf(-1)
	}
	return math.NaN()
}

// isDecimal reports whether s is [+-]digits[.digits][(e|E)[+-]digits] with at
// least one mantissa digit (".5" and "5." included), the shape .NET's
// Double.TryParse accepts with AllowLeadingSign|AllowDecimalPoint|AllowExponent.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseRadix32 parses digits in base 16 or 8 as .NET does for Int32: the bit
// pattern is two's complement, so 0xffffffff is -1; more than 32 bits is NaN.
func parseRadix32(digits string, base int) float64 {
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil || u > math.MaxUint32 {
		return math.NaN()
	}
	return float64(int32(uint32(u)))
}

// formatNumber prints a number as .NET's Double.ToString("G15") does, which
// is how GitHub converts numbers to strings: up to 15 significant digits,
// scientific notation ("1E+15", "1E-05") from 1e15 and at or below 1e-5.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', 14, 64) // d.dddddddddddddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
	if exp <= -5 || exp >= 15 {
		var b strings.Builder
		b.WriteString(sign)
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteString("E")
		if exp < 0 {
			b.WriteByte('-')
			exp = -exp
		} else {
			b.WriteByte('+')
		}
		if exp < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(exp))
		return b.String()
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits))
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

// ToString converts a value to a string as GitHub does when it interpolates
// or passes a value to a string function: null → "", booleans → "true" or
// "false", numbers as GitHub prints them (15 significant digits), strings
// unchanged, arrays and objects → JSON as toJSON prints it.
func ToString(v any) string {
	switch x := canon(v).(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return formatNumber(x)
	case string:
		return x
	}
	return toJSON(v)
}

// funcString converts a function argument to a string as actions/runner's
// ConvertToString does for format() and join(): like ToString for
// primitives, but an array is "Array" and an object "Object" (interpolating
// ${{ }} into text prints them as JSON instead; see ToString).
func funcString(v any) string {
	switch kindOf(v) {
	case kindArray:
		return "Array"
	case kindObject:
		return "Object"
	}
	return ToString(v)
}

// coerce applies GitHub's coercion before a comparison: when the kinds
// differ, null and booleans become numbers, and a string compared with a
// number becomes a number. Arrays and objects are never coerced.
func coerce(a, b any) (any, any) {
	for {
		ka, kb := kindOf(a), kindOf(b)
		switch {
		case ka == kb:
			return a, b
		case ka == kindNumber && kb == kindString:
			return a, parseNumber(b.(string))
		case ka == kindString && kb == kindNumber:
			return parseNumber(a.(string)), b
		case ka == kindBool || ka == kindNull:
			a = toNumber(a)
		case kb == kindBool || kb == kindNull:
			b = toNumber(b)
		default:
			return a, b
		}
	}
}

// looseEqual is GitHub's ==: coerce, then compare; NaN equals nothing,
// strings compare case-insensitively, arrays and objects only by identity.
func looseEqual(a, b any) bool {
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return foldEqual(sa, sb)
		}
	}
	a, b = coerce(a, b)
	if kindOf(a) != kindOf(b) {
		return false
	}
	switch x := a.(type) {
	case nil:
		return true
	case bool:
		return x == b.(bool)
	case float64:
		return x == b.(float64) // false for NaN
	case string:
		return foldEqual(x, b.(string))
	}
	return sameInstance(a, b)
}

// compare orders a and b for <, <=, > and >=. ok is false when they are not
// ordered (NaN, differing kinds, arrays or objects), making every such
// comparison false.
func compare(a, b any) (c int, ok bool) {
	a, b = coerce(a, b)
	if kindOf(a) != kindOf(b) {
		return 0, false
	}
	switch x := a.(type) {
	case nil:
		return 0, true
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0, true
		case x:
			return 1, true
		}
		return -1, true
	case float64:
		y := b.(float64)
		switch {
		case math.IsNaN(x) || math.IsNaN(y):
			return 0, false
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case string:
		return foldCompare(x, b.(string)), true
	}
	if sameInstance(a, b) {
		return 0, true
	}
	return 0, false
}

// sameInstance reports whether two arrays or two objects are the same value
// (the same map, or slices sharing their first element and length). Go
// gives empty slices no identity, so two empty arrays count as the same
// instance only when both are nil or share their backing array.
func sameInstance(a, b any) bool {
	switch x := a.(type) {
	case *Object:
		y, ok := b.(*Object)
		return ok && x != nil && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || x == nil || y == nil {
			return false
		}
		return reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && cap(x) == cap(y) && unsafe.SliceData(x) == unsafe.SliceData(y) && (len(x) > 0 || x == nil && y == nil)
	case filtered:
		y, ok := b.(filtered)
		return ok && len(x) == len(y) && len(x) > 0 && unsafe.SliceData(x) == unsafe.SliceData(y)
	}
	return false
}

// foldEqual reports whether a and b are equal ignoring case, with a fast
// path for ASCII.
func foldEqual(a, b string) bool {
	if a == b {
		return true
	}
	if isASCII(a) && isASCII(b) {
		return len(a) == len(b) && asciiFoldEqual(a, b)
	}
	return foldCompare(a, b) == 0
}

// foldCompare compares strings ignoring case, rune by rune on their upper
// case, like .NET's StringComparison.OrdinalIgnoreCase.
func foldCompare(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		a, b = a[na:], b[nb:]
		if ra == rb {
			continue
		}
		ua, ub := unicode.ToUpper(ra), unicode.ToUpper(rb)
		if ua != ub {
			if ua < ub {
				return -1
			}
			return 1
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// foldContains reports whether sub occurs in s ignoring case, without
// allocating when both are ASCII.
func foldContains(s, sub string) bool {
	if sub == "" {
		return true
	}
	if !isASCII(s) || !isASCII(sub) {
		return strings.Contains(upper(s), upper(sub))
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if asciiFoldEqual(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// foldHasPrefix and foldHasSuffix test prefixes and suffixes ignoring case.
func foldHasPrefix(s, prefix string) bool {
	if isASCII(s) && isASCII(prefix) {
		return len(s) >= len(prefix) && asciiFoldEqual(s[:len(prefix)], prefix)
	}
	return strings.HasPrefix(upper(s), upper(prefix))
}

func foldHasSuffix(s, suffix string) bool {
	if isASCII(s) && isASCII(suffix) {
		return len(s) >= len(suffix) && asciiFoldEqual(s[len(s)-len(suffix):], suffix)
	}
	return strings.HasSuffix(upper(s), upper(suffix))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiFoldEqual compares equal-length ASCII strings ignoring case.
func asciiFoldEqual(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// upper is strings.ToUpper with a fast path for strings already upper case
// or without letters.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}
