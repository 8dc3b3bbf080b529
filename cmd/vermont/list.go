package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/vermont-ci/vermont/workflow"
)

// runList prints one aligned row per job of each workflow: the workflow,
// the job, its name and the events that trigger it.
func runList(ctx context.Context, args []string, io stdio) int {
	fset := flag.NewFlagSet("list", flag.ContinueOnError)
	fset.SetOutput(io.err)
	fset.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont list [PATH...]\n\n"+
			"Lists the workflows in the given files or directories (default "+defaultWorkflowDir+"),\n"+
			"one row per job, with the events that trigger the workflow. Problems in a file are\n"+
			"reported on stderr and make the exit status 1; what could be read is still listed.")
	}
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	files, err := yamlFiles(fset.Args())
	if err != nil {
		fmt.Fprintf(io.err, "vermont list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKFLOW\tJOB\tNAME\tEVENTS\tFILE")
	p := workflow.NewParser()
	code := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(io.err, "vermont list: %v\n", err)
			return 1
		}
		wf, diags, err := parseWorkflowFile(p, f)
		if errors.Is(err, errNotWorkflow) {
			continue
		}
		if err != nil {
			fmt.Fprintf(io.err, "vermont list: %v\n", err)
			return 1
		}
		for _, d := range diags {
			fmt.Fprintln(io.err, d.Error())
			code = 1
		}
		if wf != nil {
			listRows(tw, f, wf)
		}
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(io.err, "vermont list: %v\n", err)
		return 1
	}
	return code
}

// errNotWorkflow marks action files, which list skips.
var errNotWorkflow = errors.New("not a workflow")

// parseWorkflowFile parses a workflow file; the error is for files it
// cannot read, or errNotWorkflow for action metadata.
func parseWorkflowFile(p *workflow.YAMLParser, path string) (*workflow.Workflow, workflow.ErrorList, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if isActionFile(path) || looksLikeAction(src) {
		return nil, nil, errNotWorkflow
	}
	wf, err := p.Parse(path, src)
	diags, err := asDiagnostics(err)
	return wf, diags, err
}

// listRows writes the rows of one workflow.
func listRows(tw *tabwriter.Writer, file string, wf *workflow.Workflow) {
	name := file
	if wf.Name != nil && wf.Name.Value != "" {
		name = wf.Name.Value
	}
	events := make([]string, 0, len(wf.On))
	for _, e := range wf.On {
		events = append(events, e.Name.Value)
	}
	ev := strings.Join(events, ",")
	if ev == "" {
		ev = "-"
	}
	if len(wf.Jobs) == 0 {
		fmt.Fprintf(tw, "%s\t-\t-\t%s\t%s\n", cell(name), ev, file)
	}
	for _, j := range wf.Jobs {
		jobName := "-"
		if j.Name != nil && j.Name.Value != "" {
			jobName = j.Name.Value
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell(name), j.ID.Value, cell(jobName), ev, file)
	}
}

// cell keeps a value on one line and out of the column separators.
func cell(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
