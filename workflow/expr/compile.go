package expr

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Scope is the run state an expression is evaluated in.
type Scope struct {
	// Contexts maps context names ("github", "env", "vars", "secrets",
	// "inputs", "matrix", "strategy", "needs", "steps", "job", "jobs",
	// "runner") to JSON-like values: map[string]any, []any, string,
	// float64, bool and nil. Names and keys are matched case-insensitively.
	Contexts map[string]any
	// Failed and Cancelled drive the status functions: success() is
	// !Failed && !Cancelled, failure() is Failed, cancelled() is Cancelled,
	// and always() is true.
	Failed, Cancelled bool
	// Incomplete makes success() false without making failure() true:
	// for a job, a job it needs was skipped or cancelled, which GitHub
	// treats as "not succeeded".
	Incomplete bool
	// HashFiles implements hashFiles(); nil makes hashFiles() an
	// evaluation error. [HashFiles] is the usual implementation.
	HashFiles func(patterns []string) (string, error)
}

// Program is a compiled expression: immutable, safe for concurrent use,
// evaluated many times with [Program.Eval].
type Program struct {
	node       Node
	prog       *vm.Program
	usesStatus bool
	contexts   []string
	vms        sync.Pool // of *vm.VM, reused between evaluations
}

// Compile parses src (the text between ${{ and }}), checks it (unknown
// contexts and functions, arity, nesting depth) and compiles it onto
// expr-lang's VM. Errors are *[Error] with the offset in src.
func Compile(src string) (*Program, error) {
	p, err := compile(src)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compile(src string) (*Program, *Error) {
	n, err := parse(src)
	if err != nil {
		return nil, err
	}
	return compileNode(n)
}

// Check parses and checks src as Compile does (syntax, unknown contexts and
// functions, arity) without building the VM program: about a third of
// Compile's cost, for validators that only report errors. Errors are
// *[Error] with offsets in src.
func Check(src string) error {
	n, err := parse(src)
	if err != nil {
		return err
	}
	t := &translator{contexts: map[string]bool{}}
	if _, err := t.node(n); err != nil {
		return err
	}
	return nil
}

// compileNode checks n and compiles it onto expr-lang.
func compileNode(n Node) (*Program, *Error) {
	c := &translator{contexts: map[string]bool{}}
	tree, err := c.node(n)
	if err != nil {
		return nil, err
	}
	// A bare Config rather than conf.CreateNew: expr-lang's builtins are
	// never referenced, and building their table dominated compile time.
	// The parser bounds the size already, so MaxNodes is off.
	config := &conf.Config{ShortCircuit: true, Functions: runtimeTable}
	t := &exprparser.Tree{Node: tree, Source: file.NewSource(n.String())}
	if _, cerr := checker.Check(t, config); cerr != nil {
		return nil, errorf(n.Offset(), "internal error: expr-lang rejected the compiled expression: %v", cerr)
	}
	prog, cerr := compiler.Compile(t, config)
	if cerr != nil {
		return nil, errorf(n.Offset(), "internal error: expr-lang could not compile the expression: %v", cerr)
	}
	p := &Program{node: n, prog: prog, usesStatus: c.status}
	for name := range c.contexts {
		p.contexts = append(p.contexts, name)
	}
	sort.Strings(p.contexts)
	return p, nil
}

// Node returns the program's syntax tree.
func (p *Program) Node() Node { return p.node }

// String prints the expression as canonical source.
func (p *Program) String() string { return p.node.String() }

// UsesStatus reports whether the expression calls success(), failure(),
// cancelled() or always(). When it doesn't, GitHub evaluates an if: as
// success() && (expr); callers add that.
func (p *Program) UsesStatus() bool { return p.usesStatus }

// Contexts returns the context names the expression references, lower
// case, sorted, without duplicates.
func (p *Program) Contexts() []string { return append([]string(nil), p.contexts...) }

// Eval evaluates the program in s (nil is an empty scope). The result is a
// JSON-like value: nil, bool, float64, string, []any or map[string]any.
// Evaluation errors (bad format strings, invalid JSON, hashFiles failures)
// are *[Error] with the offset of the failing call.
func (p *Program) Eval(s *Scope) (any, error) {
	if s == nil {
		s = &Scope{}
	}
	m, _ := p.vms.Get().(*vm.VM)
	if m == nil {
		m = &vm.VM{}
	}
	out, err := m.Run(p.prog, s)
	p.vms.Put(m)
	if err != nil {
		return nil, evalErr(p, err)
	}
	if f, ok := out.(filtered); ok {
		return []any(f), nil
	}
	return out, nil
}

// evalErr turns a VM error into an *Error. A runtime.Error is a bug in
// this package: it is re-panicked rather than hidden (STYLE 17).
func evalErr(p *Program, err error) error {
	var re runtime.Error
	if errors.As(err, &re) {
		panic(re)
	}
	var ee *evalError
	if errors.As(err, &ee) {
		return &Error{Offset: ee.off, Msg: ee.msg}
	}
	return &Error{Offset: p.node.Offset(), Msg: "internal error: " + err.Error()}
}

// translator translates our AST into expr-lang's AST. Operators and
// functions become calls of the runtime functions (runtimeFuncs) that carry
// GitHub's coercion rules; && and || become let-bound conditionals that
// return operand values, or expr-lang's own and/or when both sides are
// known booleans.
type translator struct {
	vars     int
	status   bool
	contexts map[string]bool
}

// typed calls a Go function directly. Its signature is one expr-lang's VM
// calls without boxing arguments into a slice (OpCallTyped: func(any) any,
// func(any) bool, func(any, any) bool, ...), which keeps Eval allocation-
// free apart from the VM itself. Functions that can fail go through call.
func typed(fn any, args ...ast.Node) ast.Node {
	return &ast.CallNode{Callee: &ast.ConstantNode{Value: fn}, Arguments: args}
}

// contextPath returns a function that looks up a context and then the
// property names in order, for ctx.a.b, with GitHub's case-insensitive,
// null-on-missing rules.
func contextPath(name string, keys []string) func(env any) any {
	boxed := make([]any, len(keys)) // boxed once here, not on every Eval
	for i, k := range keys {
		boxed[i] = k
	}
	return func(env any) any {
		s, _ := env.(*Scope)
		v := contextValue(s, name)
		for _, k := range boxed {
			v = index(v, k)
		}
		return v
	}
}

func not(v any) bool { return !truthy(v) }

func call(name string, args ...ast.Node) ast.Node {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
}

func env() ast.Node { return &ast.IdentifierNode{Value: "$env"} }

func strNode(s string) ast.Node { return &ast.StringNode{Value: s} }

func integer(i int) ast.Node { return &ast.IntegerNode{Value: i} }

// node compiles n.
func (c *translator) node(n Node) (ast.Node, *Error) {
	switch n := n.(type) {
	case *Literal:
		return literal(n.Value), nil
	case *ContextRef:
		name := strings.ToLower(n.Name)
		if !isContextName(name) {
			return nil, errorf(n.Pos, "unrecognized named-value %q: the contexts are %s", n.Name, strings.Join(contextNames, ", "))
		}
		c.contexts[name] = true
		return typed(contextPath(name, nil), env()), nil
	case *Property:
		if ctx, names, ok := propertyPath(n); ok {
			if _, err := c.node(ctx); err != nil {
				return nil, err
			}
			// Fuse context.a.b into one call: fewer VM calls per Eval.
			return typed(contextPath(strings.ToLower(ctx.Name), names), env()), nil
		}
		x, err := c.node(n.X)
		if err != nil {
			return nil, err
		}
		return typed(index, x, strNode(n.Name)), nil
	case *Index:
		x, err := c.node(n.X)
		if err != nil {
			return nil, err
		}
		i, err := c.node(n.Index)
		if err != nil {
			return nil, err
		}
		return typed(index, x, i), nil
	case *Filter:
		x, err := c.node(n.X)
		if err != nil {
			return nil, err
		}
		return typed(filter, x), nil
	case *Not:
		x, err := c.node(n.X)
		if err != nil {
			return nil, err
		}
		if isBool(n.X) {
			return &ast.UnaryNode{Operator: "not", Node: x}, nil
		}
		return typed(not, x), nil
	case *Binary:
		return c.binary(n)
	case *Call:
		return c.call(n)
	}
	return nil, errorf(n.Offset(), "internal error: unknown node %T", n)
}

// propertyPath reports whether n is ctx.a.b... and returns the context and
// the property names in order.
func propertyPath(n *Property) (*ContextRef, []string, bool) {
	var names []string
	var x Node = n
	for {
		switch p := x.(type) {
		case *Property:
			names = append(names, p.Name)
			x = p.X
			continue
		case *ContextRef:
			slices.Reverse(names)
			return p, names, true
		}
		return nil, nil, false
	}
}

func literal(v any) ast.Node {
	switch v := v.(type) {
	case bool:
		return &ast.BoolNode{Value: v}
	case float64:
		return &ast.FloatNode{Value: v}
	case string:
		return &ast.StringNode{Value: v}
	}
	return &ast.NilNode{}
}

// isBool reports whether n always evaluates to a boolean.
func isBool(n Node) bool {
	switch n := n.(type) {
	case *Literal:
		_, ok := n.Value.(bool)
		return ok
	case *Not:
		return true
	case *Binary:
		if n.Op == OpAnd || n.Op == OpOr {
			return isBool(n.L) && isBool(n.R)
		}
		return true
	case *Call:
		return functions[strings.ToLower(n.Name)].boolean
	}
	return false
}

// cmpFuncs implement the comparison operators.
var cmpFuncs = [...]func(a, b any) bool{
	OpEq: looseEqual,
	OpNe: func(a, b any) bool { return !looseEqual(a, b) },
	OpLt: func(a, b any) bool { c, ok := compare(a, b); return ok && c < 0 },
	OpLe: func(a, b any) bool { c, ok := compare(a, b); return ok && c <= 0 },
	OpGt: func(a, b any) bool { c, ok := compare(a, b); return ok && c > 0 },
	OpGe: func(a, b any) bool { c, ok := compare(a, b); return ok && c >= 0 },
}

func (c *translator) binary(n *Binary) (ast.Node, *Error) {
	l, err := c.node(n.L)
	if err != nil {
		return nil, err
	}
	r, err := c.node(n.R)
	if err != nil {
		return nil, err
	}
	if n.Op != OpAnd && n.Op != OpOr {
		return typed(cmpFuncs[n.Op], l, r), nil
	}
	if isBool(n.L) && isBool(n.R) {
		op := "and"
		if n.Op == OpOr {
			op = "or"
		}
		return &ast.BinaryNode{Operator: op, Left: l, Right: r}, nil
	}
	// let t = L; truthy(t) ? R : t   (&&)
	// let t = L; truthy(t) ? t : R   (||)
	name := fmt.Sprintf("_t%d", c.vars)
	c.vars++
	t := &ast.IdentifierNode{Value: name}
	cond := &ast.ConditionalNode{Ternary: true, Cond: typed(truthy, t), Exp1: r, Exp2: t}
	if n.Op == OpOr {
		cond.Exp1, cond.Exp2 = t, r
	}
	return &ast.VariableDeclaratorNode{Name: name, Value: l, Expr: cond}, nil
}

func (c *translator) call(n *Call) (ast.Node, *Error) {
	if err := checkCall(n); err != nil {
		return nil, err
	}
	info := functions[strings.ToLower(n.Name)]
	if info.status {
		c.status = true
	}
	args := make([]ast.Node, len(n.Args))
	for i, a := range n.Args {
		x, err := c.node(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	switch info.name {
	case "contains":
		return typed(contains, args...), nil
	case "startsWith":
		return typed(startsWith, args...), nil
	case "endsWith":
		return typed(endsWith, args...), nil
	case "format":
		return call(fnFormat, append([]ast.Node{integer(n.Pos)}, args...)...), nil
	case "join":
		if len(args) == 1 {
			return typed(func(v any) string { return join(v, nil, false) }, args...), nil
		}
		return typed(func(v, sep any) string { return join(v, sep, true) }, args...), nil
	case "toJSON":
		return typed(toJSON, args...), nil
	case "fromJSON":
		return call(fnFromJSON, integer(n.Pos), args[0]), nil
	case "hashFiles":
		return call(fnHashFiles, append([]ast.Node{env(), integer(n.Pos)}, args...)...), nil
	case "case":
		return caseNode(n.Pos, args), nil
	case "success", "always", "cancelled", "failure":
		name := info.name
		return typed(func(s any) bool { sc, _ := s.(*Scope); return status(sc, name) }, env()), nil
	}
	return nil, errorf(n.Pos, "internal error: function %s has no implementation", info.name)
}

// caseNode compiles case(p1, v1, ..., default) to nested conditionals, so
// only the chosen value is evaluated. A predicate that is not a boolean is
// an evaluation error, as in actions/runner.
func caseNode(off int, args []ast.Node) ast.Node {
	if len(args) == 1 {
		return args[0]
	}
	return &ast.ConditionalNode{Ternary: true, Cond: call(fnCasePred, integer(off), args[0]), Exp1: args[1], Exp2: caseNode(off, args[2:])}
}

// Names of the runtime functions that can fail, registered with expr-lang
// (which turns their errors into evaluation errors). Users never write
// expr-lang source, so these names cannot clash with anything.
const (
	fnFormat    = "_format"
	fnFromJSON  = "_fromJSON"
	fnHashFiles = "_hashFiles"
	fnCasePred  = "_casePred"
)

// Declared signatures tell expr-lang's checker what the functions return.
var (
	sigBool2 = new(func(any, any) bool)
	sigAny2  = new(func(any, any) any)
	sigAnyN  = new(func(...any) any)
)

// runtimeFuncs are registered with every compiled program. Immutable.
var runtimeFuncs = []*builtin.Function{
	fn(fnFormat, func(a ...any) (any, error) {
		off, _ := a[0].(int)
		s, err := format(funcString(a[1]), a[2:])
		if err != nil {
			return nil, &evalError{off: off, msg: err.Error()}
		}
		return s, nil
	}, sigAnyN),
	fn(fnFromJSON, func(a ...any) (any, error) {
		off, _ := a[0].(int)
		v, err := fromJSON(funcString(a[1]))
		if err != nil {
			return nil, &evalError{off: off, msg: err.Error()}
		}
		return v, nil
	}, sigAny2),
	fn(fnHashFiles, func(a ...any) (any, error) {
		s, _ := a[0].(*Scope)
		off, _ := a[1].(int)
		if s == nil || s.HashFiles == nil {
			return nil, &evalError{off: off, msg: "hashFiles: not available here (no workspace to hash files in)"}
		}
		patterns := make([]string, 0, len(a)-2)
		for _, p := range a[2:] {
			patterns = append(patterns, funcString(p))
		}
		h, err := s.HashFiles(patterns)
		if err != nil {
			return nil, &evalError{off: off, msg: "hashFiles: " + err.Error()}
		}
		return h, nil
	}, sigAnyN),
	fn(fnCasePred, func(a ...any) (any, error) {
		off, _ := a[0].(int)
		b, ok := a[1].(bool)
		if !ok {
			return nil, &evalError{off: off, msg: "case: a predicate evaluated to " + describe(a[1]) + ", not a boolean; compare it, like x == 'value'"}
		}
		return b, nil
	}, sigBool2),
}

// runtimeTable indexes runtimeFuncs by name for expr-lang's checker and
// compiler, which only read it. Immutable.
var runtimeTable = func() conf.FunctionsTable {
	t := conf.FunctionsTable{}
	for _, f := range runtimeFuncs {
		t[f.Name] = f
	}
	return t
}()

func fn(name string, f func(...any) (any, error), sig any) *builtin.Function {
	return &builtin.Function{Name: name, Func: f, Types: []reflect.Type{reflect.TypeOf(sig).Elem()}}
}

// status evaluates a status check function.
func status(s *Scope, name string) bool {
	if s == nil {
		s = &Scope{}
	}
	switch name {
	case "success":
		return !s.Failed && !s.Cancelled && !s.Incomplete
	case "failure":
		return s.Failed
	case "cancelled":
		return s.Cancelled
	}
	return true // always
}
