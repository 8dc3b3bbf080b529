// Package workflow is Vermont's model of GitHub Actions workflow files and
// action metadata (action.yml), with a source position on every node and on
// every scalar the user wrote.
//
// A [Parser] turns a file into a [*Workflow]; the default implementation,
// [YAMLParser], walks gopkg.in/yaml.v3 nodes by hand (no struct-tag decoding)
// and validates as it goes: unknown keys, wrong types, missing required keys,
// bad `uses` references, job and step ids, `needs` and dependency cycles,
// cron schedules and `${{ }}` expression syntax. Problems in the input are
// reported all at once as an [ErrorList] of positioned [*Error] values that
// render as `file:line:col: message [kind]`; parsing never panics.
//
// The model is immutable once returned: run state (results, outputs,
// expanded matrices) lives in the packages that run workflows. Matrix values
// are kept as generic [*Value] trees with positions; expanding them is the
// scheduler's job.
//
// [Workflow.Triggered] applies GitHub's event filters (types, branches, tags,
// paths, workflows with `!` negation and `*`, `**`, `?`, `+`, `[]` globs) to
// decide whether a workflow runs for an event.
//
// The syntax follows https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
// and https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax.
package workflow
