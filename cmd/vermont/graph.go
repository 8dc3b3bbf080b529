package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
)

func runGraph(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("vermont graph", flag.ContinueOnError)
	fs.SetOutput(io.err)
	dot := fs.Bool("dot", false, "print Graphviz dot instead of text")
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont graph [--dot] [PATH...]\n\nPrints each workflow's job graph after matrix expansion.\n\nflags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	paths, err := yamlFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(io.err, "vermont graph: %v\n", err)
		return 1
	}
	p := workflow.NewParser()
	code := 0
	for _, path := range paths {
		wf, diags, err := parseWorkflowFile(p, path)
		if errors.Is(err, errNotWorkflow) {
			continue
		}
		if err != nil {
			fmt.Fprintf(io.err, "vermont graph: %v\n", err)
			return 1
		}
		if len(diags) > 0 {
			for _, d := range diags {
				fmt.Fprintln(io.err, d)
			}
			code = 1
			continue
		}
		plan, err := schedule.NewPlan(wf)
		if err != nil {
			fmt.Fprintln(io.err, err)
			code = 1
			continue
		}
		g := buildGraph(plan)
		if *dot {
			g.writeDot(io.out, path)
		} else {
			g.writeText(io.out, path)
		}
	}
	return code
}

// graphNode is a job, or one leg of a matrix job.
type graphNode struct {
	job   string
	label string
}

type jobGraph struct {
	order []string
	nodes map[string][]graphNode // by job id
	needs map[string][]string
}

// buildGraph expands every matrix it can; a matrix that depends on needs
// outputs is shown as one node saying so.
func buildGraph(plan *schedule.Plan) *jobGraph {
	g := &jobGraph{nodes: map[string][]graphNode{}, needs: map[string][]string{}}
	for _, id := range plan.JobIDs() {
		g.order = append(g.order, id)
		g.needs[id] = plan.Needs(id)
		legs, err := plan.Legs(id)
		switch {
		case err != nil:
			g.nodes[id] = []graphNode{{job: id, label: id + " (matrix known at run time)"}}
		case len(legs) == 0:
			g.nodes[id] = []graphNode{{job: id, label: id}}
		default:
			for _, l := range legs {
				g.nodes[id] = append(g.nodes[id], graphNode{job: id, label: id + " " + legLabel(l)})
			}
		}
	}
	return g
}

func legLabel(l schedule.Leg) string {
	parts := make([]string, 0, len(l.Keys))
	for _, k := range l.Keys {
		parts = append(parts, fmt.Sprint(l.Values[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// writeText prints one line per job or leg, with what it needs.
func (g *jobGraph) writeText(w io.Writer, file string) {
	fmt.Fprintln(w, file)
	for _, id := range g.order {
		for _, n := range g.nodes[id] {
			line := "  " + n.label
			if needs := g.needs[id]; len(needs) > 0 {
				line += " <- " + strings.Join(needs, ", ")
			}
			fmt.Fprintln(w, line)
		}
	}
}

// writeDot prints a Graphviz digraph: one node per leg, an edge from every
// leg of a needed job to every leg of the job that needs it.
func (g *jobGraph) writeDot(w io.Writer, file string) {
	fmt.Fprintf(w, "digraph %s {\n  rankdir=LR;\n", strconv.Quote(file))
	ids := map[string]string{}
	n := 0
	for _, id := range g.order {
		for _, node := range g.nodes[id] {
			n++
			key := "n" + strconv.Itoa(n)
			ids[node.label] = key
			fmt.Fprintf(w, "  %s [label=%s];\n", key, strconv.Quote(node.label))
		}
	}
	var edges []string
	for _, id := range g.order {
		for _, need := range g.needs[id] {
			for _, from := range g.nodes[need] {
				for _, to := range g.nodes[id] {
					edges = append(edges, fmt.Sprintf("  %s -> %s;", ids[from.label], ids[to.label]))
				}
			}
		}
	}
	sort.Strings(edges)
	for _, e := range edges {
		fmt.Fprintln(w, e)
	}
	fmt.Fprintln(w, "}")
}
