// Package vermont runs GitHub Actions workflows on machines you own, and
// keeps a pool of ephemeral self-hosted runners. This package holds only
// documentation; the work is done by the packages it names, which callers
// wire together:
//
//   - [github.com/vermont-ci/vermont/workflow] parses workflow and action
//     files into an immutable model with positions, and reports every problem
//     at once as file:line:col diagnostics (the Parser interface).
//   - [github.com/vermont-ci/vermont/workflow/expr] is the ${{ }} language,
//     compiled once onto expr-lang's VM and evaluated many times.
//   - [github.com/vermont-ci/vermont/schedule] plans a workflow (matrix
//     expansion, the needs graph, job if) and runs it with a Scheduler that
//     starts each job as soon as its needs are done.
//   - [github.com/vermont-ci/vermont/exec] runs one job: contexts, env, step
//     conditions, shells, workflow commands, masking. Its Runner is the
//     scheduler's JobRunner, and it runs steps through a Backend's
//     StepRunner: [github.com/vermont-ci/vermont/exec/host] on this machine,
//     [github.com/vermont-ci/vermont/exec/containerd] in containers.
//   - [github.com/vermont-ci/vermont/actions] resolves and caches uses:
//     references (local, $/self, owner/repo@ref, reusable workflows).
//   - [github.com/vermont-ci/vermont/vm] keeps the pool of single-use runners
//     on a VMProvider ([github.com/vermont-ci/vermont/vm/containerd],
//     [github.com/vermont-ci/vermont/vm/hyperv]), fed by
//     [github.com/vermont-ci/vermont/webhook] and GitHub's API
//     ([github.com/vermont-ci/vermont/vm/github]).
//
// The wiring of a local run, Parser → Scheduler → StepRunner, fits in a
// dozen lines; see the package example. The reference binary is
// cmd/vermont: `go run ./cmd/vermont run`.
package vermont
