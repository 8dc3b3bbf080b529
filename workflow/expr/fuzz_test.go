package expr

import (
	"errors"
	"math"
	"testing"
)

// seeds are the evaluation table's expressions plus syntax oddities.
func seeds(f *testing.F) {
	for _, tc := range evalCases {
		f.Add(tc.expr)
	}
	for _, s := range []string{
		"", "(", ")", "'", "a.", "a[", "!", "a.*.*[*]", `"x"`, "1.2.3", "0x", "-", "${{",
		"format('{0}}', 1)", "github.event.commits.*.author.name", "case(true)", "((((((1))))))",
	} {
		f.Add(s)
	}
}

// checkErr asserts err is an *Error whose offset lies within src.
func checkErr(t *testing.T, src string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %v (%T) is not an *Error", src, err, err)
	}
	if e.Offset < 0 || e.Offset > len(src) {
		t.Fatalf("%q: offset %d outside [0, %d]: %s", src, e.Offset, len(src), e.Msg)
	}
	if e.Msg == "" {
		t.Fatalf("%q: empty message", src)
	}
}

// FuzzParse: no panic, valid offsets, and String() round-trips.
func FuzzParse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse(src)
		if err != nil {
			checkErr(t, src, err)
			return
		}
		printed := n.String()
		n2, err := Parse(printed)
		if err != nil {
			t.Fatalf("%q printed as %q does not parse: %v", src, printed, err)
		}
		if !equalTrees(n, n2) {
			t.Fatalf("%q printed as %q parses to a different tree", src, printed)
		}
		if again := n2.String(); again != printed {
			t.Fatalf("printing is not stable: %q then %q", printed, again)
		}
	})
}

// FuzzEval: compiling and evaluating any input never panics, errors are
// positioned, and results are JSON-like values.
func FuzzEval(f *testing.F) {
	seeds(f)
	s := testScope()
	f.Fuzz(func(t *testing.T, src string) {
		if c, err := CompileCondition(src); err != nil {
			checkErr(t, src, err)
		} else if _, err := c.Eval(s); err != nil {
			checkErr(t, src, err)
		}
		cerr := Check(src)
		p, err := Compile(src)
		if (cerr == nil) != (err == nil) {
			t.Fatalf("%q: Check says %v but Compile says %v", src, cerr, err)
		}
		if err != nil {
			checkErr(t, src, err)
			return
		}
		v, err := p.Eval(s)
		if err != nil {
			checkErr(t, src, err)
			return
		}
		checkValue(t, src, v, 0)
		_ = ToString(v)
	})
}

func checkValue(t *testing.T, src string, v any, depth int) {
	t.Helper()
	if depth > 100 {
		t.Fatalf("%q: result nests too deeply", src)
	}
	switch x := v.(type) {
	case nil, bool, string:
	case float64:
		_ = math.IsNaN(x)
	case []any:
		for _, e := range x {
			checkValue(t, src, e, depth+1)
		}
	case map[string]any:
		for _, e := range x {
			checkValue(t, src, e, depth+1)
		}
	case *Object:
		for _, e := range x.All() {
			checkValue(t, src, e, depth+1)
		}
	default:
		t.Fatalf("%q: result %#v (%T) is not JSON-like", src, v, v)
	}
}

// FuzzTemplate: no panic, offsets inside the template, expression offsets
// pointing just after ${{.
func FuzzTemplate(f *testing.F) {
	for _, tc := range evalCases {
		f.Add("run ${{ " + tc.expr + " }} done")
	}
	for _, s := range []string{"", "${{", "}}", "${{ }}", "${{ '}}' }}", "a ${{ b", "${{ 1 }}${{ 2 }}", "$${{{ 1 }}}"} {
		f.Add(s)
	}
	s := testScope()
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := ParseTemplate(src)
		if err != nil {
			checkErr(t, src, err)
			return
		}
		for _, off := range tmpl.ExprOffsets() {
			if off < 3 || off > len(src) || src[off-3:off] != "${{" {
				t.Fatalf("%q: expression offset %d does not follow ${{", src, off)
			}
		}
		if _, err := tmpl.Eval(s); err != nil {
			checkErr(t, src, err)
		}
		if _, err := tmpl.EvalValue(s); err != nil {
			checkErr(t, src, err)
		}
	})
}
