// Package expr implements GitHub Actions' expression language: the text
// between ${{ and }} in a workflow, and strings that interpolate such
// expressions.
//
// Source is lexed and parsed by a hand-written, synchronous recursive-descent
// parser into a sealed AST ([Node]), checked (unknown functions, arity,
// unknown contexts, nesting depth), and compiled once onto expr-lang's VM
// (github.com/expr-lang/expr). A compiled [Program] is immutable and safe for
// concurrent use; each [Program.Eval] takes the run state in a [Scope].
//
// Semantics follow GitHub's documentation, "Evaluate expressions in workflows
// and actions" (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions),
// and, for the corners the documentation leaves open, the behaviour of
// actions/runner: loose equality with coercion to numbers, case-insensitive
// string comparison, && and || returning operand values, case-insensitive
// property names, object filters (a.*.b), and GitHub's string conversion of
// values.
package expr
