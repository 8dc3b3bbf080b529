package exec

import "testing"

func TestMasker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		in     string
		want   string
	}{
		{name: "none", in: "hello", want: "hello"},
		{name: "simple", values: []string{"s3cret"}, in: "token=s3cret!", want: "token=***!"},
		{name: "twice", values: []string{"s3cret"}, in: "s3cret s3cret", want: "*** ***"},
		{name: "longest first", values: []string{"abc", "abcdef"}, in: "x abcdef y abc", want: "x *** y ***"},
		{name: "multi-line value masks each line", values: []string{"line-one\nline-two"}, in: "got line-two here", want: "got *** here"},
		{name: "too short is ignored", values: []string{"a"}, in: "banana", want: "banana"},
		{name: "blank is ignored", values: []string{"  "}, in: "a  b", want: "a  b"},
		{name: "crlf", values: []string{"one1\r\ntwo2\r\n"}, in: "one1,two2", want: "***,***"},
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

func TestMaskerNil(t *testing.T) {
	var m *Masker
	if got := m.Mask("x"); got != "x" {
		t.Fatalf("nil masker changed input: %q", got)
	}
}
