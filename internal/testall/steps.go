package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// status is a step's outcome.
type status string

const (
	statusPass status = "PASS"
	statusFail status = "FAIL"
	statusSkip status = "SKIP"
	statusWarn status = "WARN"
)

// result records one step for the summary.
type result struct {
	name   string
	status status
	took   time.Duration
	note   string
}

// runner runs steps, streaming their output, and keeps their results.
type runner struct {
	ctx     context.Context
	stdout  io.Writer
	stderr  io.Writer
	results []result
}

// warning is an error that does not fail the run (local runs without root).
type warning struct{ msg string }

func (w warning) Error() string { return w.msg }

// step runs fn under a header and records its outcome. A warning error is
// recorded as WARN and does not fail the run.
func (r *runner) step(name string, fn func() (note string, err error)) {
	fmt.Fprintf(r.stdout, "\n==> %s\n", name)
	if err := r.ctx.Err(); err != nil {
		r.record(name, statusFail, 0, "interrupted")
		return
	}
	start := time.Now()
	note, err := fn()
	took := time.Since(start)
	var w warning
	switch {
	case errors.As(err, &w):
		fmt.Fprintf(r.stdout, "--- WARN %s: %s\n", name, w.msg)
		r.record(name, statusWarn, took, w.msg)
	case err != nil:
		if note == "" {
			note = err.Error()
		} else {
			note = err.Error() + "; " + note
		}
		fmt.Fprintf(r.stdout, "--- FAIL %s (%s): %s\n", name, took.Round(time.Millisecond), note)
		r.record(name, statusFail, took, note)
	default:
		fmt.Fprintf(r.stdout, "--- PASS %s (%s)\n", name, took.Round(time.Millisecond))
		r.record(name, statusPass, took, note)
	}
}

func (r *runner) record(name string, s status, took time.Duration, note string) {
	r.results = append(r.results, result{name: name, status: s, took: took, note: note})
}

// cmd runs a command with extra environment, streaming its output. On
// interrupt the command gets SIGINT and 15s to clean up (private containerd
// daemons, containers) before it is killed.
func (r *runner) cmd(env []string, name string, args ...string) error {
	fmt.Fprintf(r.stdout, "$ %s%s %s\n", prefixEnv(env), name, strings.Join(args, " "))
	c := exec.CommandContext(r.ctx, name, args...)
	c.Stdout, c.Stderr = r.stdout, r.stderr
	c.Env = append(os.Environ(), env...)
	c.Cancel = func() error { return c.Process.Signal(os.Interrupt) }
	c.WaitDelay = 15 * time.Second
	return c.Run()
}

func prefixEnv(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return strings.Join(env, " ") + " "
}

// summary prints every step's outcome and returns the exit code.
func (r *runner) summary(total time.Duration) int {
	fmt.Fprintf(r.stdout, "\n==> summary (%s)\n", total.Round(time.Second))
	failed := 0
	for _, res := range r.results {
		line := fmt.Sprintf("%-4s %8s  %s", res.status, res.took.Round(100*time.Millisecond), res.name)
		if res.note != "" {
			line += "  — " + res.note
		}
		fmt.Fprintln(r.stdout, line)
		if res.status == statusFail {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(r.stdout, "FAIL: %d of %d steps failed\n", failed, len(r.results))
		return 1
	}
	fmt.Fprintf(r.stdout, "ok: all %d steps passed or were skipped as shown\n", len(r.results))
	return 0
}

// pkgCheck is one system package the tests need and how to tell it is there.
type pkgCheck struct {
	pkg     string
	present func() bool
}

// requiredPackages are the Debian packages the tests use: containerd, runc
// and a static busybox for the containerd tests; git and node for actions;
// gh, the GitHub CLI that server/api's TestGH drives; chromium, the
// browser server/web's tests drive; postgresql, whose initdb and postgres
// the PostgreSQL tests start privately (internal/pgtest); etcd for the
// Kubernetes test cluster (internal/kubetest).
func requiredPackages() []pkgCheck {
	onPath := func(bin string) func() bool {
		return func() bool { _, err := exec.LookPath(bin); return err == nil }
	}
	return []pkgCheck{
		{pkg: "containerd", present: onPath("containerd")},
		{pkg: "runc", present: onPath("runc")},
		{pkg: "busybox-static", present: staticBusybox},
		{pkg: "git", present: onPath("git")},
		{pkg: "nodejs", present: onPath("node")},
		{pkg: "npm", present: onPath("npm")},
		{pkg: "gh", present: onPath("gh")},
		{pkg: "chromium", present: onPath("chromium")},
		{pkg: "postgresql", present: postgresInstalled},
		{pkg: "etcd-server", present: onPath("etcd")}, // internal/kubetest's control plane
	}
}

// postgresInstalled reports whether Debian's PostgreSQL server binaries
// are there (they are not on PATH).
func postgresInstalled() bool {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(m) > 0
}

// staticBusybox reports whether /bin/busybox is a static binary (a dynamic
// one cannot run alone in a test image).
func staticBusybox() bool {
	f, err := elf.Open("/bin/busybox")
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// installDeps installs missing packages with apt-get when root; otherwise
// it says what to install and goes on (tests then skip, or fail under CI).
func installDeps(r *runner, ci bool) (string, error) {
	var missing []string
	for _, p := range requiredPackages() {
		if !p.present() {
			missing = append(missing, p.pkg)
		}
	}
	if len(missing) == 0 {
		return "all present", nil
	}
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		msg := fmt.Sprintf("missing %s; install them (Debian: sudo apt-get install -y %s); the tests that need them (containerd, gh) %s without them",
			strings.Join(missing, ", "), strings.Join(missing, " "), map[bool]string{true: "fail", false: "skip"}[ci])
		if ci {
			return "", errors.New(msg)
		}
		return "", warning{msg}
	}
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	if err := r.cmd(env, "apt-get", "update"); err != nil {
		return "", fmt.Errorf("apt-get update: %w", err)
	}
	args := append([]string{"install", "-y", "--no-install-recommends"}, missing...)
	if err := r.cmd(env, "apt-get", args...); err != nil {
		return "", fmt.Errorf("apt-get install %s: %w", strings.Join(missing, " "), err)
	}
	return "installed " + strings.Join(missing, " "), nil
}

// goFiles lists every Go file of the module's packages, including those
// excluded by build tags (Windows files), but not testdata.
func goFiles(ctx context.Context) ([]string, error) {
	tmpl := `{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .CgoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .TestGoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .XTestGoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .IgnoredGoFiles}}{{$.Dir}}/{{.}}
{{end}}`
	out, err := exec.CommandContext(ctx, "go", "list", "-e", "-f", tmpl, "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// checkGofmt fails when gofmt would change a file, listing them.
func checkGofmt(r *runner) error {
	files, err := goFiles(r.ctx)
	if err != nil {
		return err
	}
	args := append([]string{"-l"}, files...)
	var out bytes.Buffer
	c := exec.CommandContext(r.ctx, "gofmt", args...)
	c.Stdout, c.Stderr = &out, r.stderr
	fmt.Fprintf(r.stdout, "$ gofmt -l (%d files)\n", len(files))
	if err := c.Run(); err != nil {
		return fmt.Errorf("gofmt: %w", err)
	}
	if out.Len() > 0 {
		bad := strings.Fields(out.String())
		if wd, err := os.Getwd(); err == nil {
			for i, f := range bad {
				if rel, err := filepath.Rel(wd, f); err == nil {
					bad[i] = rel
				}
			}
		}
		fmt.Fprintln(r.stdout, strings.Join(bad, "\n"))
		return fmt.Errorf("not gofmt-ed: %s (run gofmt -w on them)", strings.Join(bad, " "))
	}
	return nil
}

// fuzzTarget is one `func FuzzX(*testing.F)` in a package.
type fuzzTarget struct {
	pkg  string // import path
	name string
}

// discoverFuzz lists the fuzz targets in the packages matching patterns,
// sorted by package and name.
func discoverFuzz(ctx context.Context, patterns []string) ([]fuzzTarget, error) {
	tmpl := `{{.ImportPath}}{{range .TestGoFiles}} {{$.Dir}}/{{.}}{{end}}{{range .XTestGoFiles}} {{$.Dir}}/{{.}}{{end}}`
	args := append([]string{"list", "-f", tmpl}, patterns...)
	out, err := exec.CommandContext(ctx, "go", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list: %w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list: %w", err)
	}
	var targets []fuzzTarget
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		names, err := fuzzFuncs(fields[1:])
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			targets = append(targets, fuzzTarget{pkg: fields[0], name: n})
		}
	}
	return targets, nil
}

// fuzzFuncs returns the names of fuzz targets declared in files: top-level
// functions named Fuzz… taking one *testing.F.
func fuzzFuncs(files []string) ([]string, error) {
	fset := token.NewFileSet()
	var names []string
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Base(path), err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && isFuzzName(fn.Name.Name) && takesTestingF(fn) {
				names = append(names, fn.Name.Name)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// isFuzzName follows `go test`: "Fuzz" then nothing or a non-lower-case rune.
func isFuzzName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Fuzz")
	return ok && (rest == "" || !(rest[0] >= 'a' && rest[0] <= 'z'))
}

// takesTestingF reports whether fn's only parameter is *testing.F.
func takesTestingF(fn *ast.FuncDecl) bool {
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "testing" && sel.Sel.Name == "F"
}
