package expr

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		str     string // Eval
		value   any    // EvalValue
		literal bool
		exprs   int
	}{
		{name: "plain", src: "echo hello", str: "echo hello", value: "echo hello", literal: true},
		{name: "empty", src: "", str: "", value: "", literal: true},
		{name: "one expr", src: "${{ github.ref }}", str: "refs/heads/main", value: "refs/heads/main", exprs: 1},
		{name: "keeps type", src: "${{ matrix.node }}", str: "18", value: 18.0, exprs: 1},
		{name: "keeps bool", src: "  ${{ matrix.experimental }}\n", str: "  false\n", value: false, exprs: 1},
		{name: "keeps object", src: "${{ fromJSON('{\"a\":1}') }}", str: "{\n  \"a\": 1\n}", value: map[string]any{"a": 1.0}, exprs: 1},
		{name: "interpolated", src: "echo ${{ github.repository }} on ${{ matrix.os }}", str: "echo octo-org/octo-repo on ubuntu-latest", value: "echo octo-org/octo-repo on ubuntu-latest", exprs: 2},
		{name: "null is empty", src: "[${{ github.nope }}]", str: "[]", value: "[]", exprs: 1},
		{name: "bool text", src: "x=${{ 1 == 1 }}", str: "x=true", value: "x=true", exprs: 1},
		{name: "number text", src: "n=${{ 0.5 }}", str: "n=0.5", value: "n=0.5", exprs: 1},
		{name: "array as JSON", src: "a=${{ inputs.nums }}", str: "a=[\n  1,\n  2,\n  3\n]", value: "a=[\n  1,\n  2,\n  3\n]", exprs: 1},
		{name: "braces inside string", src: "${{ format('{{0}} {0}', 'x') }}", str: "{0} x", value: "{0} x", exprs: 1},
		{name: "}} inside string", src: "${{ '}}' }}!", str: "}}!", value: "}}!", exprs: 1},
		{name: "adjacent", src: "${{ 'a' }}${{ 'b' }}", str: "ab", value: "ab", exprs: 2},
		{name: "two with space", src: "${{ 'a' }} ${{ 'b' }}", str: "a b", value: "a b", exprs: 2},
		{name: "dollar alone", src: "cost: $5 {{ x }}", str: "cost: $5 {{ x }}", value: "cost: $5 {{ x }}", literal: true},
		{name: "no spaces", src: "${{github.event_name}}", str: "push", value: "push", exprs: 1},
		{name: "multiline", src: "a\n${{ 'b' }}\nc", str: "a\nb\nc", value: "a\nb\nc", exprs: 1},
	}
	s := testScope()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseTemplate(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.IsLiteral() != tc.literal {
				t.Errorf("IsLiteral() = %v", tmpl.IsLiteral())
			}
			if len(tmpl.Exprs()) != tc.exprs || len(tmpl.ExprOffsets()) != tc.exprs {
				t.Errorf("Exprs() has %d, want %d", len(tmpl.Exprs()), tc.exprs)
			}
			for i, off := range tmpl.ExprOffsets() {
				if !strings.HasSuffix(tc.src[:off], "${{") {
					t.Errorf("ExprOffsets()[%d] = %d does not follow ${{", i, off)
				}
			}
			if tmpl.String() != tc.src {
				t.Errorf("String() = %q", tmpl.String())
			}
			str, err := tmpl.Eval(s)
			if err != nil || str != tc.str {
				t.Errorf("Eval = %q, %v; want %q", str, err, tc.str)
			}
			v, err := tmpl.EvalValue(s)
			if err != nil || !reflect.DeepEqual(plain(v), tc.value) {
				t.Errorf("EvalValue = %#v, %v; want %#v", v, err, tc.value)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		off  int
		msg  string
	}{
		{name: "unclosed", src: "echo ${{ github.ref", off: 5, msg: "unclosed expression"},
		{name: "unclosed second", src: "${{ github.ref }} ${{ 'x }}", off: 18, msg: "unclosed expression"},
		{name: "empty", src: "x ${{ }}", off: 2, msg: "empty expression"},
		{name: "syntax inside", src: "echo ${{ github.ref == \"x\" }}", off: 23, msg: "strings use single quotes"},
		{name: "syntax in second", src: "${{ github.ref }}-${{ github.ref = 1 }}", off: 33, msg: "compare with =="},
		{name: "unknown function", src: "a ${{ nope() }}", off: 6, msg: `unknown function "nope"`},
		{name: "unknown context", src: "${{ foo }}", off: 4, msg: "unrecognized named-value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTemplate(tc.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseTemplate(%q) error = %v, want *Error", tc.src, err)
			}
			if e.Offset != tc.off || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("offset %d %q; want offset %d containing %q", e.Offset, e.Msg, tc.off, tc.msg)
			}
		})
	}
}

func TestTemplateEvalErrorOffset(t *testing.T) {
	t.Parallel()
	src := "run ${{ format('{3}') }}"
	tmpl, err := ParseTemplate(src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Eval(testScope())
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Eval error = %v, want *Error", err)
	}
	if want := strings.Index(src, "format"); e.Offset != want {
		t.Errorf("offset %d, want %d (the format call in the template)", e.Offset, want)
	}
	if _, err := tmpl.EvalValue(testScope()); err == nil {
		t.Error("EvalValue: want the same error")
	}
}

func TestToString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{in: nil, want: ""},
		{in: true, want: "true"},
		{in: false, want: "false"},
		{in: "s", want: "s"},
		{in: 0.0, want: "0"},
		{in: 1.0, want: "1"},
		{in: -1.5, want: "-1.5"},
		{in: 123456789012345.0, want: "123456789012345"},
		{in: 1234567890123456.0, want: "1.23456789012346E+15"},
		{in: 0.1 + 0.2, want: "0.3"},
		{in: 1.0 / 3, want: "0.333333333333333"},
		{in: 0.0001, want: "0.0001"},
		{in: 0.00001, want: "1E-05"},
		{in: 1e100, want: "1E+100"},
		{in: 42, want: "42"},
		{in: []any{"a"}, want: "[\n  \"a\"\n]"},
		{in: map[string]any{"b": 1.0, "a": []any{}}, want: "{\n  \"a\": [],\n  \"b\": 1\n}"},
		{in: map[string]string{"k": "v"}, want: "{\n  \"k\": \"v\"\n}"},
		{in: "tab\there", want: "tab\there"},
	}
	for _, tc := range tests {
		if got := ToString(tc.in); got != tc.want {
			t.Errorf("ToString(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		nan  bool
	}{
		{in: "", want: 0}, {in: "  ", want: 0}, {in: "1", want: 1}, {in: " 2 ", want: 2},
		{in: "-3.5", want: -3.5}, {in: "1e3", want: 1000}, {in: ".5", want: 0.5},
		{in: "0x1F", want: 31}, {in: "0o10", want: 8}, {in: "Infinity", want: math.Inf(1)}, {in: "-Infinity", want: math.Inf(-1)},
		{in: "abc", nan: true}, {in: "1_000", nan: true}, {in: "0x", nan: true}, {in: "0X10", nan: true},
		{in: "inf", nan: true}, {in: "1e", nan: true}, {in: "--1", nan: true}, {in: "0b1", nan: true},
		{in: "0x1p3", nan: true},
	}
	for _, tc := range tests {
		got := parseNumber(tc.in)
		if tc.nan {
			if got == got {
				t.Errorf("parseNumber(%q) = %v, want NaN", tc.in, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("parseNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
