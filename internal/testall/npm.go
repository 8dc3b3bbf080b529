package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// jsActionDir is the JavaScript action the exec tests run. Its
// node_modules (git-ignored) must hold the real @actions/core package from
// the npm registry: the tests show that actions written with it run
// through Vermont unchanged.
const jsActionDir = "testdata/actions-run/js-action"

// actionsCorePkg is the package installed there. @actions/core 3 is an
// ES module; the action imports it as one.
const actionsCorePkg = "@actions/core@3"

// npmArgs are the arguments of the npm install into dir. --no-save and
// --no-package-lock leave the committed package.json alone and write no
// lock file.
func npmArgs(dir string) []string {
	return []string{"install", "--no-audit", "--no-fund", "--no-save", "--no-package-lock", "--prefix", dir, actionsCorePkg}
}

// installActionsCore installs @actions/core into dir with npm (found with
// lookPath) unless it is there already. Without npm, or when the install
// fails, the JavaScript action tests cannot pass: that fails the step
// under CI and is a warning otherwise (the tests then skip and say why).
func installActionsCore(r *runner, dir string, ci bool, lookPath func(string) (string, error)) (string, error) {
	pkg := filepath.Join(dir, "node_modules", "@actions", "core", "package.json")
	if _, err := os.Stat(pkg); err == nil {
		return "@actions/core is already in " + filepath.ToSlash(filepath.Join(dir, "node_modules")), nil
	}
	consequence := "the JavaScript action tests in exec skip without it"
	if ci {
		consequence = "the JavaScript action tests in exec fail without it under CI=true"
	}
	npm, err := lookPath("npm")
	if err != nil {
		return "", softError(ci, fmt.Sprintf("npm is not installed, so %s cannot be installed into %s; %s (Debian: apt-get install -y npm)", actionsCorePkg, dir, consequence))
	}
	if err := r.cmd(nil, npm, npmArgs(dir)...); err != nil {
		return "", softError(ci, fmt.Sprintf("npm install %s into %s: %v; %s", actionsCorePkg, dir, err, consequence))
	}
	if _, err := os.Stat(pkg); err != nil {
		return "", softError(ci, fmt.Sprintf("npm install finished but %s is missing; %s", pkg, consequence))
	}
	return "installed " + actionsCorePkg + " from the npm registry into " + dir, nil
}

// softError is an error under CI and a warning otherwise.
func softError(ci bool, msg string) error {
	if ci {
		return errors.New(msg)
	}
	return warning{msg}
}
