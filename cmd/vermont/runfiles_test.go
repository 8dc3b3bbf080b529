package main

import (
	"flag"
	"strings"
	"testing"
)

// FuzzDotEnv: the NAME=VALUE files of --env-file, --var-file and
// --secret-file never panic, and an error never shows a value, which may be
// a secret: only positions and names.
func FuzzDotEnv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x y'\n", "C=\"a\\nb\"\n", "# c\n\nD=\n", "bad line\n", "E=\"open\n", "=x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		kvs, err := parseDotEnv("f.env", []byte(data))
		if err == nil {
			return
		}
		for _, line := range strings.Split(data, "\n") {
			_, v, ok := strings.Cut(line, "=")
			if v = strings.Trim(v, " \t\r\"'"); ok && len(v) >= 8 && strings.Contains(err.Error(), v) {
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
		args, err := parseRC(".vermontrc", []byte(data), fs)
		if err != nil || len(args) == 0 {
			return
		}
		name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if fs.Lookup(name) == nil {
			t.Fatalf("args %q start with an unknown flag", args)
		}
	})
}
