//go:build !windows

package vermont_test

import (
	"context"
	"fmt"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
)

const helloWorkflow = `on: push
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - id: hi
        run: echo "greeting=hello from ${{ github.event_name }}" >> "$GITHUB_OUTPUT"
    outputs:
      greeting: ${{ steps.hi.outputs.greeting }}
`

// Example wires a local run: parse the workflow, plan it with its contexts,
// and run it on the host backend, printing the events.
func Example() {
	wf, err := workflow.NewParser().Parse("hello.yml", []byte(helloWorkflow))
	if err != nil {
		fmt.Println(err) // every problem, as file:line:col: message
		return
	}
	github := exec.GitHubContext(exec.GitHubOptions{EventName: "push", Repo: exec.Repo{Root: "."}})
	plan, err := schedule.NewPlan(wf, schedule.WithContexts(map[string]any{"github": github}))
	if err != nil {
		fmt.Println(err)
		return
	}
	runner, err := exec.New(host.New(), exec.WithSink(exec.SinkFunc(func(e exec.Event) {
		if e.Kind == exec.JobFinished {
			fmt.Println(e.Job, e.Result, e.Outputs["greeting"])
		}
	})))
	if err != nil {
		fmt.Println(err)
		return
	}
	result := schedule.New().Run(context.Background(), plan, runner)
	fmt.Println("run:", result.Result)
	// Output:
	// greet success hello from push
	// run: success
}
