package expr_test

import (
	"fmt"

	"github.com/vermont-ci/vermont/workflow/expr"
)

// Compile an if: condition once, then evaluate it for each job.
func Example() {
	prog, err := expr.Compile("github.event_name == 'push' && contains(github.ref, 'refs/heads/main') && matrix.os != 'windows'")
	if err != nil {
		fmt.Println(err)
		return
	}
	scope := &expr.Scope{Contexts: map[string]any{
		"github": map[string]any{"event_name": "push", "ref": "refs/heads/main"},
		"matrix": map[string]any{"os": "ubuntu-latest"},
	}}
	v, err := prog.Eval(scope)
	fmt.Println(v, err, prog.Contexts(), prog.UsesStatus())
	// Output: true <nil> [github matrix] false
}

// Interpolate a run: script.
func ExampleParseTemplate() {
	t, err := expr.ParseTemplate("echo ${{ format('{0} on {1}', github.repository, matrix.os) }} ${{ matrix.node > 16 }}")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := t.Eval(&expr.Scope{Contexts: map[string]any{
		"github": map[string]any{"repository": "octo-org/octo-repo"},
		"matrix": map[string]any{"os": "linux", "node": 18.0},
	}})
	fmt.Println(s)
	// Output: echo octo-org/octo-repo on linux true
}

// Syntax errors carry the offset of the offending token.
func ExampleParse_error() {
	_, err := expr.Parse(`github.ref == "main"`)
	fmt.Println(err)
	// Output: col 15: unexpected character '"': strings use single quotes, like 'text' (write '' for a quote inside)
}

// An if: without a status check function means success() && (...).
func ExampleCompileCondition() {
	p, _ := expr.CompileCondition("${{ github.ref == 'refs/heads/main' }}")
	fmt.Println(p)
	v, _ := p.Eval(&expr.Scope{Failed: true, Contexts: map[string]any{"github": map[string]any{"ref": "refs/heads/main"}}})
	fmt.Println(v)
	// Output:
	// success() && github.ref == 'refs/heads/main'
	// false
}
