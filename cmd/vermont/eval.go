package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/vermont-ci/vermont/workflow/expr"
)

// runEval evaluates one expression against contexts from a JSON file and
// prints the result as JSON.
func runEval(ctx context.Context, args []string, io stdio) int {
	fset := flag.NewFlagSet("eval", flag.ContinueOnError)
	fset.SetOutput(io.err)
	contextFile := fset.String("context", "", "JSON `FILE` whose top-level keys are contexts (github, env, matrix, ...)")
	workspace := fset.String("workspace", ".", "`DIR` that hashFiles() hashes files in")
	failed := fset.Bool("failed", false, "evaluate as if a previous step failed (success() false, failure() true)")
	cancelled := fset.Bool("cancelled", false, "evaluate as if the run was cancelled (cancelled() true)")
	fset.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont eval [--context FILE.json] [--workspace DIR] [--failed] [--cancelled] [--] EXPR\n\n"+
			"Evaluates EXPR, the text between ${{ and }}, and prints its value as JSON on stdout.\n"+
			"Syntax and evaluation errors print eval:LINE:COL: message and exit 1.\n\nflags:")
		fset.PrintDefaults()
	}
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() != 1 {
		fmt.Fprintf(io.err, "vermont eval: want exactly one expression, got %d argument(s); quote the expression\n", fset.NArg())
		fset.Usage()
		return 2
	}
	src := fset.Arg(0)
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(io.err, "vermont eval: %v\n", err)
		return 1
	}
	contexts, err := readContexts(*contextFile)
	if err != nil {
		fmt.Fprintf(io.err, "vermont eval: %v\n", err)
		return 1
	}
	prog, err := expr.Compile(src)
	if err != nil {
		printExprError(io, src, err)
		return 1
	}
	root := *workspace
	scope := &expr.Scope{
		Contexts:  contexts,
		Failed:    *failed,
		Cancelled: *cancelled,
		HashFiles: func(patterns []string) (string, error) { return expr.HashFiles(root, patterns) },
	}
	v, err := prog.Eval(scope)
	if err != nil {
		printExprError(io, src, err)
		return 1
	}
	fmt.Fprintln(io.out, expr.ToJSON(v))
	return 0
}

// readContexts loads the --context file: a JSON object mapping context
// names to values. No file means no contexts.
func readContexts(name string) (map[string]any, error) {
	obj, err := readJSONObject("--context", name, "a JSON object whose keys are context names")
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, obj.Len())
	for k, v := range obj.All() {
		m[k] = v
	}
	return m, nil
}

// readJSONObject reads a file holding one JSON object; no file name gives
// an empty object. flag and want make the error say what was expected.
//
// Its objects keep their keys' order, as GitHub's contexts do.
func readJSONObject(flag, name, want string) (*expr.Object, error) {
	if name == "" {
		return expr.NewObject(0), nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	v, err := expr.ParseJSON(string(data))
	var je *expr.JSONError
	if errors.As(err, &je) && je.Offset >= 0 {
		line, col := lineCol(string(data), int(je.Offset))
		return nil, fmt.Errorf("%s %s:%d:%d: want %s: %s", flag, name, line, col, want, je.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: want %s: %w", flag, name, want, err)
	}
	if v == nil {
		return expr.NewObject(0), nil
	}
	obj, ok := v.(*expr.Object)
	if !ok {
		return nil, fmt.Errorf("%s %s: want %s, not a JSON %s", flag, name, want, jsonKind(v))
	}
	return obj, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "value"
}

// printExprError prints err as eval:LINE:COL: message, the column counted
// in characters.
func printExprError(io stdio, src string, err error) {
	var e *expr.Error
	if !errors.As(err, &e) {
		fmt.Fprintf(io.err, "eval: %v\n", err)
		return
	}
	line, col := lineCol(src, e.Offset)
	fmt.Fprintf(io.err, "eval:%d:%d: %s\n", line, col, e.Msg)
}

// lineCol converts a byte offset in src to a 1-based line and column.
func lineCol(src string, off int) (line, col int) {
	off = max(0, min(off, len(src)))
	before := src[:off]
	line = strings.Count(before, "\n") + 1
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, utf8.RuneCountInString(before) + 1
}
