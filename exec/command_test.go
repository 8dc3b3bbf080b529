package exec

import (
	"reflect"
	"testing"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want workflowCommand
		ok   bool
	}{
		{name: "plain line", line: "hello", ok: false},
		{name: "unterminated", line: "::warning missing", ok: false},
		{name: "empty name", line: "::::x", ok: false},
		{name: "debug", line: "::debug::hi there", want: workflowCommand{Name: "debug", Data: "hi there"}, ok: true},
		{name: "leading space", line: "  ::endgroup::", want: workflowCommand{Name: "endgroup"}, ok: true},
		{name: "props", line: "::error file=app.js,line=10,col=15,title=Bad%3A thing::Something went wrong",
			want: workflowCommand{Name: "error", Props: map[string]string{"file": "app.js", "line": "10", "col": "15", "title": "Bad: thing"}, Data: "Something went wrong"}, ok: true},
		{name: "data escapes", line: "::notice::100%25 done%0Anext", want: workflowCommand{Name: "notice", Data: "100% done\nnext"}, ok: true},
		{name: "data keeps colons", line: "::add-mask::a::b", want: workflowCommand{Name: "add-mask", Data: "a::b"}, ok: true},
		{name: "property comma", line: "::set-output name=a%2Cb::v", want: workflowCommand{Name: "set-output", Props: map[string]string{"name": "a,b"}, Data: "v"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseCommand(tt.line)
			if ok != tt.ok {
				t.Fatalf("parseCommand(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseCommand(%q) = %#v, want %#v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseKeyValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []keyValue
		wantErr string
	}{
		{name: "empty", in: ""},
		{name: "simple", in: "a=1\nb=two=2\n", want: []keyValue{{"a", "1"}, {"b", "two=2"}}},
		{name: "empty value", in: "a=\n", want: []keyValue{{"a", ""}}},
		{name: "heredoc", in: "JSON<<EOF\n{\n  \"a\": 1\n}\nEOF\nz=9\n", want: []keyValue{{"JSON", "{\n  \"a\": 1\n}"}, {"z", "9"}}},
		{name: "heredoc with = in value", in: "v<<X\na=b\nX\n", want: []keyValue{{"v", "a=b"}}},
		{name: "crlf", in: "a=1\r\nm<<E\r\nx\r\nE\r\n", want: []keyValue{{"a", "1"}, {"m", "x"}}},
		{name: "unterminated heredoc", in: "a<<EOF\nxx\n", wantErr: `f:1: matching delimiter "EOF" not found for "a"`},
		{name: "garbage", in: "a=1\nnonsense\n", wantErr: `f:2: invalid format "nonsense": want NAME=value or NAME<<DELIMITER`},
		{name: "empty name", in: "=x\n", wantErr: `f:1: invalid format "=x": the name is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseKeyValues("f", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestShellArgv(t *testing.T) {
	t.Parallel()
	have := func(string) bool { return true }
	tests := []struct {
		shell string
		goos  string
		want  []string
	}{
		{shell: "", goos: "linux", want: []string{"bash", "-e", "/t/s.sh"}},
		{shell: "bash", goos: "linux", want: []string{"bash", "--noprofile", "--norc", "-eo", "pipefail", "/t/s.sh"}},
		{shell: "sh", goos: "linux", want: []string{"sh", "-e", "/t/s.sh"}},
		{shell: "python", goos: "linux", want: []string{"python", "/t/s.sh"}},
		{shell: "pwsh", goos: "linux", want: []string{"pwsh", "-command", ". '/t/s.sh'"}},
		{shell: "perl -w {0}", goos: "linux", want: []string{"perl", "-w", "/t/s.sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			t.Parallel()
			s, err := resolveShell(tt.shell, tt.goos, have)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.argv("/t/s.sh"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("argv = %q, want %q", got, tt.want)
			}
		})
	}
	if s, _ := resolveShell("", "linux", func(string) bool { return false }); s.Template != "sh -e {0}" {
		t.Errorf("no bash: got %q, want sh -e {0}", s.Template)
	}
	if _, err := resolveShell("fish", "linux", have); err == nil {
		t.Error("unknown shell without {0} accepted")
	}
}

// BenchmarkCommandFiles measures making and removing one step's workflow
// command files (a directory and five empty files), which every step pays.
func BenchmarkCommandFiles(b *testing.B) {
	j := &jobRun{temp: b.TempDir()}
	for range b.N {
		c, err := j.newCommandFiles()
		if err != nil {
			b.Fatal(err)
		}
		c.remove()
	}
}

// BenchmarkCommandFilesReused measures what a step pays now, after a step
// that wrote nothing to them (most steps): checking the job's five command
// files are still empty plain files.
func BenchmarkCommandFilesReused(b *testing.B) {
	j := &jobRun{temp: b.TempDir()}
	for range b.N {
		if _, err := j.stepFiles(); err != nil {
			b.Fatal(err)
		}
	}
}
