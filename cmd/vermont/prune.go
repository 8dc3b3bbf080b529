//go:build !thin

package main

import (
	"context"
	"flag"
	"fmt"
)

// runPrune removes what crashed runs left in containerd: every container,
// snapshot and lease carrying a vermont.run label.
func runPrune(ctx context.Context, args []string, io stdio) int {
	fset := flag.NewFlagSet("prune", flag.ContinueOnError)
	fset.SetOutput(io.err)
	var cf containerdFlags
	cf.register(fset)
	dryRun := fset.Bool("dry-run", false, "list what would be removed, remove nothing")
	fset.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont prune [--dry-run] [flags]\n\n"+
			"Removes the containers, snapshots and leases that jobs left in containerd when a\n"+
			"run crashed (everything labelled vermont.run). Run it while no run is in progress:\n"+
			"it removes live runs' containers too. Flags:")
		fset.PrintDefaults()
	}
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() != 0 {
		fmt.Fprintf(io.err, "vermont prune: unexpected argument %q\n", fset.Arg(0))
		return 2
	}
	b, err := cf.open(ctx)
	if err != nil {
		fmt.Fprintf(io.err, "vermont prune: %v\n", err)
		return 1
	}
	defer b.Close()
	left, err := b.Leftovers(ctx)
	if err != nil {
		fmt.Fprintf(io.err, "vermont prune: %v\n", err)
		return 1
	}
	for _, l := range left {
		if *dryRun {
			fmt.Fprintf(io.out, "would remove %s\n", l)
		} else {
			fmt.Fprintf(io.out, "removing %s\n", l)
		}
	}
	if *dryRun {
		fmt.Fprintf(io.out, "%d objects would be removed\n", len(left))
		return 0
	}
	n, err := b.Prune(ctx)
	fmt.Fprintf(io.out, "removed %d objects\n", n)
	if err != nil {
		fmt.Fprintf(io.err, "vermont prune: %v\n", err)
		return 1
	}
	return 0
}
