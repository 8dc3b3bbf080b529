package exec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

// TestCompileMatcher checks the runner's validation rules and messages
// (IssueMatcherConfig.Validate and IssuePatternConfig.Validate in
// actions/runner src/Runner.Worker/IssueMatcher.cs at 258d6c8).
func TestCompileMatcher(t *testing.T) {
	t.Parallel()
	msg := patternConfig{Regexp: "^(.*)$", Message: intp(1)}
	tests := []struct {
		name    string
		config  matcherConfig
		wantErr string
	}{
		{name: "valid", config: matcherConfig{Owner: "x", Patterns: []patternConfig{msg}}},
		{name: "severity any case", config: matcherConfig{Owner: "x", Severity: "Warning", Patterns: []patternConfig{msg}}},
		{name: "no owner", config: matcherConfig{Patterns: []patternConfig{msg}}, wantErr: "Owner must not be empty"},
		{name: "bad severity", config: matcherConfig{Owner: "x", Severity: "info", Patterns: []patternConfig{msg}},
			wantErr: "Matcher 'x' contains unexpected default severity 'info'"},
		{name: "no patterns", config: matcherConfig{Owner: "x"}, wantErr: "Matcher 'x' does not contain any patterns"},
		{name: "loop on a single pattern", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(.*)", Message: intp(1), Loop: true}}},
			wantErr: "Only the last pattern in a multiline matcher may set 'loop'"},
		{name: "loop not last", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a)", File: intp(1)}, {Regexp: "(b)", Line: intp(1), Loop: true}, {Regexp: "(.*)", Message: intp(1)}}},
			wantErr: "Only the last pattern in a multiline matcher may set 'loop'"},
		{name: "loop without message", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a)", Message: intp(1)}, {Regexp: "(b)", Line: intp(1), Loop: true}}},
			wantErr: "The loop pattern must set 'message'"},
		{name: "set twice", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a)", File: intp(1)}, {Regexp: "(b)(c)", File: intp(1), Message: intp(2)}}},
			wantErr: "The property 'file' is set twice"},
		{name: "group out of range", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a)", Message: intp(2)}}},
			wantErr: "The property 'message' is set to 2 which is out of range"},
		{name: "negative group", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a)", Message: intp(-1)}}},
			wantErr: "The property 'message' is set to -1 which is out of range"},
		{name: "group 0 is the whole match", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "a", Message: intp(0)}}}},
		{name: "no message", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a)", File: intp(1)}}},
			wantErr: "At least one pattern must set 'message'"},
		{name: "bad regexp", config: matcherConfig{Owner: "x", Patterns: []patternConfig{{Regexp: "(a", Message: intp(0)}}},
			wantErr: "Matcher 'x': pattern 1: error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := compileMatcher(tt.config)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("compileMatcher: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("compileMatcher error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseMatcherFileDuplicateOwner(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "m.json")
	src := `{"problemMatcher":[{"owner":"Go","pattern":[{"regexp":"(.*)","message":1}]},{"owner":"go","pattern":[{"regexp":"(.*)","message":1}]}]}`
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseMatcherFile(p); err == nil || err.Error() != "Duplicate owner name 'go'" {
		t.Fatalf("parseMatcherFile error = %v", err)
	}
}

// TestIssueMatcherMatch feeds line sequences to matchers and checks what
// each line completes, following IssueMatcher.Match: a multi-line match
// needs its patterns on consecutive lines, a loop pattern keeps the
// running match for the next lines, and defaults fill in.
func TestIssueMatcherMatch(t *testing.T) {
	t.Parallel()
	stylish := matcherConfig{Owner: "eslint-stylish", Patterns: []patternConfig{
		{Regexp: `^([^\s].*)$`, File: intp(1)},
		{Regexp: `^\s+(\d+):(\d+)\s+(error|warning|info)\s+(.*)\s\s+(.*)$`, Line: intp(1), Column: intp(2), Severity: intp(3), Message: intp(4), Code: intp(5), Loop: true},
	}}
	three := matcherConfig{Owner: "three", Severity: "notice", FromPath: "sub/pkg.json", Patterns: []patternConfig{
		{Regexp: `^FILE (\S+)$`, File: intp(1)},
		{Regexp: `^LINE (\d+)$`, Line: intp(1)},
		{Regexp: `^MSG (.*)$`, Message: intp(1)},
	}}
	tests := []struct {
		name   string
		config matcherConfig
		lines  []string
		want   []string // per line: "" for no match, else file|line|col|severity|code|message|fromPath
	}{
		{name: "single", config: matcherConfig{Owner: "go", Patterns: []patternConfig{{Regexp: `^(\S+\.go):(\d+):(\d+): (.*)$`, File: intp(1), Line: intp(2), Column: intp(3), Message: intp(4)}}},
			lines: []string{"a.go:1:2: boom", "nothing"}, want: []string{"a.go|1|2|||boom|", ""}},
		{name: "loop", config: stylish,
			lines: []string{"src/a.js", "  1:5  error  unused  no-unused-vars", "  2:1  warning  semi  semi", "", "  3:1  error  after a break  x"},
			want:  []string{"", "src/a.js|1|5|error|no-unused-vars|unused|", "src/a.js|2|1|warning|semi|semi|", "", ""}},
		{name: "three lines with defaults", config: three,
			lines: []string{"FILE a.c", "LINE 7", "MSG bad", "MSG alone"},
			want:  []string{"", "", "a.c|7||notice||bad|sub/pkg.json", ""}},
		{name: "broken sequence", config: three,
			lines: []string{"FILE a.c", "other", "LINE 7", "MSG bad"},
			want:  []string{"", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := compileMatcher(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range tt.lines {
				got := ""
				if im := m.match(line); im != nil {
					got = strings.Join(im.value[:], "|")
				}
				if got != tt.want[i] {
					t.Errorf("line %d %q: got %q, want %q", i, line, got, tt.want[i])
				}
			}
		})
	}
}

// FuzzMatcher compiles any matcher JSON and runs it over lines: no panic,
// and a match always carries a message.
func FuzzMatcher(f *testing.F) {
	for _, name := range []string{"go.json", "eslint-stylish.json", "python.json", "bad-severity.json"} {
		src, err := os.ReadFile(filepath.Join("..", "testdata", "matchers", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, "./main.go:1:2: boom\nsrc/a.js\n  1:5  error  unused  no-unused-vars\n")
	}
	f.Fuzz(func(t *testing.T, src []byte, text string) {
		var mf matcherFile
		if json.Unmarshal(src, &mf) != nil {
			return
		}
		ms, err := compileMatchers(mf)
		if err != nil {
			return
		}
		for _, line := range strings.Split(text, "\n") {
			for _, m := range ms {
				if im := m.match(line); im != nil && !im.set[propMessage] {
					t.Fatalf("match without a message: %+v", im)
				}
			}
		}
	})
}
