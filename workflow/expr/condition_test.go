package expr

import (
	"errors"
	"strings"
	"testing"
)

// docs: Workflow syntax > jobs.<job_id>.if — without a status check
// function, success() is implied; ${{ }} around the condition is optional.
// Text around ${{ }} makes the value a format string, as actions/runner's
// src/Sdk/WorkflowParser/ObjectTemplating/TemplateReader.cs ParseScalar
// builds it; a lone ${{ 'text' }} is the expression text.
func TestCompileCondition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		src               string
		failed, cancelled bool
		want              any
		str               string
	}{
		{name: "plain true", src: "github.event_name == 'push'", want: true, str: "success() && github.event_name == 'push'"},
		{name: "wrapped", src: "${{ github.event_name == 'push' }}", want: true, str: "success() && github.event_name == 'push'"},
		{name: "spaces around make a format string", src: "  ${{ matrix.os }}  ", want: "  ubuntu-latest  ", str: "success() && format('  {0}  ', matrix.os)"},
		{name: "text after the expression is truthy", src: "${{ false }} && false", want: "false && false", str: "success() && format('{0} && false', false)"},
		{name: "two expressions", src: "${{ 1 }} && ${{ 2 }}", want: "1 && 2"},
		{name: "braces and quotes in the text", src: "{x} it's ${{ 'a' }}", want: "{x} it's a"},
		{name: "block scalar newline", src: "${{ false }}\n", want: "false\n"},
		{name: "status function inside a format", src: "${{ failure() }} x", failed: true, want: "true x"},
		{name: "lone string literal is the expression", src: "${{ 'github.event_name == ''push''' }}", want: true, str: "success() && github.event_name == 'push'"},
		{name: "lone false literal string", src: "${{ 'false' }}", want: false},
		{name: "lone expression", src: "${{ false }}", want: false},
		{name: "implicit success after failure", src: "github.event_name == 'push'", failed: true, want: false},
		{name: "always runs after failure", src: "always() && github.event_name == 'push'", failed: true, want: true, str: "always() && github.event_name == 'push'"},
		{name: "failure()", src: "${{ failure() }}", failed: true, want: true},
		{name: "cancelled skips", src: "true", cancelled: true, want: false},
		{name: "or keeps grouping", src: "false || true", want: true, str: "success() && (false || true)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := CompileCondition(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			s := testScope()
			s.Failed, s.Cancelled = tc.failed, tc.cancelled
			got, err := p.Eval(s)
			if err != nil || got != tc.want {
				t.Errorf("Eval = %#v, %v; want %#v", got, err, tc.want)
			}
			if !p.UsesStatus() {
				t.Error("UsesStatus() = false for a condition")
			}
			if tc.str != "" && p.String() != tc.str {
				t.Errorf("String() = %q, want %q", p.String(), tc.str)
			}
		})
	}
}

func TestCompileConditionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src string
		off int
		msg string
	}{
		{src: "github.ref == \"x\"", off: 14, msg: "single quotes"},
		{src: "${{ github.ref == \"x\" }}", off: 18, msg: "single quotes"},
		{src: "  ${{ nope() }}", off: 6, msg: `unknown function "nope"`},
		{src: "a ${{ nope() }}", off: 6, msg: `unknown function "nope"`},
		{src: "a ${{ 1 ", off: 2, msg: "unclosed expression"},
		{src: "a ${{  }}", off: 2, msg: "empty expression"},
		{src: "${{ 'a ==' }}", off: 4, msg: "expected"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			_, err := CompileCondition(tc.src)
			var e *Error
			if !errors.As(err, &e) || e.Offset != tc.off || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("CompileCondition(%q) error = %v; want offset %d containing %q", tc.src, err, tc.off, tc.msg)
			}
		})
	}
}
