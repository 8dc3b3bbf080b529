// Package expr implements GitHub Actions' expression language: the text
// between ${{ and }} in a workflow, and strings that interpolate such
// expressions.
//
// Source is lexed and parsed by a hand-written, synchronous recursive-descent
// parser into a sealed syntax tree ([Node]), checked (unknown functions,
// arity, unknown contexts, nesting depth), and compiled once onto expr-lang's
// VM (github.com/expr-lang/expr). A compiled [Program] is immutable and safe
// for concurrent use; each [Program.Eval] takes the run state in a [Scope].
// Operators and functions compile to calls of Go functions that carry
// GitHub's coercion rules; the hot ones use the VM's typed-call path, so a
// typical if: evaluates without allocating.
//
// Semantics follow GitHub's documentation, "Evaluate expressions in workflows
// and actions" (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions),
// and, for the corners the documentation leaves open, the behaviour of
// actions/runner: loose equality with coercion to numbers, case-insensitive
// string comparison, && and || returning operand values, case-insensitive
// property names, object filters (a.*.b), numbers printed with 15
// significant digits, and GitHub's string conversion of values.
//
// Known differences from GitHub, all forced by Go values or deliberate:
//   - Object keys have no order in Go maps, so toJSON prints keys sorted and
//     an object filter (obj.*) yields values in key order, where GitHub keeps
//     the order of the JSON source.
//   - Two empty arrays are never the same instance (Go slices of length 0
//     have no identity), so == between empty arrays is false.
//   - format() evaluates all its arguments; GitHub evaluates only those the
//     format string references, which matters only for an unused argument
//     that fails.
package expr
