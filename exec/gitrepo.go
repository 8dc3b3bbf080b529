package exec

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Repo is what the github context needs from the local git repository. It
// is read from .git's files directly: no git process, so a run starts fast.
type Repo struct {
	Root       string // the working tree
	SHA        string // HEAD's commit
	Ref        string // refs/heads/<branch>, or "" when HEAD is detached
	Repository string // owner/name, from the origin remote; "" when unknown
	Upstream   string // the commit of the branch's upstream (branch.<name>.merge); "" when none is set
}

// ReadRepo finds the git repository containing dir and reads it. It returns
// ok false when dir is not inside one.
func ReadRepo(dir string) (Repo, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Repo{}, false
	}
	for d := abs; ; d = filepath.Dir(d) {
		gitDir := filepath.Join(d, ".git")
		if fi, err := os.Stat(gitDir); err == nil {
			if !fi.IsDir() { // a worktree or submodule: "gitdir: path"
				b, err := os.ReadFile(gitDir)
				if err != nil {
					return Repo{}, false
				}
				p := strings.TrimSpace(strings.TrimPrefix(string(b), "gitdir:"))
				if !filepath.IsAbs(p) {
					p = filepath.Join(d, p)
				}
				gitDir = p
			}
			return readGitDir(d, gitDir), true
		}
		if parent := filepath.Dir(d); parent == d {
			return Repo{}, false
		}
	}
}

func readGitDir(root, gitDir string) Repo {
	r := Repo{Root: root}
	head, _ := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	h := strings.TrimSpace(string(head))
	common := gitDir
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		common = c
	}
	if ref, ok := strings.CutPrefix(h, "ref: "); ok {
		r.Ref = ref
		r.SHA = resolveRef(gitDir, common, ref)
	} else {
		r.SHA = h
	}
	config, _ := os.ReadFile(filepath.Join(common, "config"))
	r.Repository = originRepository(config)
	if branch, ok := strings.CutPrefix(r.Ref, "refs/heads/"); ok {
		if up := upstreamRef(config, branch); up != "" {
			r.Upstream = resolveRef(gitDir, common, up)
		}
	}
	return r
}

// upstreamRef returns the ref of branch's upstream from a git config
// file's branch.<name>.remote and .merge: refs/remotes/<remote>/<branch>,
// or the merge ref itself for a local upstream (remote "."); "" when
// none is set.
func upstreamRef(config []byte, branch string) string {
	var remote, merge string
	in := false
	for _, line := range strings.Split(string(config), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			in = t == `[branch "`+branch+`"]`
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "remote":
			remote = strings.TrimSpace(v)
		case "merge":
			merge = strings.TrimSpace(v)
		}
	}
	if remote == "" || merge == "" {
		return ""
	}
	if remote == "." {
		return merge
	}
	name, ok := strings.CutPrefix(merge, "refs/heads/")
	if !ok {
		return ""
	}
	return "refs/remotes/" + remote + "/" + name
}

// resolveRef finds a ref's commit in loose refs or packed-refs.
func resolveRef(gitDir, common, ref string) string {
	for _, d := range []string{gitDir, common} {
		if b, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sha, name, ok := strings.Cut(sc.Text(), " "); ok && name == ref {
			return sha
		}
	}
	return ""
}

var remoteURL = regexp.MustCompile(`[:/]([^/:]+)/([^/]+?)(?:\.git)?/?$`)

// originRepository reads remote "origin"'s url from a git config file's text and
// returns its owner/name.
func originRepository(b []byte) string {
	inOrigin := false
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			inOrigin = t == `[remote "origin"]`
			continue
		}
		if k, v, ok := strings.Cut(t, "="); inOrigin && ok && strings.TrimSpace(k) == "url" {
			if m := remoteURL.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
				return m[1] + "/" + m[2]
			}
		}
	}
	return ""
}
