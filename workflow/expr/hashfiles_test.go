package expr

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// sha256Of returns GitHub's hashFiles result for the given file contents in
// path order: the SHA-256 of the concatenated SHA-256 digests.
func sha256Of(contents ...string) string {
	all := sha256.New()
	for _, c := range contents {
		sum := sha256.Sum256([]byte(c))
		all.Write(sum[:])
	}
	return hex.EncodeToString(all.Sum(nil))
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestHashFiles(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"package-lock.json":         "root lock",
		"app/package-lock.json":     "app lock",
		"app/node_modules/x/a.json": "dep",
		"Gemfile.lock":              "gems",
		"src/main.go":               "package main",
		"src/util/util.go":          "package util",
		"src/util/util_test.go":     "package util_test",
		".hidden/conf.txt":          "hidden",
		"docs/readme.md":            "docs",
		"docs/sub/deeper/page.md":   "page",
		"weird name/with space.txt": "space",
	})
	outside := writeTree(t, map[string]string{"secret.txt": "outside"})
	tests := []struct {
		name     string
		patterns []string
		want     string
	}{
		// docs: Functions > hashFiles — '**/package-lock.json' matches at any depth.
		{name: "docs package-lock", patterns: []string{"**/package-lock.json"}, want: sha256Of("app lock", "root lock")},
		// docs: several patterns.
		{name: "docs two patterns", patterns: []string{"**/package-lock.json", "**/Gemfile.lock"}, want: sha256Of("gems", "app lock", "root lock")},
		// docs: "!" excludes.
		{name: "negation", patterns: []string{"src/**", "!src/**/*_test.go"}, want: sha256Of("package main", "package util")},
		{name: "negation then include again", patterns: []string{"src/**", "!src/util/**", "src/util/util.go"}, want: sha256Of("package main", "package util")},
		{name: "single file", patterns: []string{"Gemfile.lock"}, want: sha256Of("gems")},
		{name: "star one segment", patterns: []string{"src/*.go"}, want: sha256Of("package main")},
		{name: "directory includes descendants", patterns: []string{"docs"}, want: sha256Of("docs", "page")},
		{name: "question mark", patterns: []string{"docs/readm?.md"}, want: sha256Of("docs")},
		{name: "dot files match", patterns: []string{"**/*.txt", "!weird name/**"}, want: sha256Of("hidden")},
		{name: "space in name", patterns: []string{"weird name/*.txt"}, want: sha256Of("space")},
		{name: "newline separated", patterns: []string{"Gemfile.lock\n# comment\n\nsrc/main.go"}, want: sha256Of("gems", "package main")},
		{name: "no match", patterns: []string{"**/*.rs"}, want: ""},
		{name: "only negation", patterns: []string{"!**/*.go"}, want: ""},
		{name: "outside root ignored", patterns: []string{"../**", filepath.Join(outside, "secret.txt")}, want: ""},
		{name: "absolute inside root", patterns: []string{filepath.Join(root, "Gemfile.lock")}, want: sha256Of("gems")},
		{name: "dot dot back inside", patterns: []string{"src/../Gemfile.lock"}, want: sha256Of("gems")},
		{name: "directories never hashed", patterns: []string{"src/util"}, want: sha256Of("package util", "package util_test")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := HashFiles(root, tc.patterns)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("HashFiles(%q) = %q, want %q", tc.patterns, got, tc.want)
			}
		})
	}
}

func TestHashFilesBadPattern(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"a": "a"})
	if _, err := HashFiles(root, []string{"[a"}); err == nil {
		t.Error("HashFiles([a) succeeded, want a bad pattern error")
	}
}

// TestHashFilesInExpression wires HashFiles into a Scope as callers do.
func TestHashFilesInExpression(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"go.sum": "sums", "sub/go.sum": "more"})
	s := &Scope{HashFiles: func(p []string) (string, error) { return HashFiles(root, p) }}
	p, err := Compile("format('deps-{0}', hashFiles('**/go.sum'))")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Eval(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := "deps-" + sha256Of("sums", "more"); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestHashFilesFold covers Windows matching, which ignores case.
func TestHashFilesFold(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"Src/Main.GO": "main", "src2/x.go": "x"})
	got, err := hashFiles(root, []string{"src/*.go"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256Of("main"); got != want {
		t.Errorf("folded = %q, want %q", got, want)
	}
	got, err = hashFiles(root, []string{"src/*.go"}, false)
	if err != nil || got != "" {
		t.Errorf("unfolded = %q, %v; want no match", got, err)
	}
}
