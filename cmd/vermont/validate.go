package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
)

// defaultWorkflowDir is where validate and list look when given no path.
const defaultWorkflowDir = ".github/workflows"

// runValidate checks workflow and action files and prints every diagnostic.
func runValidate(ctx context.Context, args []string, io stdio) int {
	fset := flag.NewFlagSet("validate", flag.ContinueOnError)
	fset.SetOutput(io.err)
	fset.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont validate [PATH...]\n\n"+
			"Checks workflow files, and action.yml/action.yaml files as actions, and prints every\n"+
			"problem on stderr as file:line:col: message [kind]. Warnings (what GitHub may accept but\n"+
			"Vermont does not know, such as a newer event) are printed too and do not fail. A directory stands for the\n"+
			"workflow and action files in it (YAML with a top-level on:, jobs: or runs: key), plus\n"+
			"action.yml files and .github/workflows directories below it.\n"+
			"The default PATH is "+defaultWorkflowDir+". Exits 1 when any file has a problem.")
	}
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	files, err := yamlFiles(fset.Args())
	if err != nil {
		fmt.Fprintf(io.err, "vermont validate: %v\n", err)
		return 1
	}
	p := workflow.NewParser(workflow.WithCompiledExpressions())
	problems, bad, warned := 0, 0, 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(io.err, "vermont validate: %v\n", err)
			return 1
		}
		diags, err := validateFile(p, f)
		if err != nil {
			fmt.Fprintf(io.err, "vermont validate: %v\n", err)
			return 1
		}
		for _, d := range diags {
			fmt.Fprintln(io.err, d.Error())
		}
		warned += len(diags.Warnings())
		if diags.HasErrors() {
			problems += len(diags) - len(diags.Warnings())
			bad++
		}
	}
	if problems > 0 {
		fmt.Fprintf(io.err, "vermont validate: %d problem(s) in %d of %d file(s)\n", problems, bad, len(files))
		return 1
	}
	if warned > 0 {
		fmt.Fprintf(io.out, "%d file(s) valid, %d warning(s)\n", len(files), warned)
		return 0
	}
	fmt.Fprintf(io.out, "%d file(s) valid\n", len(files))
	return 0
}

// validateFile parses one file, as an action when it is named action.yml
// or looks like one, and returns its diagnostics, warnings included; the error is for files it cannot read.
func validateFile(p *workflow.YAMLParser, path string) (workflow.ErrorList, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var warnings workflow.ErrorList
	if isActionFile(path) || looksLikeAction(src) {
		var a *workflow.Action
		if a, err = p.ParseAction(path, src); a != nil {
			warnings = a.Warnings
		}
	} else {
		var wf *workflow.Workflow
		if wf, err = p.Parse(path, src); wf != nil {
			warnings = wf.Warnings
		}
	}
	if err == nil {
		return warnings, nil
	}
	return asDiagnostics(err)
}

// asDiagnostics turns a parser error into its diagnostics.
func asDiagnostics(err error) (workflow.ErrorList, error) {
	if err == nil {
		return nil, nil
	}
	var list workflow.ErrorList
	if errors.As(err, &list) {
		return list, nil
	}
	return nil, err
}

func isActionFile(path string) bool {
	base := filepath.Base(path)
	return base == "action.yml" || base == "action.yaml"
}

// isWorkflowDir reports whether dir is a .github/workflows directory.
func isWorkflowDir(dir string) bool {
	d := filepath.ToSlash(dir)
	return d == ".github/workflows" || strings.HasSuffix(d, "/.github/workflows")
}

// looksLikeOurs reports whether a YAML file has a top-level on:, jobs: or
// runs: key, so that a directory walk skips docker-compose.yml and the
// like; files named on the command line are always checked.
func looksLikeOurs(path string) bool {
	src, err := os.ReadFile(path)
	if err != nil {
		return true // let validateFile report it
	}
	for _, line := range strings.Split(string(src), "\n") {
		for _, k := range []string{"on:", "jobs:", "runs:", "\"on\":", "'on':"} {
			if strings.HasPrefix(line, k) {
				return true
			}
		}
	}
	return false
}

// looksLikeAction reports whether a YAML file whose name does not say what
// it is holds action metadata: a top-level runs: key and no jobs: key.
func looksLikeAction(src []byte) bool {
	var runs, jobs bool
	for _, line := range strings.Split(string(src), "\n") {
		runs = runs || strings.HasPrefix(line, "runs:")
		jobs = jobs || strings.HasPrefix(line, "jobs:")
	}
	return runs && !jobs
}

func isYAML(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yml" || ext == ".yaml"
}

// yamlFiles expands the command-line paths into the files to check, sorted
// and without duplicates. Files are taken as given; a directory gives the
// YAML files directly in it that have a top-level on:, jobs: or runs: key,
// and below it every action.yml/action.yaml and every YAML file directly in
// a .github/workflows directory.
func yamlFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{defaultWorkflowDir}
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("%w (give workflow files or directories; the default is %s)", err, defaultWorkflowDir)
		}
		if !info.IsDir() {
			add(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != root && (d.Name() == ".git" || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if isActionFile(p) || isWorkflowDir(filepath.Dir(p)) && isYAML(p) ||
				filepath.Dir(p) == filepath.Clean(root) && isYAML(p) && looksLikeOurs(p) {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", root, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workflow or action files in %s", strings.Join(paths, ", "))
	}
	sort.Strings(out)
	return out, nil
}
