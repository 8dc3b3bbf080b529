package exec

import (
	"encoding/base64"
	"reflect"
	"testing"
)

// runnerEncoders is the list of AddValueEncoder calls in actions/runner's
// src/Runner.Common/HostContext.cs at commit
// 258d6c857db3519913f7deb6004b60172f8043ae (lines 103-113), in order.
var runnerEncoders = []string{
	"Base64StringEscape",
	"Base64StringEscapeShift1",
	"Base64StringEscapeShift2",
	"CommandLineArgumentEscape",
	"ExpressionStringEscape",
	"JsonStringEscape",
	"UriDataEscape",
	"XmlDataEscape",
	"TrimDoubleQuotes",
	"PowerShellPreAmpersandEscape",
	"PowerShellPostAmpersandEscape",
}

func TestValueEncodersAreTheRunners(t *testing.T) {
	t.Parallel()
	var got []string
	for _, e := range valueEncoders {
		got = append(got, e.name)
	}
	if !reflect.DeepEqual(got, runnerEncoders) {
		t.Errorf("encoders %q,\nwant the runner's %q", got, runnerEncoders)
	}
}

// TestValueEncoders checks each encoder against the behaviour of the .NET
// code it follows (src/Sdk/DTLogging/Logging/ValueEncoders.cs at the commit
// above), including the length rules of TrimDoubleQuotes (> 8) and the
// PowerShell sections (>= 6).
func TestValueEncoders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		encoder string
		in      string
		want    string
	}{
		{encoder: "Base64StringEscape", in: "Password123!", want: "UGFzc3dvcmQxMjMh"},
		{encoder: "Base64StringEscape", in: "ü", want: "w7w="},
		{encoder: "Base64StringEscapeShift1", in: "Password123!", want: "YXNzd29yZDEyMyE="},
		{encoder: "Base64StringEscapeShift1", in: "a", want: "YQ=="}, // no longer than the shift: whole
		{encoder: "Base64StringEscapeShift2", in: "Password123!", want: "c3N3b3JkMTIzIQ=="},
		{encoder: "Base64StringEscapeShift2", in: "ab", want: "YWI="},
		{encoder: "CommandLineArgumentEscape", in: `Pass"word"123!`, want: `Pass\"word\"123!`},
		{encoder: "CommandLineArgumentEscape", in: `no quotes`, want: `no quotes`},
		{encoder: "ExpressionStringEscape", in: "Pass'word'123!", want: "Pass''word''123!"},
		{encoder: "JsonStringEscape", in: "a\"b\\c\nd\re\tf\bg\fh", want: `a\"b\\c\nd\re\tf\bg\fh`},
		{encoder: "JsonStringEscape", in: "x\x01y\x1fz", want: `x\u0001y\u001fz`},
		{encoder: "JsonStringEscape", in: "p\u2028q\u2029r\u0085s", want: `p\u2028q\u2029r\u0085s`},
		{encoder: "JsonStringEscape", in: "<'&/>é\x7f", want: "<'&/>é\x7f"},
		{encoder: "UriDataEscape", in: "Pass word 123!", want: "Pass%20word%20123%21"},
		{encoder: "UriDataEscape", in: "a-b_c.d~e/f+g=ü", want: "a-b_c.d~e%2Ff%2Bg%3D%C3%BC"},
		{encoder: "XmlDataEscape", in: `Pass<word>123!`, want: "Pass&lt;word&gt;123!"},
		{encoder: "XmlDataEscape", in: `a"b'c&d`, want: "a&quot;b&apos;c&amp;d"},
		{encoder: "TrimDoubleQuotes", in: `"Password123!!"`, want: "Password123!!"},
		{encoder: "TrimDoubleQuotes", in: `"1234567"`, want: "1234567"}, // 9 characters
		{encoder: "TrimDoubleQuotes", in: `"123456"`, want: ""},         // 8 characters: too short
		{encoder: "TrimDoubleQuotes", in: `"short"`, want: ""},
		{encoder: "TrimDoubleQuotes", in: `Password123!`, want: ""},
		{encoder: "PowerShellPreAmpersandEscape", in: "secret&secret&secret", want: "secret&secret&"},
		{encoder: "PowerShellPreAmpersandEscape", in: "secret&+secret&secret", want: "secret&+"},
		{encoder: "PowerShellPreAmpersandEscape", in: "abcd&efghij", want: ""}, // "abcd&" is 5 long
		{encoder: "PowerShellPreAmpersandEscape", in: "no ampersand", want: ""},
		{encoder: "PowerShellPostAmpersandEscape", in: "secret&secret&secret", want: "secret"},
		{encoder: "PowerShellPostAmpersandEscape", in: "secret&secret&+secretsecret", want: "ecretsecret"},
		{encoder: "PowerShellPostAmpersandEscape", in: "secret&secret&+", want: ""},
		{encoder: "PowerShellPostAmpersandEscape", in: "secret&+s", want: ""},
		{encoder: "PowerShellPostAmpersandEscape", in: "abcdefgh&short", want: ""},
		{encoder: "PowerShellPostAmpersandEscape", in: "no ampersand", want: ""},
	}
	encoders := make(map[string]func(string) string)
	for _, e := range valueEncoders {
		encoders[e.name] = e.encode
	}
	covered := make(map[string]bool)
	for _, tt := range tests {
		covered[tt.encoder] = true
		t.Run(tt.encoder+"/"+tt.in, func(t *testing.T) {
			t.Parallel()
			enc, ok := encoders[tt.encoder]
			if !ok {
				t.Fatalf("no encoder %s", tt.encoder)
			}
			if got := enc(tt.in); got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", tt.encoder, tt.in, got, tt.want)
			}
		})
	}
	for _, name := range runnerEncoders {
		if !covered[name] {
			t.Errorf("no test case for %s", name)
		}
	}
}

// TestMaskerEncodedForms is the runner's own HostContextL0 tests
// (src/Test/L0/HostContextL0.cs, DefaultSecretMaskers and
// SecretSectionMasking, at the commit above) through Masker.
func TestMaskerEncodedForms(t *testing.T) {
	t.Parallel()
	defaults := []string{"Password123!", `Pass"word"123!`, "Pass word 123!", "Pass<word>123!", "Pass'word'123!", `"Password123!!"`, `"short"`}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{name: "plain", values: defaults, in: "123Password123!123", want: "123***123"},
		{name: "case matters", values: defaults, in: "password123", want: "password123"},
		{name: "command line", values: defaults, in: `123Pass\"word\"123!123`, want: "123***123"},
		{name: "uri", values: defaults, in: "123Pass%20word%20123%21123", want: "123***123"},
		{name: "xml", values: defaults, in: "123Pass&lt;word&gt;123!123", want: "123***123"},
		{name: "expression", values: defaults, in: "123Pass''word''123!123", want: "123***123"},
		{name: "base64 offset 1", values: defaults, in: b64(":Password123!"), want: "OlBh***"},
		{name: "base64 offset 2", values: defaults, in: b64("a:Password123!"), want: "YTpQ***"},
		{name: "base64 offset 0", values: defaults, in: b64("ab:Password123!"), want: "YWI6***"},
		{name: "base64 offset 1 again", values: defaults, in: b64("abc:Password123!"), want: "YWJjOlBh***"},
		{name: "base64 offset 2 again", values: defaults, in: b64("abcd:Password123!"), want: "YWJjZDpQ***"},
		{name: "base64 offset 0 again", values: defaults, in: b64("abcde:Password123!"), want: "YWJjZGU6***"},
		{name: "unquoted", values: defaults, in: "123Password123!!123", want: "123***123"},
		{name: "short stays quoted", values: defaults, in: "123short123", want: "123short123"},
		{name: "short quoted", values: defaults, in: `123"short"123`, want: "123***123"},
		{name: "json", values: []string{"line\tone\"x"}, in: `{"v":"line\tone\"x"}`, want: `{"v":"***"}`},
		{name: "ps &", values: []string{"secret&secret&secret"}, in: "secret&secret&\x1b[96msecret\x1b[0m", want: "***\x1b[96m***\x1b[0m"},
		{name: "ps & then +", values: []string{"secret&secret+secret"}, in: "secret&\x1b[96msecret+secret\x1b[0m", want: "***\x1b[96m***\x1b[0m"},
		{name: "ps + then &", values: []string{"secret+secret&secret"}, in: "secret+secret&\x1b[96msecret\x1b[0m", want: "***\x1b[96m***\x1b[0m"},
		{name: "ps &+ late", values: []string{"secret&secret&+secretsecret"}, in: "secret&secret&+\x1b[96ms\x1b[0mecretsecret", want: "***\x1b[96ms\x1b[0m***"},
		{name: "ps &+ early", values: []string{"secret&+secret&secret"}, in: "secret&+\x1b[96ms\x1b[0mecret&secret", want: "***\x1b[96ms\x1b[0m***"},
		{name: "ps &+ twice", values: []string{"secret&+secret&+secret"}, in: "secret&+\x1b[96ms\x1b[0mecret&+secret", want: "***\x1b[96ms\x1b[0m***"},
		{name: "ps &+ & &+", values: []string{"secret&+secret&secret&+secret"}, in: "secret&+\x1b[96ms\x1b[0mecret&secret&+secret", want: "***\x1b[96ms\x1b[0m***"},
		{name: "ps &+ at end", values: []string{"secret&secret&+"}, in: "secret&secret&+\x1b[96m\x1b[0m", want: "***\x1b[96m\x1b[0m"},
		{name: "each line's encodings", values: []string{"first-line\nsecond-line"}, in: b64("second-line"), want: "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m Masker
			m.Add(tt.values...)
			if got := m.Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
