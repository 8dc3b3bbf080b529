// Command vermont runs GitHub Actions workflows on your own machine and keeps
// a pool of ephemeral self-hosted runners. It only parses flags and wires the
// library's packages together; see the package documentation of
// github.com/vermont-ci/vermont.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// stdio is where a subcommand reads and writes; tests pass buffers. force
// is closed on a second interrupt: stop at once, without the work GitHub
// does after a cancellation (always() steps).
type stdio struct {
	in       io.Reader
	out, err io.Writer
	force    <-chan struct{}
}

// command is one subcommand. run returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io stdio) int
}

// commands is the subcommand table, in the order usage lists them.
var commands = []command{
	// Each subcommand adds one line here; keep the order of usage.
	{"run", "run the workflows an event triggers, on this machine", runRun},
	{"graph", "print the job graph after matrix expansion, as text or --dot", runGraph},
	{"validate", "check workflow and action files, print every problem", runValidate},
	{"list", "list workflows, their jobs and the events that trigger them", runList},
	{"eval", "evaluate one ${{ }} expression against contexts from a JSON file", runEval},
	{"actions", "actions pull: fill the action cache for every uses: so runs work offline", runActions},
	{"serve", "run workflows as a CI service: webhooks, cron, dispatch, a run store and GitHub's REST API", runServe},
	{"token", "token create: make an API token for vermont serve, printed once", runToken},
	{"pool", "keep a pool of warm ephemeral runners and serve GitHub webhooks", runPool},
	{"image", "import, list and remove the images container jobs run from", runImage},
	{"prune", "remove containers, snapshots and leases that crashed runs left in containerd", runPrune},
	{"version", "print the version and the commit this binary was built from (also --version)", runVersion},
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	force := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go interrupts(sigs, cancel, force, os.Stderr)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, force: force})
	signal.Stop(sigs)
	cancel()
	os.Exit(code)
}

// interrupts turns the first signal into a cancellation (GitHub's: steps
// with always() still run) and the second into a forced stop.
func interrupts(sigs <-chan os.Signal, cancel context.CancelFunc, force chan<- struct{}, w io.Writer) {
	<-sigs
	fmt.Fprintln(w, "vermont: stopping; interrupt again to stop at once")
	cancel()
	<-sigs
	fmt.Fprintln(w, "vermont: stopping at once")
	close(force)
}

// parseFlags parses a subcommand's flags. When it returns false the
// subcommand ends with code: 0 after -h, 2 after a bad flag (the flag
// package has said what was wrong).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	}
	return 2, false
}

// run dispatches to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, args[1:], io)
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], io)
		}
	}
	fmt.Fprintf(io.err, "vermont: unknown command %q\n\n", args[0])
	usage(io.err)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vermont <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
