package workflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// job returns a workflow whose job a has the given lines, adding runs-on
// and steps when the lines do not set them.
func job(lines string) string {
	src := "on: push\njobs:\n  a:\n"
	if !strings.Contains(lines, "runs-on:") && !strings.Contains(lines, "uses: o/r/") {
		src += "    runs-on: x\n"
	}
	src += lines
	if !strings.Contains(lines, "steps:") && !strings.Contains(lines, "uses: o/r/") {
		src += "    steps: [{run: echo}]\n"
	}
	return src
}

const (
	caller  = "    uses: o/r/.github/workflows/w.yml@v1\n"
	oneJob  = "jobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n"
	callOn  = "on:\n  workflow_call:\n"
	stepRun = "    steps:\n      - run: echo\n"
)

// TestContextAvailability covers every row of GitHub's "Context
// availability" table
// (https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#context-availability)
// with an expression the row allows and one it refuses: a context the row
// does not list, or a special function (always, cancelled, failure,
// success, hashFiles) it does not list. GitHub refuses the latter with
// "Unrecognized named-value: 'secrets'" or "Unrecognized function:
// 'hashFiles'" (actions/runner src/Sdk/Expressions/Parser.cs); the
// diagnostic is at the refused name.
func TestContextAvailability(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key     string
		src     string // a workflow with %s where the expression goes
		ok, bad string // bad starts with the refused name
		refused string // the refused context, or function with ()
	}{
		{"run-name", "run-name: ${{ %s }}\non: push\n" + oneJob, "github.actor", "secrets.T", "secrets"},
		{"concurrency", "concurrency:\n  group: ${{ %s }}\non: push\n" + oneJob, "inputs.g || github.ref", "env.G", "env"},
		{"env", "env:\n  A: ${{ %s }}\non: push\n" + oneJob, "secrets.T", "env.B", "env"},
		{"jobs.<job_id>.concurrency", job("    concurrency: ${{ %s }}\n"), "matrix.x", "secrets.T", "secrets"},
		{"jobs.<job_id>.container", job("    container: ${{ %s }}\n"), "matrix.image", "secrets.T", "secrets"},
		// container keys without a row of their own are checked as the container.
		{"jobs.<job_id>.container", job("    container:\n      image: i\n      options: ${{ %s }}\n"), "strategy.job-index", "env.O", "env"},
		{"jobs.<job_id>.container.credentials", job("    container:\n      image: i\n      credentials:\n        username: u\n        password: ${{ %s }}\n"), "secrets.T", "runner.os", "runner"},
		{"jobs.<job_id>.container.env.<env_id>", job("    container:\n      image: i\n      env:\n        A: ${{ %s }}\n"), "runner.os", "steps.s.outputs.o", "steps"},
		{"jobs.<job_id>.container.image", job("    container:\n      image: ${{ %s }}\n"), "needs.b.outputs.image", "env.I", "env"},
		{"jobs.<job_id>.continue-on-error", job("    continue-on-error: ${{ %s }}\n"), "matrix.experimental", "steps.s.outcome", "steps"},
		{"jobs.<job_id>.defaults.run", job("    defaults:\n      run:\n        shell: ${{ %s }}\n"), "env.SHELL", "secrets.T", "secrets"},
		{"jobs.<job_id>.env", job("    env:\n      A: ${{ %s }}\n"), "secrets.T", "env.B", "env"},
		{"jobs.<job_id>.environment", job("    environment: ${{ %s }}\n"), "inputs.env", "secrets.T", "secrets"},
		{"jobs.<job_id>.environment.url", job("    environment:\n      name: n\n      url: ${{ %s }}\n"), "steps.deploy.outputs.url", "secrets.T", "secrets"},
		{"jobs.<job_id>.if", job("    if: %s\n"), "github.ref == 'refs/heads/main' && needs.b.result == 'success'", "env.X == 'y'", "env"},
		{"jobs.<job_id>.if", job("    if: ${{ %s }}\n"), "always() || cancelled() || failure() || success()", "hashFiles('x') != ''", "hashFiles()"},
		{"jobs.<job_id>.name", job("    name: ${{ %s }}\n"), "matrix.os", "env.N", "env"},
		{"jobs.<job_id>.outputs.<output_id>", job("    outputs:\n      o: ${{ %s }}\n"), "steps.s.outputs.o", "hashFiles('x')", "hashFiles()"},
		{"jobs.<job_id>.runs-on", job("    runs-on: ${{ %s }}\n"), "matrix.os", "env.OS", "env"},
		{"jobs.<job_id>.secrets.<secrets_id>", job(caller + "    secrets:\n      T: ${{ %s }}\n"), "secrets.T", "env.T", "env"},
		{"jobs.<job_id>.services", job("    services:\n      db:\n        image: ${{ %s }}\n"), "matrix.db", "env.DB", "env"},
		{"jobs.<job_id>.services.<service_id>.credentials", job("    services:\n      db:\n        image: i\n        credentials:\n          username: u\n          password: ${{ %s }}\n"), "secrets.T", "job.status", "job"},
		{"jobs.<job_id>.services.<service_id>.env.<env_id>", job("    services:\n      db:\n        image: i\n        env:\n          A: ${{ %s }}\n"), "job.status", "steps.s.outcome", "steps"},
		{"jobs.<job_id>.steps.continue-on-error", job(stepRun + "        continue-on-error: ${{ %s }}\n"), "hashFiles('x') == ''", "always()", "always()"},
		{"jobs.<job_id>.steps.env", job(stepRun + "        env:\n          A: ${{ %s }}\n"), "secrets.T", "success()", "success()"},
		{"jobs.<job_id>.steps.if", job(stepRun + "        if: %s\n"), "env.A && steps.s.outputs.o && failure() && hashFiles('x') != ''", "secrets.T", "secrets"},
		{"jobs.<job_id>.steps.name", job(stepRun + "        name: ${{ %s }}\n"), "steps.s.outcome", "cancelled()", "cancelled()"},
		{"jobs.<job_id>.steps.run", job("    steps:\n      - run: echo ${{ %s }}\n"), "secrets.T", "failure()", "failure()"},
		{"jobs.<job_id>.steps.timeout-minutes", job(stepRun + "        timeout-minutes: ${{ %s }}\n"), "fromJSON(env.T)", "jobs.b.outputs.t", "jobs"},
		{"jobs.<job_id>.steps.with", job("    steps:\n      - uses: a/b@v1\n        with:\n          p: ${{ %s }}\n"), "runner.temp", "jobs.b.outputs.p", "jobs"},
		{"jobs.<job_id>.steps.working-directory", job(stepRun + "        working-directory: ${{ %s }}\n"), "github.workspace", "success()", "success()"},
		{"jobs.<job_id>.strategy", job("    strategy:\n      matrix:\n        os: ${{ %s }}\n"), "fromJSON(needs.b.outputs.os)", "matrix.os", "matrix"},
		{"jobs.<job_id>.timeout-minutes", job("    timeout-minutes: ${{ %s }}\n"), "matrix.t", "env.T", "env"},
		{"jobs.<job_id>.with.<with_id>", job(caller + "    with:\n      p: ${{ %s }}\n"), "strategy.job-index", "secrets.T", "secrets"},
		{"on.workflow_call.inputs.<inputs_id>.default", callOn + "    inputs:\n      i:\n        type: string\n        default: ${{ %s }}\n" + oneJob, "github.ref", "secrets.T", "secrets"},
		{"on.workflow_call.outputs.<output_id>.value", callOn + "    outputs:\n      o:\n        value: ${{ %s }}\n" + oneJob, "jobs.a.outputs.o", "steps.s.outputs.o", "steps"},
	}
	covered := map[string]bool{}
	p := NewParser(WithCompiledExpressions())
	for _, tt := range tests {
		covered[tt.key] = true
		t.Run(tt.key+"/"+tt.refused, func(t *testing.T) {
			t.Parallel()
			src := fmt.Sprintf(tt.src, tt.ok)
			if _, err := p.Parse("w.yml", []byte(src)); err != nil {
				t.Errorf("allowed %q refused:\n%v\n%s", tt.ok, err, src)
			}
			src = fmt.Sprintf(tt.src, tt.bad)
			_, err := p.Parse("w.yml", []byte(src))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("refused %q: want one diagnostic, got %v\n%s", tt.bad, err, src)
			}
			want := "Unrecognized named-value: '" + tt.refused + "'"
			if name, ok := strings.CutSuffix(tt.refused, "()"); ok {
				want = "Unrecognized function: '" + name + "'"
			}
			i := strings.Index(src, tt.bad)
			pos := Pos{strings.Count(src[:i], "\n") + 1, i - strings.LastIndex(src[:i], "\n")}
			if e := list[0]; !strings.HasPrefix(e.Msg, want) || e.Pos != pos || e.Kind != KindExpression {
				t.Errorf("got %v, want %s: %s [expression]", e, pos, want)
			}
		})
	}
	for _, a := range contextTable {
		if !covered[a.key] {
			t.Errorf("table key %s has no test", a.key)
		}
	}
}
