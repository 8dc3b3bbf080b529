package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// npmInstall is the npm packages a test action in testdata needs in its
// git-ignored node_modules: the real packages from the npm registry, to
// show that actions written with them run through Vermont unchanged.
type npmInstall struct {
	dir   string   // the action's directory
	pkgs  []string // what must end up in node_modules, such as "@actions/core"
	args  []string // npm's arguments after --prefix DIR
	what  string   // what is installed, for messages
	tests string   // which tests need it, for messages
}

// actionsCore is @actions/core 3 (an ES module) for the JavaScript action
// tests in exec. --no-save and --no-package-lock leave the committed
// package.json alone and write no lock file.
var actionsCore = npmInstall{
	dir:   "testdata/actions-run/js-action",
	pkgs:  []string{"@actions/core"},
	args:  []string{"--no-save", "@actions/core@3"},
	what:  "@actions/core@3",
	tests: "the JavaScript action tests in exec",
}

// resultsToolkit is what the results-service tests' action's package.json
// lists: the real @actions/artifact, @actions/cache and @actions/core
// (about 190 MB, 20 s).
var resultsToolkit = npmInstall{
	dir:   "testdata/actions-run/results-action",
	pkgs:  []string{"@actions/artifact", "@actions/cache", "@actions/core"},
	what:  "the packages of testdata/actions-run/results-action/package.json",
	tests: "the results service tests in exec and cmd/vermont",
}

// npmArgs are npm's arguments.
func (n npmInstall) npmArgs() []string {
	return append([]string{"install", "--no-audit", "--no-fund", "--no-package-lock", "--prefix", n.dir}, n.args...)
}

// missing returns the package.json of the first package not installed,
// or "".
func (n npmInstall) missing() string {
	for _, p := range n.pkgs {
		pkg := filepath.Join(n.dir, "node_modules", filepath.FromSlash(p), "package.json")
		if _, err := os.Stat(pkg); err != nil {
			return pkg
		}
	}
	return ""
}

// install installs the packages with npm (found with lookPath) unless
// they are there already. Without npm, or when the install fails, the
// tests that need them cannot pass: that fails the step under CI and is a
// warning otherwise (the tests then skip and say why).
func (n npmInstall) install(r *runner, ci bool, lookPath func(string) (string, error)) (string, error) {
	if n.missing() == "" {
		return strings.Join(n.pkgs, ", ") + " already in " + filepath.ToSlash(filepath.Join(n.dir, "node_modules")), nil
	}
	consequence := n.tests + " skip without them"
	if ci {
		consequence = n.tests + " fail without them under CI=true"
	}
	npm, err := lookPath("npm")
	if err != nil {
		return "", softError(ci, fmt.Sprintf("npm is not installed, so %s cannot be installed into %s; %s (Debian: apt-get install -y npm)", n.what, n.dir, consequence))
	}
	if err := r.cmd(nil, npm, n.npmArgs()...); err != nil {
		return "", softError(ci, fmt.Sprintf("npm install %s into %s: %v; %s", n.what, n.dir, err, consequence))
	}
	if pkg := n.missing(); pkg != "" {
		return "", softError(ci, fmt.Sprintf("npm install finished but %s is missing; %s", pkg, consequence))
	}
	return "installed " + n.what + " from the npm registry into " + n.dir, nil
}

// softError is an error under CI and a warning otherwise.
func softError(ci bool, msg string) error {
	if ci {
		return errors.New(msg)
	}
	return warning{msg}
}

// octokit is what server/api's TestOctokit drives: the real @octokit/rest,
// and libsodium-wrappers to seal a secret as GitHub's documentation does.
var octokit = npmInstall{
	dir:   "server/api/testdata/octokit",
	pkgs:  []string{"@octokit/rest", "libsodium-wrappers"},
	what:  "the packages of server/api/testdata/octokit/package.json",
	tests: "the @octokit/rest tests in server/api",
}
