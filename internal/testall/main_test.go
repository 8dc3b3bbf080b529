package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    options
		wantErr string
	}{
		{name: "defaults", want: options{fuzzTime: "100000x", timeout: 25 * time.Minute, packages: []string{"./..."}}},
		{name: "env fuzztime", env: map[string]string{"VERMONT_FUZZTIME": "3s"},
			want: options{fuzzTime: "3s", timeout: 25 * time.Minute, packages: []string{"./..."}}},
		{name: "flag beats env", args: []string{"-fuzztime=1s", "./vm/..."}, env: map[string]string{"VERMONT_FUZZTIME": "3s"},
			want: options{fuzzTime: "1s", timeout: 25 * time.Minute, packages: []string{"./vm/..."}}},
		{name: "skip fuzz locally", args: []string{"-skip-fuzz", "-no-install"},
			want: options{fuzzTime: "100000x", skipFuzz: true, noInstall: true, timeout: 25 * time.Minute, packages: []string{"./..."}}},
		{name: "skip fuzz refused in CI", args: []string{"-skip-fuzz"}, env: map[string]string{"CI": "true"}, wantErr: "refused under CI=true"},
		{name: "bad env fuzztime", env: map[string]string{"VERMONT_FUZZTIME": "soon"}, wantErr: `VERMONT_FUZZTIME="soon"`},
		{name: "count fuzztime", args: []string{"-fuzztime=500x"},
			want: options{fuzzTime: "500x", timeout: 25 * time.Minute, packages: []string{"./..."}}},
		{name: "zero fuzztime", args: []string{"-fuzztime=0s"}, wantErr: "want a positive count"},
		{name: "zero count", args: []string{"-fuzztime=0x"}, wantErr: "want a positive count"},
		{name: "bad count", args: []string{"-fuzztime=tenx"}, wantErr: "want a positive count"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			got, err := parseFlags(tt.args, &bytes.Buffer{}, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseFlags = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIsFuzzName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{name: "Fuzz", want: true},
		{name: "FuzzParse", want: true},
		{name: "Fuzz_x", want: true},
		{name: "Fuzzy", want: false},
		{name: "TestFuzz", want: false},
	}
	for _, tt := range tests {
		if got := isFuzzName(tt.name); got != tt.want {
			t.Errorf("isFuzzName(%q) = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestFuzzFuncs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `package p

import "testing"

func FuzzB(f *testing.F)            {}
func FuzzA(f *testing.F)            {}
func FuzzNotF(t *testing.T)         {}
func Fuzzy(f *testing.F)            {}
func FuzzTwo(f *testing.F, x int)   {}
type T struct{}
func (T) FuzzMethod(f *testing.F)   {}
func helperFuzz(f *testing.F)       {}
`
	path := filepath.Join(dir, "p_test.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := fuzzFuncs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"FuzzA", "FuzzB"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fuzzFuncs = %v, want %v", got, want)
	}
	bad := filepath.Join(dir, "bad_test.go")
	os.WriteFile(bad, []byte("package p\nfunc {"), 0o644)
	if _, err := fuzzFuncs([]string{bad}); err == nil || !strings.Contains(err.Error(), "bad_test.go") {
		t.Errorf("fuzzFuncs(bad) = %v, want a parse error naming the file", err)
	}
}

func TestSummaryExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		steps    map[string]error
		wantCode int
		wantOut  []string
	}{
		{name: "all pass", steps: map[string]error{"a": nil, "b": nil}, wantCode: 0, wantOut: []string{"PASS", "ok: all 2 steps"}},
		{name: "warning passes", steps: map[string]error{"a": warning{"missing runc"}}, wantCode: 0, wantOut: []string{"WARN", "missing runc"}},
		{name: "one failure", steps: map[string]error{"a": nil, "b": errors.New("boom")}, wantCode: 1, wantOut: []string{"FAIL", "boom", "1 of 2 steps failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			r := &runner{ctx: context.Background(), stdout: &out, stderr: &out}
			for _, name := range []string{"a", "b"} {
				if err, ok := tt.steps[name]; ok {
					r.step(name, func() (string, error) { return "", err })
				}
			}
			if code := r.summary(time.Second); code != tt.wantCode {
				t.Errorf("summary = %d, want %d", code, tt.wantCode)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q does not contain %q", out.String(), w)
				}
			}
		})
	}
}

func TestInterruptedStepFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	r := &runner{ctx: ctx, stdout: &out, stderr: &out}
	ran := false
	r.step("x", func() (string, error) { ran = true; return "", nil })
	if ran || r.summary(0) != 1 {
		t.Errorf("interrupted step ran=%t, want skipped and failed", ran)
	}
}
