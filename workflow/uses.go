package workflow

import (
	"fmt"
	"regexp"
	"strings"
)

// RefKind tells the forms of a `uses:` reference apart.
type RefKind int

// Forms of `uses:` references.
const (
	// LocalRef is `./path`, relative to the workspace (needs a checkout).
	LocalRef RefKind = iota + 1
	// SelfRef is `$/path`, the workflow's own repository at the running
	// commit (GitHub's self-repository syntax, 2026).
	SelfRef
	// RepoRef is `owner/repo[/path]@ref`.
	RepoRef
	// DockerRef is `docker://image[:tag|@digest]`.
	DockerRef
)

// Reference is a parsed `uses:` value of a step or of a job calling a
// reusable workflow.
type Reference struct {
	Kind  RefKind
	Owner string // RepoRef
	Repo  string // RepoRef
	Path  string // path inside the repository, without a leading "./"; "" for the root
	Ref   string // RepoRef: tag, branch or commit SHA
	Image string // DockerRef: the image, with tag or digest
}

// String prints the reference in the form it was parsed from.
func (r Reference) String() string {
	switch r.Kind {
	case LocalRef:
		return "./" + r.Path
	case SelfRef:
		return "$/" + r.Path
	case DockerRef:
		return "docker://" + r.Image
	case RepoRef:
		s := r.Owner + "/" + r.Repo
		if r.Path != "" {
			s += "/" + r.Path
		}
		return s + "@" + r.Ref
	}
	return ""
}

var (
	ownerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	repoRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	imageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*$`)
)

// ParseReference parses a `uses:` value as GitHub accepts it for steps:
// `./path`, `$/path`, `owner/repo@ref`, `owner/repo/path@ref` and
// `docker://image[:tag|@digest]`. The error is a lower-case message with a
// hint, without position.
func ParseReference(s string) (Reference, error) {
	switch {
	case s == "":
		return Reference{}, fmt.Errorf("uses is empty")
	case strings.Contains(s, "${{"):
		return Reference{}, fmt.Errorf("uses cannot contain expressions; GitHub resolves actions before any expression is evaluated")
	case strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\n"):
		return Reference{}, fmt.Errorf("uses %q must not contain white space", s)
	case strings.HasPrefix(s, "./") || s == ".":
		return localRef(LocalRef, strings.TrimPrefix(strings.TrimPrefix(s, "."), "/"), s)
	case strings.HasPrefix(s, "$/"):
		return localRef(SelfRef, strings.TrimPrefix(s[2:], "./"), s)
	case strings.HasPrefix(s, "docker://"):
		img := s[len("docker://"):]
		if img == "" || !imageRE.MatchString(img) {
			return Reference{}, fmt.Errorf("bad docker image in %q; use docker://image[:tag|@digest], e.g. docker://alpine:3.20", s)
		}
		return Reference{Kind: DockerRef, Image: img}, nil
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, "../"):
		return Reference{}, fmt.Errorf("local action %q must start with \"./\" (relative to the workspace) or \"$/\" (this repository)", s)
	}
	return repoRef(s)
}

func localRef(kind RefKind, path, s string) (Reference, error) {
	if strings.Contains(path, "@") {
		return Reference{}, fmt.Errorf("local reference %q cannot have an @ref: it always uses the same commit", s)
	}
	return Reference{Kind: kind, Path: strings.TrimSuffix(path, "/")}, nil
}

func repoRef(s string) (Reference, error) {
	at := strings.IndexByte(s, '@')
	if strings.Count(s, "@") > 1 {
		return Reference{}, fmt.Errorf("%q has more than one @; use owner/repo[/path]@ref", s)
	}
	if at < 0 {
		return Reference{}, fmt.Errorf("%q needs a version: use owner/repo@ref (a tag, branch or commit SHA), e.g. actions/checkout@v4, or ./path for a local action", s)
	}
	name, ref := s[:at], s[at+1:]
	if ref == "" {
		return Reference{}, fmt.Errorf("%q has an empty ref after @", s)
	}
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 || !ownerRE.MatchString(parts[0]) || !repoRE.MatchString(parts[1]) {
		return Reference{}, fmt.Errorf("%q is not a valid action: use owner/repo@ref, owner/repo/path@ref, ./path, $/path or docker://image", s)
	}
	r := Reference{Kind: RepoRef, Owner: parts[0], Repo: parts[1], Ref: ref}
	if len(parts) == 3 {
		r.Path = strings.Trim(parts[2], "/")
		if r.Path == "" || strings.Contains(r.Path, "//") {
			return Reference{}, fmt.Errorf("%q has an empty path after owner/repo", s)
		}
	}
	return r, nil
}

// ParseWorkflowReference parses jobs.<job_id>.uses, which must name a
// reusable workflow file directly under .github/workflows:
// `./.github/workflows/x.yml`, `$/.github/workflows/x.yml` or
// `owner/repo/.github/workflows/x.yml@ref`.
func ParseWorkflowReference(s string) (Reference, error) {
	r, err := ParseReference(s)
	if err != nil {
		return r, err
	}
	if r.Kind == DockerRef {
		return Reference{}, fmt.Errorf("a job's uses must name a reusable workflow, not a docker image; put docker:// in a step")
	}
	dir, file, _ := strings.Cut(r.Path, ".github/workflows/")
	ext := strings.ToLower(file)
	if dir != "" || !strings.HasPrefix(r.Path, ".github/workflows/") || strings.Contains(file, "/") ||
		!(strings.HasSuffix(ext, ".yml") || strings.HasSuffix(ext, ".yaml")) {
		return Reference{}, fmt.Errorf("%q is not a reusable workflow: a job's uses must point at a .yml or .yaml file directly under .github/workflows, e.g. ./.github/workflows/build.yml or owner/repo/.github/workflows/build.yml@v1", s)
	}
	return r, nil
}
