package expr

import (
	"errors"
	"strings"
	"testing"
)

// docs: Workflow syntax > jobs.<job_id>.if — without a status check
// function, success() is implied; ${{ }} around the condition is optional.
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
		{name: "wrapped with space", src: "  ${{ matrix.os }}  ", want: "ubuntu-latest"},
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
		{src: "${{ 1 }} && ${{ 2 }}", off: 0, msg: "unexpected character '$'"},
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
