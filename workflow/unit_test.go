package workflow

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Reference
		wantErr string
	}{
		{in: "actions/checkout@v4", want: Reference{Kind: RepoRef, Owner: "actions", Repo: "checkout", Ref: "v4"}},
		{in: "actions/aws/ec2@main", want: Reference{Kind: RepoRef, Owner: "actions", Repo: "aws", Path: "ec2", Ref: "main"}},
		{in: "o/r/a/b@8f4b7f84864484a7bf31766abe9204da3cbe65b3", want: Reference{Kind: RepoRef, Owner: "o", Repo: "r", Path: "a/b", Ref: "8f4b7f84864484a7bf31766abe9204da3cbe65b3"}},
		{in: "o/r@release/1.x", want: Reference{Kind: RepoRef, Owner: "o", Repo: "r", Ref: "release/1.x"}},
		{in: "./.github/actions/x", want: Reference{Kind: LocalRef, Path: ".github/actions/x"}},
		{in: "./", want: Reference{Kind: LocalRef, Path: ""}},
		{in: "$/.github/actions/x", want: Reference{Kind: SelfRef, Path: ".github/actions/x"}},
		{in: "$/./actions/x/", want: Reference{Kind: SelfRef, Path: "actions/x"}},
		{in: "docker://alpine:3.20", want: Reference{Kind: DockerRef, Image: "alpine:3.20"}},
		{in: "docker://ghcr.io/o/i@sha256:abc", want: Reference{Kind: DockerRef, Image: "ghcr.io/o/i@sha256:abc"}},
		{in: "actions/checkout", wantErr: "needs a version"},
		{in: "checkout@v1", wantErr: "not a valid action"},
		{in: "o/r@", wantErr: "empty ref"},
		{in: "o/r@a@b", wantErr: "more than one @"},
		{in: "./x@v1", wantErr: "cannot have an @ref"},
		{in: "$/x@v1", wantErr: "cannot have an @ref"},
		{in: "docker://", wantErr: "bad docker image"},
		{in: "o/${{ x }}@v1", wantErr: "cannot contain expressions"},
		{in: "", wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseReference(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			if back, err := ParseReference(got.String()); err != nil || back != got {
				t.Errorf("round trip via %q gave %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseWorkflowReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"./.github/workflows/build.yml", true},
		{"$/.github/workflows/build.yaml", true},
		{"o/r/.github/workflows/build.yml@v1", true},
		{"o/r/.github/workflows/BUILD.YML@v1", true},
		{"o/r/.github/workflows/sub/build.yml@v1", false},
		{"o/r/x/.github/workflows/build.yml@v1", false},
		{"./.github/workflows/build.json", false},
		{"o/r@v1", false},
		{"docker://alpine", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseWorkflowReference(tt.in); (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCheckCron(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr string
	}{
		{"* * * * *", ""},
		{"*/5 * * * *", ""},
		{"0 0-23/2 1,15 * *", ""},
		{"0 0 * jan-MAR sun", ""},
		{"0 0 L * *", "bad day of month"},
		{"0 0 * * 0-6/2", ""},
		{"  1   2 3 4 5  ", ""},
		{"* * * *", "4 fields"},
		{"* * * * * *", "6 fields"},
		{"-1 * * * *", "bad minute"},
		{"1-70 * * * *", "out of range"},
		{"1/x * * * *", "bad step"},
		{"0 0 * * SUN-MON-TUE", "bad day of week"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			err := checkCron(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %q", err.msg)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.msg, tt.wantErr)):
				t.Errorf("err = %+v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"runs_on", `; did you mean "runs-on"?`},
		{"stpes", `; did you mean "steps"?`},
		{"x", ""},
		{"completely-different", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := suggest(tt.in, jobKeys); got != tt.want {
				t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorList(t *testing.T) {
	t.Parallel()
	var l ErrorList
	if l.Err() != nil {
		t.Fatal("empty list: Err() != nil")
	}
	l.Add("b.yml", Pos{1, 1}, KindKey, "m")
	l.Add("a.yml", Pos{2, 1}, KindKey, "z")
	l.Add("a.yml", Pos{1, 5}, KindKey, "y")
	l.Add("a.yml", Pos{2, 1}, KindKey, "z")
	l.Sort()
	want := "a.yml:1:5: y [key]\na.yml:2:1: z [key]\nb.yml:1:1: m [key]"
	if got := l.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var target ErrorList
	if err := l.Err(); !errors.As(err, &target) || len(target) != 3 {
		t.Errorf("errors.As to ErrorList failed: %v", err)
	}
}

// TestExpressionPositions checks that errors inside expressions point at the
// offending character for each YAML scalar style.
func TestExpressionPositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string // the value of env.X, as written after "  X: "
		want Pos
	}{
		{"plain", "${{ a == }}", Pos{3, 15}},
		{"plain prefix", "abc ${{ ) }}", Pos{3, 14}},
		{"double quoted", `"${{ ) }}"`, Pos{3, 11}},
		{"double quoted escape", `"\t${{ ) }}"`, Pos{3, 13}},
		{"single quoted", `'it''s ${{ ) }}'`, Pos{3, 17}},
		{"literal", "|\n    first\n    x ${{ ) }}", Pos{5, 11}},
		{"literal kept indent", "|\n    first\n      x ${{ ) }}", Pos{5, 13}},
		{"folded", ">\n    first\n    x ${{ ) }}", Pos{5, 11}},
		{"plain multi-line", "a\n    b ${{ ) }}", Pos{4, 11}},
		{"unicode before", "é ${{ ) }}", Pos{3, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "on: push\nenv:\n  X: " + tt.env + triggerJobs
			_, err := Parse("p.yml", []byte(src))
			var l ErrorList
			if !errors.As(err, &l) || len(l) != 1 {
				t.Fatalf("want one diagnostic, got %v", err)
			}
			if l[0].Pos != tt.want || l[0].Kind != KindExpression {
				t.Errorf("got %v, want position %v", l[0], tt.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	semantic := "on: push\njobs:\n  a:\n    runs-on: x\n    if: secret.X\n    steps: [{run: 'echo ${{ foo(1) }}'}]\n"
	syntax := "on: push\njobs:\n  a:\n    runs-on: x\n    if: a ==\n    steps: [{run: echo}]\n"
	bomb := "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n    strategy:\n      matrix:\n" +
		"        a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
		"        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n" +
		"        f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	tests := []struct {
		name  string
		opts  []Option
		src   string
		wants []string // substrings, one per expected diagnostic
	}{
		// The default checks syntax and, at the keys of GitHub's context
		// availability table, the contexts named; unknown functions only
		// compiling finds.
		{"default checks syntax and availability", nil, semantic, []string{`5:9: Unrecognized named-value: 'secret'`}},
		{"compiled expressions", []Option{WithCompiledExpressions()}, semantic, []string{`5:9: Unrecognized named-value: 'secret'`, `6:29: invalid expression: unknown function "foo"`}},
		{"syntax error", nil, syntax, []string{"5:13: invalid expression"}},
		{"without expression check", []Option{WithoutExpressionCheck()}, syntax, nil},
		{"alias bomb", nil, bomb, []string{"document too complex"}},
		{"alias budget", []Option{WithMaxAliases(1 << 20)}, "on: push\nx: &x {run: echo}\njobs:\n  a:\n    runs-on: x\n    steps: [*x, *x]\n", []string{`unknown key "x" in workflow`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewParser(tt.opts...).Parse("o.yml", []byte(tt.src))
			var l ErrorList
			errors.As(err, &l)
			if len(l) != len(tt.wants) {
				t.Fatalf("got %d diagnostics, want %d:\n%v", len(l), len(tt.wants), err)
			}
			for i, w := range tt.wants {
				if !strings.Contains(l[i].Error(), w) {
					t.Errorf("diagnostic %d = %q, want it to contain %q", i, l[i].Error(), w)
				}
			}
		})
	}
}
