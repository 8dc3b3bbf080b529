package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/workflow"
)

// runActions dispatches `vermont actions <subcommand>`.
func runActions(ctx context.Context, args []string, io stdio) int {
	const usage = "usage: vermont actions pull [-W PATH] [-c N] [--action-cache DIR] [--github-url URL] [--token-env VAR]"
	switch {
	case len(args) > 0 && args[0] == "pull":
		return runActionsPull(ctx, args[1:], io)
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		fmt.Fprintln(io.err, usage)
		return 0
	case len(args) > 0:
		fmt.Fprintf(io.err, "vermont actions: unknown subcommand %q\n", args[0])
	}
	fmt.Fprintln(io.err, usage)
	return 2
}

// runActionsPull fills the action cache for every uses: of the workflows.
func runActionsPull(ctx context.Context, args []string, io stdio) int {
	fset := flag.NewFlagSet("actions pull", flag.ContinueOnError)
	fset.SetOutput(io.err)
	path := fset.String("W", defaultWorkflowDir, "workflow file or directory of workflows")
	cache := fset.String("action-cache", "", "action cache directory (default: the user cache dir's vermont/actions)")
	server := fset.String("github-url", "https://github.com", "server to fetch owner/repo from, as URL/owner/repo")
	tokenEnv := fset.String("token-env", "", "environment variable holding a token for private repositories")
	limit := fset.Int("c", 8, "repositories fetched at once")
	fset.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont actions pull [-W PATH] [-c N] [--action-cache DIR] [--github-url URL] [--token-env VAR]\n\n"+
			"Fetches every action and reusable workflow that the workflows use (in steps, in jobs,\n"+
			"and inside composite actions and called workflows) into the action cache, so that\n"+
			"runs can then work offline. Moving refs (branches, tags) are fetched again.\n"+
			"Up to -c repositories are fetched at once.\n"+
			"Local ./ actions are read relative to the repository that holds PATH.\n\nflags:")
		fset.PrintDefaults()
	}
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(io.err, "vermont actions pull: unexpected argument %q (give workflows with -W)\n", fset.Arg(0))
		return 2
	}
	r, err := newResolver(*cache, *server, *tokenEnv, actions.WithLogger(warnLogger(io.err)), actions.WithPullLimit(*limit))
	if err != nil {
		fmt.Fprintf(io.err, "vermont actions pull: %v\n", err)
		return 2
	}
	wfs, root, code := readWorkflows(*path, io)
	if wfs == nil {
		return 1
	}
	pulled, err := r.InRepo(root).Pull(ctx, root, wfs...)
	sort.Slice(pulled, func(i, j int) bool { return pulled[i].Uses < pulled[j].Uses })
	for _, p := range pulled {
		how := "fetched"
		if !p.Fetched {
			how = "cached"
		}
		fmt.Fprintf(io.out, "%-8s %s@%s %s\n", how, p.Repo, p.Ref, p.SHA)
	}
	if err != nil {
		fmt.Fprintln(io.err, err)
		fmt.Fprintf(io.err, "vermont actions pull: some actions could not be pulled\n")
		return 1
	}
	fmt.Fprintf(io.out, "%d repository ref(s) in %s\n", len(pulled), r.CacheDir())
	return code
}

// newResolver builds the resolver from the --action-cache, --github-url
// and --token-env flags, and any further options.
func newResolver(cache, server, tokenEnv string, extra ...actions.Option) (*actions.Resolver, error) {
	opts := append([]actions.Option{actions.WithGitHubURL(server)}, extra...)
	if cache != "" {
		opts = append(opts, actions.WithCacheDir(cache))
	}
	if tokenEnv != "" {
		token := os.Getenv(tokenEnv)
		if token == "" {
			return nil, fmt.Errorf("--token-env %s: the variable is unset or empty", tokenEnv)
		}
		opts = append(opts, actions.WithToken(token))
	}
	return actions.NewResolver(opts...)
}

// warnLogger logs the resolver's warnings (such as a fetch that had to
// fall back from a shallow one) on w; its routine messages stay quiet.
func warnLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// readWorkflows parses the workflow file at path, or the workflow files
// directly in the directory path, and finds the repository root (the
// directory above .github/workflows, else the current directory). Files
// with problems are reported and skipped (code 1); nil means nothing to do.
func readWorkflows(path string, io stdio) ([]*workflow.Workflow, string, int) {
	abs, err := filepath.Abs(path)
	if err != nil {
		fmt.Fprintf(io.err, "vermont actions pull: %v\n", err)
		return nil, "", 1
	}
	files := []string{abs}
	if fi, err := os.Stat(abs); err != nil {
		fmt.Fprintf(io.err, "vermont actions pull: %v (give a workflow file or directory with -W; the default is %s)\n", err, defaultWorkflowDir)
		return nil, "", 1
	} else if fi.IsDir() {
		files = nil
		for _, pat := range []string{"*.yml", "*.yaml"} {
			m, _ := filepath.Glob(filepath.Join(abs, pat))
			files = append(files, m...)
		}
		sort.Strings(files)
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(io.err, "vermont actions pull: %v\n", err)
		return nil, "", 1
	}
	sep := string(filepath.Separator)
	if i := strings.LastIndex(abs+sep, sep+filepath.Join(".github", "workflows")+sep); i >= 0 {
		root = abs[:i]
	}
	p := workflow.NewParser()
	code := 0
	var wfs []*workflow.Workflow
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err == nil {
			var wf *workflow.Workflow
			if wf, err = p.Parse(f, src); err == nil {
				wfs = append(wfs, wf)
				continue
			}
		}
		fmt.Fprintln(io.err, err)
		code = 1
	}
	if len(wfs) == 0 {
		fmt.Fprintf(io.err, "vermont actions pull: no valid workflow in %s\n", path)
		return nil, "", 1
	}
	return wfs, root, code
}
