package exec

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// valueEncoder is one of the encodings of a secret that GitHub's runner also
// masks. An empty result means "nothing to add".
type valueEncoder struct {
	name   string // the runner's name for it, for tests and debugging
	encode func(string) string
}

// valueEncoders are the encoders the runner registers with its secret
// masker, in its order: src/Runner.Common/HostContext.cs (HostContext's
// constructor, AddValueEncoder calls), implemented after
// src/Sdk/DTLogging/Logging/ValueEncoders.cs, both at actions/runner commit
// 258d6c857db3519913f7deb6004b60172f8043ae. Every value the runner masks
// (secrets, ::add-mask::, and each line of a multi-line one) is masked in
// each of these forms too.
var valueEncoders = []valueEncoder{
	{name: "Base64StringEscape", encode: func(v string) string { return base64Shift(v, 0) }},
	{name: "Base64StringEscapeShift1", encode: func(v string) string { return base64Shift(v, 1) }},
	{name: "Base64StringEscapeShift2", encode: func(v string) string { return base64Shift(v, 2) }},
	{name: "CommandLineArgumentEscape", encode: func(v string) string { return strings.ReplaceAll(v, `"`, `\"`) }},
	{name: "ExpressionStringEscape", encode: func(v string) string { return strings.ReplaceAll(v, "'", "''") }},
	{name: "JsonStringEscape", encode: jsonStringEscape},
	{name: "UriDataEscape", encode: uriDataEscape},
	{name: "XmlDataEscape", encode: xmlDataEscape},
	{name: "TrimDoubleQuotes", encode: trimDoubleQuotes},
	{name: "PowerShellPreAmpersandEscape", encode: powerShellPreAmpersand},
	{name: "PowerShellPostAmpersandEscape", encode: powerShellPostAmpersand},
}

// base64Shift is the standard (padded) base64 of v's bytes from offset
// shift on. A secret inside a longer base64-encoded text, such as
// base64("user:" + password), starts at one of three byte offsets relative
// to the encoder's 3-byte groups, so the runner masks all three. A value no
// longer than shift is encoded whole, as the runner does.
func base64Shift(v string, shift int) string {
	b := []byte(v)
	if len(b) > shift {
		b = b[shift:]
	}
	return base64.StdEncoding.EncodeToString(b)
}

// jsonStringEscape is Newtonsoft's JsonConvert.ToString without the quotes:
// `"` and `\` escaped, \b \f \n \r \t by name, other control characters and
// U+0085, U+2028, U+2029 as lower-case \uXXXX. Nothing else is escaped.
func jsonStringEscape(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\u0085', '\u2028', '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// uriDataEscape is .NET's Uri.EscapeDataString: every byte of the UTF-8
// form except RFC 3986's unreserved characters as %XX, upper-case hex.
func uriDataEscape(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// xmlEscaper is .NET's SecurityElement.Escape.
var xmlEscaper = strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "&", "&amp;")

func xmlDataEscape(v string) string { return xmlEscaper.Replace(v) }

// utf16Len is a string's length as .NET counts it, in UTF-16 code units; the
// runner's length rules are written in those.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// trimDoubleQuotes is the value inside its double quotes, for a quoted
// value longer than 8 characters ("short" secrets are not unquoted).
func trimDoubleQuotes(v string) string {
	if utf16Len(v) > 8 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) {
		return v[1 : len(v)-1]
	}
	return ""
}

// powerShellPreAmpersand is the part of a secret up to its first "&+" (or
// else its last "&"), inclusive: PowerShell prints a secret passed as a
// command in such pieces, with colour codes between them. Pieces shorter
// than 6 characters are not masked.
func powerShellPreAmpersand(v string) string {
	if !strings.Contains(v, "&") {
		return ""
	}
	var section string
	if i := strings.Index(v, "&+"); i >= 0 {
		section = v[:i+len("&+")]
	} else {
		section = v[:strings.LastIndex(v, "&")+len("&")]
	}
	if utf16Len(section) >= 6 {
		return section
	}
	return ""
}

// powerShellPostAmpersand is the rest of the secret after that point: after
// its last "&", or after its first "&+" and the one character PowerShell
// colours there. Pieces shorter than 6 characters are not masked.
func powerShellPostAmpersand(v string) string {
	if !strings.Contains(v, "&") {
		return ""
	}
	var section string
	if i := strings.Index(v, "&+"); i >= 0 {
		rest := v[i+len("&+"):]
		if utf16Len(rest) > 1 {
			_, size := utf8.DecodeRuneInString(rest)
			section = rest[size:]
		}
	} else {
		section = v[strings.LastIndex(v, "&")+len("&"):]
	}
	if utf16Len(section) >= 6 {
		return section
	}
	return ""
}
