//go:build thin

// The host-only build (go build -tags thin ./cmd/vermont) links no daemon
// client: no containerd, gRPC, protobuf, Prometheus or SQLite, so a host
// run starts without their package initializers and touches fewer of the
// binary's pages. The subcommands that need them, and runs with container
// jobs, are handed to vermont-full, the full build, found next to this
// binary or on PATH.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/wiring"
)

// fullName is the full build's binary name; fullBuild says how to make it.
const (
	fullName  = "vermont-full"
	fullBuild = "go build -o vermont-full ./cmd/vermont"
	// handOffEnv is set for vermont-full; a thin build that sees it was
	// found under the full build's name and would hand off forever.
	handOffEnv = "VERMONT_HANDED_OFF"
)

func runServe(ctx context.Context, args []string, io stdio) int {
	return handOffTo(ctx, "serve", args, io)
}

func runToken(ctx context.Context, args []string, io stdio) int {
	return handOffTo(ctx, "token", args, io)
}

func runPool(ctx context.Context, args []string, io stdio) int {
	return handOffTo(ctx, "pool", args, io)
}

func runImage(ctx context.Context, args []string, io stdio) int {
	return handOffTo(ctx, "image", args, io)
}

func runPrune(ctx context.Context, args []string, io stdio) int {
	return handOffTo(ctx, "prune", args, io)
}

// handOff hands a run with container jobs to vermont-full: this build has
// no containerd client. What a workflow shows before it runs decides:
// --containerd, container: and services:, docker:// steps, and runs-on
// labels that -P maps to an image. A Docker action fetched from
// elsewhere only shows itself when its step runs; that step then fails
// naming vermont-full (openContainers).
func (f *runFlags) handOff(ctx context.Context, plans []runPlan, io stdio) (int, bool) {
	if !f.needsContainers(plans) {
		return 0, false
	}
	return handOffTo(ctx, "run", f.args, io), true
}

// errThin is what a container step meets in this build.
var errThin = fmt.Errorf("this vermont is the host-only build (-tags thin) and has no containerd client; run the workflow with %s (build it with `%s`)", fullName, fullBuild)

// openContainers reports that this build cannot run containers.
func (b *backendFlags) openContainers(exec.Backend) wiring.OpenContainers {
	return func(context.Context) (wiring.ContainerBackend, error) { return nil, errThin }
}

// findFull returns the path of vermont-full: next to this binary, else on
// PATH.
func findFull() (string, error) {
	name := fullName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	var next string
	if self, err := os.Executable(); err == nil {
		next = filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(next); err == nil && !st.IsDir() {
			return next, nil
		}
	}
	if p, err := osexec.LookPath(fullName); err == nil {
		return p, nil
	}
	where := "on PATH"
	if next != "" {
		where = "at " + next + " or on PATH"
	}
	return "", fmt.Errorf("this vermont is the host-only build (-tags thin), and found no %s %s; build it with `%s`", fullName, where, fullBuild)
}

// handOffTo runs `vermont-full CMD ARGS...` in this process's place and
// returns its exit code.
func handOffTo(ctx context.Context, cmd string, args []string, io stdio) int {
	if os.Getenv(handOffEnv) != "" {
		fmt.Fprintf(io.err, "vermont %s: this is the host-only build (-tags thin) run as %s; build the full one with `%s`\n", cmd, fullName, fullBuild)
		return 1
	}
	path, err := findFull()
	if err != nil {
		fmt.Fprintf(io.err, "vermont %s: %v\n", cmd, err)
		return 1
	}
	argv := append([]string{path, cmd}, args...)
	env := append(os.Environ(), handOffEnv+"=1")
	// With this process's own stdio, become vermont-full (same pid, so
	// signals and the exit status are its own). Where that is not
	// possible (Windows, tests' buffers), run it as a child.
	if io.in == os.Stdin && io.out == os.Stdout && io.err == os.Stderr {
		if err := replaceProcess(path, argv, env); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			fmt.Fprintf(io.err, "vermont %s: %s: %v\n", cmd, path, err)
			return 1
		}
	}
	c := osexec.Command(path, argv[1:]...)
	c.Env, c.Stdin, c.Stdout, c.Stderr = env, io.in, io.out, io.err
	if err := c.Start(); err != nil {
		fmt.Fprintf(io.err, "vermont %s: %v\n", cmd, err)
		return 1
	}
	// An interrupt reached vermont-full too (same terminal); a stop from
	// ctx alone is passed on as one interrupt.
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			c.Process.Signal(os.Interrupt)
		case <-done:
		}
	}()
	err = c.Wait()
	close(done)
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(io.err, "vermont %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
