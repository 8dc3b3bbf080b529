package expr

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// HashFiles implements hashFiles() as GitHub does: patterns are globs
// relative to root (the workspace), one per line within each argument;
// "#" lines are comments; a leading "!" excludes, and the last pattern
// that matches a file decides; "*" and "?" stay within a path segment, "**"
// spans any number of segments; a pattern that matches a directory
// includes every file below it. Only regular files under root count,
// sorted by path; the result is the hex SHA-256 of the concatenated SHA-256
// digests of their contents, or "" when nothing matches. Patterns outside
// root are ignored. Symbolic links to files are followed; symbolic links to
// directories are not descended, so cycles cannot occur. On Windows, as on
// GitHub's Windows runners, patterns ignore case.
func HashFiles(root string, patterns []string) (string, error) {
	return hashFiles(root, patterns, runtime.GOOS == "windows")
}

// hashFiles is HashFiles with case folding chosen by the caller, so tests
// cover Windows matching on any platform.
func hashFiles(root string, patterns []string, fold bool) (string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("hashFiles: workspace %q: %w", root, err)
	}
	globs, err := compileGlobs(root, patterns, fold)
	if err != nil {
		return "", err
	}
	if len(globs) == 0 {
		return "", nil
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil || rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return nil
		}
		if fold {
			rel = strings.ToLower(rel)
		}
		if !matchGlobs(globs, rel) {
			return nil
		}
		info, serr := os.Stat(p) // follows links
		if serr != nil || !info.Mode().IsRegular() {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashFiles: %w", err)
	}
	if len(files) == 0 {
		return "", nil
	}
	sort.Strings(files)
	all := sha256.New()
	for _, f := range files {
		sum, err := hashFile(f)
		if err != nil {
			return "", fmt.Errorf("hashFiles: %w", err)
		}
		all.Write(sum)
	}
	return hex.EncodeToString(all.Sum(nil)), nil
}

func hashFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// glob is one pattern, as slash-separated segments relative to the root.
type glob struct {
	negate bool
	segs   []string
}

// compileGlobs splits patterns into lines and makes each relative to root;
// patterns outside root are dropped.
func compileGlobs(root string, patterns []string, fold bool) ([]glob, error) {
	var out []glob
	for _, arg := range patterns {
		for _, line := range strings.Split(arg, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			g := glob{}
			for strings.HasPrefix(line, "!") {
				g.negate = !g.negate
				line = line[1:]
			}
			p := filepath.FromSlash(line)
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, p)
			}
			rel, err := filepath.Rel(root, filepath.Clean(p))
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				continue // outside the workspace
			}
			rel = filepath.ToSlash(rel)
			if fold {
				rel = strings.ToLower(rel)
			}
			if rel == "." {
				g.segs = []string{"**"}
			} else {
				g.segs = strings.Split(rel, "/")
			}
			for _, s := range g.segs {
				if _, err := path.Match(s, ""); err != nil {
					return nil, fmt.Errorf("hashFiles: bad pattern %q: %w", line, err)
				}
			}
			out = append(out, g)
		}
	}
	return out, nil
}

// matchGlobs reports whether the file at rel is selected: the last pattern
// matching it, or a directory above it, decides.
func matchGlobs(globs []glob, rel string) bool {
	segs := strings.Split(rel, "/")
	in := false
	for _, g := range globs {
		if g.negate == in { // includes matter when out, excludes when in
			if matchPrefix(g.segs, segs) {
				in = !g.negate
			}
		}
	}
	return in
}

// matchPrefix reports whether pattern matches path or one of its parent
// directories.
func matchPrefix(pattern, segs []string) bool {
	for n := len(segs); n >= 1; n-- {
		if matchSegs(pattern, segs[:n]) {
			return true
		}
	}
	return false
}

// matchSegs matches pattern segments against path segments; "**" matches
// any number of segments.
func matchSegs(pattern, segs []string) bool {
	for len(pattern) > 0 {
		if pattern[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pattern[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pattern[0], segs[0]); !ok {
			return false
		}
		pattern, segs = pattern[1:], segs[1:]
	}
	return len(segs) == 0
}
