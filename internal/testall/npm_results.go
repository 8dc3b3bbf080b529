package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// resultsActionDir is the JavaScript action the results service tests in
// exec run. Its package.json names the real @actions/artifact and
// @actions/cache (and @actions/core); npm installs them into its
// git-ignored node_modules (about 190 MB, 20 s).
const resultsActionDir = "testdata/actions-run/results-action"

// resultsPkgs must all be in node_modules for the tests to run.
var resultsPkgs = []string{"artifact", "cache", "core"}

// resultsNpmArgs install what package.json lists, writing no lock file.
func resultsNpmArgs(dir string) []string {
	return []string{"install", "--no-audit", "--no-fund", "--no-package-lock", "--prefix", dir}
}

// installResultsToolkit installs the packages of dir's package.json with
// npm unless they are there already. As for @actions/core, a missing npm
// or a failed install fails the step under CI and is a warning otherwise.
func installResultsToolkit(r *runner, dir string, ci bool, lookPath func(string) (string, error)) (string, error) {
	missing := func() string {
		for _, p := range resultsPkgs {
			pkg := filepath.Join(dir, "node_modules", "@actions", p, "package.json")
			if _, err := os.Stat(pkg); err != nil {
				return pkg
			}
		}
		return ""
	}
	if missing() == "" {
		return "@actions/artifact, cache and core are already in " + filepath.ToSlash(filepath.Join(dir, "node_modules")), nil
	}
	consequence := "the results service tests in exec skip without them"
	if ci {
		consequence = "the results service tests in exec fail without them under CI=true"
	}
	npm, err := lookPath("npm")
	if err != nil {
		return "", softError(ci, fmt.Sprintf("npm is not installed, so the packages of %s/package.json cannot be installed; %s (Debian: apt-get install -y npm)", dir, consequence))
	}
	if err := r.cmd(nil, npm, resultsNpmArgs(dir)...); err != nil {
		return "", softError(ci, fmt.Sprintf("npm install into %s: %v; %s", dir, err, consequence))
	}
	if pkg := missing(); pkg != "" {
		return "", softError(ci, fmt.Sprintf("npm install finished but %s is missing; %s", pkg, consequence))
	}
	return "installed the packages of " + dir + "/package.json from the npm registry", nil
}
