package runfiles

import (
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestParseDotEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string
		wantErr  string
	}{
		{name: "forms", in: "A=1\n  B = two words \nC=\"x\\ny\"\nD='raw \\n'\nE=v # c\n\n#x=1\n",
			want: map[string]string{"A": "1", "B": "two words", "C": "x\ny", "D": `raw \n`, "E": "v"}},
		{name: "no equals", in: "A=1\nnonsense\n", wantErr: ".env:2:1: want KEY=VALUE"},
		{name: "unterminated", in: "A=1\n  KEY=\"open\n", wantErr: ".env:2:7: KEY: unterminated double quote"},
		{name: "all errors", in: "x\ny\n", wantErr: ".env:1:1: want KEY=VALUE\n.env:2:1: want KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDotEnv(".env", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// FuzzDotEnv: the NAME=VALUE files of --env-file, --var-file and
// --secret-file never panic, and an error never shows a value, which may be
// a secret: only positions and names.
func FuzzDotEnv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x y'\n", "C=\"a\\nb\"\n", "# c\n\nD=\n", "bad line\n", "E=\"open\n", "=x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		kvs, err := ParseDotEnv("f.env", []byte(data))
		if err == nil {
			return
		}
		// Names may be shown; take them out (a value may repeat one), then
		// look for values.
		lines := strings.Split(data, "\n")
		msg := err.Error()
		for _, line := range lines {
			if k, _, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) != "" {
				msg = strings.ReplaceAll(msg, strings.TrimSpace(k), "")
			}
		}
		for _, line := range lines {
			_, v, ok := strings.Cut(line, "=")
			if v = strings.Trim(v, " \t\r\"'"); ok && len(v) >= 8 && strings.Contains(msg, v) {
				t.Fatalf("error %q shows the value %q", err, v)
			}
		}
		_ = kvs
	})
}

// FuzzRC: .vermontrc lines never panic; each accepted line gives a known
// flag first.
func FuzzRC(f *testing.F) {
	for _, s := range []string{"-c 2\n", "--env A=1\n# x\n", "--json\n", "nope\n", "--x y\n", "  -C  dir \n"} {
		f.Add(s)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Int("c", 0, "")
	fs.String("env", "", "")
	fs.Bool("json", false, "")
	fs.String("C", "", "")
	f.Fuzz(func(t *testing.T, data string) {
		args, err := ParseRC(".vermontrc", []byte(data), fs)
		if err != nil || len(args) == 0 {
			return
		}
		name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if fs.Lookup(name) == nil {
			t.Fatalf("args %q start with an unknown flag", args)
		}
	})
}
