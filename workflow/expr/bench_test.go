package expr

import "testing"

// typicalIf is a job or step condition of the usual shape.
const typicalIf = "github.event_name == 'push' && contains(github.ref, 'refs/heads/main') && matrix.os != 'windows'"

func benchScope() *Scope {
	return &Scope{Contexts: map[string]any{
		"github": map[string]any{"event_name": "push", "ref": "refs/heads/main", "repository": "vermont-ci/vermont"},
		"matrix": map[string]any{"os": "ubuntu-latest", "go": "1.26"},
	}}
}

// BenchmarkCompileIf measures parse + check + compile of a typical if:.
func BenchmarkCompileIf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(typicalIf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckIf measures parse + check without building the VM program.
func BenchmarkCheckIf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(typicalIf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalIf measures one evaluation of a compiled typical if:.
func BenchmarkEvalIf(b *testing.B) {
	p, err := Compile(typicalIf)
	if err != nil {
		b.Fatal(err)
	}
	s := benchScope()
	b.ReportAllocs()
	for b.Loop() {
		v, err := p.Eval(s)
		if err != nil || v != true {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkEvalIfParallel evaluates the same program from many goroutines,
// as parallel jobs do.
func BenchmarkEvalIfParallel(b *testing.B) {
	p, err := Compile(typicalIf)
	if err != nil {
		b.Fatal(err)
	}
	s := benchScope()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Eval(s); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTemplate measures interpolation of a run: line.
func BenchmarkTemplate(b *testing.B) {
	t, err := ParseTemplate("echo ${{ github.repository }} on ${{ matrix.os }} with go ${{ matrix.go }}")
	if err != nil {
		b.Fatal(err)
	}
	s := benchScope()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Eval(s); err != nil {
			b.Fatal(err)
		}
	}
}
