// Command testall is Vermont's test and CI entry point: `go run
// ./internal/testall` (or .ci/run). It installs what the integration tests
// need when it can, checks formatting, vets, cross-builds for Windows, runs
// every test (the containerd ones start their own private daemon through
// internal/ctrdtest; the Kubernetes ones a control plane through
// internal/kubetest, whose binaries it builds first, once per machine), runs
// every fuzz target briefly, and prints a summary.
// It exits non-zero when any step fails.
//
// Flags:
//
//	-fuzztime B    each fuzz target's budget, as for go test: a count of
//	               inputs (100000x, the default) or a duration (10s);
//	               $VERMONT_FUZZTIME sets the default
//	-skip-fuzz     skip the fuzz runs (local quick use; refused under CI=true)
//	-no-install    do not try to install missing system packages, nor
//	               @actions/core (from npm) for the JavaScript action tests
//	-timeout D     go test -timeout (default 25m: on a cold build cache the
//	               release test cross-builds six targets, ~2 min each here)
//	-race          run the tests with the race detector
//	packages...    go test and fuzz patterns (default ./...); gofmt, vet and
//	               the Windows build always cover the whole module
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command line.
type options struct {
	fuzzTime  fuzzBudget
	skipFuzz  bool
	noInstall bool
	timeout   time.Duration
	race      bool
	packages  []string
	ci        bool
}

// parseFlags parses args; it returns an error for bad flags and for
// -skip-fuzz under CI.
func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	o := options{ci: isCI(getenv("CI"))}
	o.fuzzTime = defaultFuzzBudget
	if v := getenv("VERMONT_FUZZTIME"); v != "" {
		if err := o.fuzzTime.Set(v); err != nil {
			return o, fmt.Errorf("VERMONT_FUZZTIME=%q: %w", v, err)
		}
	}
	fs := flag.NewFlagSet("testall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.fuzzTime, "fuzztime", "each fuzz target's budget: a count of inputs (100000x) or a duration (env VERMONT_FUZZTIME)")
	fs.BoolVar(&o.skipFuzz, "skip-fuzz", false, "skip the fuzz runs (local quick use; refused under CI=true)")
	fs.BoolVar(&o.noInstall, "no-install", false, "do not install missing system packages, nor @actions/core from npm")
	fs.DurationVar(&o.timeout, "timeout", 25*time.Minute, "go test -timeout")
	fs.BoolVar(&o.race, "race", false, "run tests with the race detector")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.packages = fs.Args()
	if len(o.packages) == 0 {
		o.packages = []string{"./..."}
	}
	if o.skipFuzz && o.ci {
		return o, errors.New("-skip-fuzz is refused under CI=true: CI must run the fuzz targets")
	}
	return o, nil
}

// defaultFuzzBudget is a count, not a duration. With a duration, Go 1.26's
// fuzz coordinator can report "context deadline exceeded" as a failure
// when the deadline catches a worker mid-input, with no failing input
// behind it (go.dev/issue/75804, fixed in Go 1.27); it failed CI once. A
// count has no deadline to race. 100,000 inputs take 5-25 s per target here.
const defaultFuzzBudget = fuzzBudget("100000x")

// fuzzBudget is go test's -fuzztime: "Nx" (N inputs) or a positive duration.
type fuzzBudget string

func (b *fuzzBudget) String() string { return string(*b) }

func (b *fuzzBudget) Set(v string) error {
	if n, ok := strings.CutSuffix(v, "x"); ok {
		if c, err := strconv.ParseUint(n, 10, 63); err != nil || c == 0 {
			return fmt.Errorf("%q: want a positive count such as 100000x, or a duration such as 10s", v)
		}
	} else if d, err := time.ParseDuration(v); err != nil || d <= 0 {
		return fmt.Errorf("%q: want a positive count such as 100000x, or a duration such as 10s", v)
	}
	*b = fuzzBudget(v)
	return nil
}

// isCI reports whether the CI variable asks for strict behaviour.
func isCI(v string) bool {
	v = strings.ToLower(v)
	return v == "true" || v == "1"
}

// run executes every step and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "testall: %v\n", err)
		return 2
	}
	r := &runner{ctx: ctx, stdout: stdout, stderr: stderr}
	start := time.Now()
	if o.noInstall {
		r.record("system packages", statusSkip, 0, "-no-install")
	} else {
		r.step("system packages", func() (string, error) { return installDeps(r, o.ci) })
	}
	for _, n := range []npmInstall{actionsCore, resultsToolkit, octokit} {
		if o.noInstall {
			r.record("npm "+n.dir, statusSkip, 0, "-no-install")
			continue
		}
		r.step("npm "+n.dir, func() (string, error) { return n.install(r, o.ci, exec.LookPath) })
	}
	r.step("tracked files under 1 MB", func() (string, error) { return "", checkTrackedSizes(r.ctx, ".", maxTrackedSize) })
	r.step("gofmt -l", func() (string, error) { return "", checkGofmt(r) })
	r.step("go vet ./...", func() (string, error) { return "", r.cmd(nil, "go", "vet", "./...") })
	r.step("GOOS=windows go build ./...", func() (string, error) {
		return "", r.cmd([]string{"GOOS=windows"}, "go", "build", "./...")
	})
	r.step("the host-only build: go vet -tags thin, GOOS=windows go build -tags thin", func() (string, error) {
		if err := r.cmd(nil, "go", "vet", "-tags", "thin", "./cmd/vermont", "./internal/wiring"); err != nil {
			return "", err
		}
		return "", r.cmd([]string{"GOOS=windows"}, "go", "build", "-tags", "thin", "-o", os.DevNull, "./cmd/vermont")
	})
	r.step("GOOS=windows go vet ./...", func() (string, error) {
		return "", r.cmd([]string{"GOOS=windows"}, "go", "vet", "./...")
	})
	r.step("vermont validate .github/workflows", func() (string, error) {
		return "", r.cmd(nil, "go", "run", "./cmd/vermont", "validate", ".github/workflows")
	})
	r.step("vermont run: the lint job of .github/workflows/ci.yml", func() (string, error) {
		return "", r.cmd(nil, "go", selfRunArgs...)
	})
	// Before go test, so that a cold build (about 14 minutes on 2 cores)
	// does not eat the test timeout; cached, it takes seconds.
	r.step("build Kubernetes test binaries (kube-apiserver, kwok)", func() (string, error) {
		return "", r.cmd(nil, "go", "run", "./internal/kubetest/cmd/kubebuild")
	})
	r.step("go test", func() (string, error) { return "", r.cmd(nil, "go", testArgs(o)...) })
	if o.skipFuzz {
		r.record("fuzz", statusSkip, 0, "-skip-fuzz (never allowed under CI=true)")
	} else {
		r.fuzzAll(o)
	}
	return r.summary(time.Since(start))
}

// selfRunArgs run Vermont's own CI workflow's fast job with Vermont, so CI's
// output shows Vermont testing itself, summary table included.
// vars.VERMONT skips the steps that would fetch actions from GitHub.
var selfRunArgs = []string{"run", "./cmd/vermont", "run", "workflow_dispatch", "-W", ".github/workflows/ci.yml", "-j", "lint", "--var", "VERMONT=true"}

// testArgs returns the `go test` arguments.
func testArgs(o options) []string {
	args := []string{"test", "-count=1", "-timeout=" + o.timeout.String()}
	if o.race {
		args = append(args, "-race")
	}
	return append(args, o.packages...)
}

// fuzzTimeout bounds one fuzz run, so that an input which hangs fails the
// run within minutes instead of at go test's default of 10.
const fuzzTimeout = 5 * time.Minute

// fuzzAll discovers the module's fuzz targets and runs each one briefly.
func (r *runner) fuzzAll(o options) {
	var targets []fuzzTarget
	r.step("discover fuzz targets", func() (string, error) {
		var err error
		targets, err = discoverFuzz(r.ctx, o.packages)
		return fmt.Sprintf("%d targets", len(targets)), err
	})
	for _, t := range targets {
		name := fmt.Sprintf("fuzz %s %s (%s)", t.pkg, t.name, o.fuzzTime)
		r.step(name, func() (string, error) {
			// No minimizing of new corpus entries: in a run of a few
			// seconds it takes the whole budget (FuzzParse: 962 inputs in
			// 10 s with it, 158,234 in 15 s without). A crash is still
			// reported, with its input.
			err := r.cmd(nil, "go", "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+o.fuzzTime.String(), "-fuzzminimizetime=0", "-timeout="+fuzzTimeout.String(), t.pkg)
			if err != nil {
				return "a failing input, if any, is saved under the package's testdata/fuzz/" + t.name, err
			}
			return "", nil
		})
	}
}
